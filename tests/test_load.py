"""Load through the production stack: 20 clients on nginx (the shipped config) in front of gunicorn.

A mixed workload (303s, RDF and HTML descriptions, search, SPARQL by GET and POST, OAI-PMH) runs for
``DOCKET_LOAD_SECONDS`` (default 60, as CI runs it): p95 latency stays within ``P95_BOUND``, nothing
fails but the SPARQL endpoint's own ``429``, and the service answers normally afterwards. Then a
rebuild is published under the same load: no request fails, and every answer comes whole from the
old build or the new one (the two differ in one record's title), as its ``X-Docket-Build`` says.

Half the description requests carry a throwaway query parameter, so they pass nginx's cache and load
Docket itself; the other half are what a crawler repeating itself sees, answered from the cache.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import threading
import time
from collections import Counter
from urllib.parse import quote, urlencode

import pytest

from production_helpers import (EXAMPLE_ID, SEED_ID, Gunicorn, Nginx, build, current_build, docket_env, fetch,
                                make_records, percentile, retitle)

pytestmark = pytest.mark.slow

CLIENTS = 20
SECONDS = float(os.environ.get("DOCKET_LOAD_SECONDS", "60"))
# p95 over the whole mix, on a 2-core machine shared by nginx, two gunicorn workers with their SPARQL
# workers and the 20 client threads themselves: measured 0.9-1.3 s with other work on the machine
# (descriptions and 303s from Docket itself about 0.7 s, OAI-PMH ListRecords pages of 100 records the
# slowest); see docs/deploy.md. DOCKET_LOAD_P95 overrides it for slower or faster machines.
P95_BOUND = float(os.environ.get("DOCKET_LOAD_P95", "2.0"))
OK = {200, 303, 304}
TITLE_A = "Record of Conversation between Deputy Director Lin Haoran and the Harbour Commission Delegation"
MARK = "Quillwort"  # in the new title only; a word no other record has
TITLE_B = f"{TITLE_A}, {MARK} Session"
TITLE_QUERY = ("PREFIX dcterms: <http://purl.org/dc/terms/> SELECT ?t WHERE {{ <http://example.org/id/record/{}> "
               "dcterms:title ?t }}")
COUNT_QUERY = "PREFIX rico: <https://www.ica.org/standards/RiC/ontology#> SELECT (COUNT(?r) AS ?n) WHERE { ?r a rico:Record }"
WORDS = ["telegram", "harbour", "delegation", "negotiations", "armistice", "treaty", "Zhou", "conference"]
RDF_TYPES = ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("load")
    make_records(root, synthetic=100)
    env = docket_env(root, sparql_timeout=10, proxy_hops=1)
    build(env)
    server = Gunicorn(env, workers=2)
    try:
        proxy = Nginx(root / "nginx", server.port)
    except BaseException:
        server.stop()
        raise
    manifest = json.loads((root / "store" / "current" / "manifest.json").read_text())
    try:
        yield {"root": root, "env": env, "server": server, "proxy": proxy, "ids": sorted(manifest["records"])}
    finally:
        proxy.stop()
        server.stop()


class Tally:
    """Collect statuses, latencies and failures from the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: Counter = Counter()
        self.failures: list[str] = []
        self.by_kind: Counter = Counter()
        self.kind_latencies: dict[str, list[float]] = {}

    def add(self, kind: str, status: int | None, seconds: float, problem: str | None = None) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.latencies.append(seconds)
            self.kind_latencies.setdefault(kind, []).append(seconds)
            if status in OK:
                self.by_kind[kind] += 1
            if problem is not None:
                self.failures.append(problem)


def mixed_request(rng: random.Random, ids: list[str]) -> tuple[str, str, str, dict[str, str], bytes | None]:
    """Pick one request of the mix: (kind, method, path, headers, body)."""
    rid = rng.choice(ids)
    nonce = f"?n={rng.randrange(10**9)}" if rng.random() < 0.5 else ""
    roll = rng.random()
    if roll < 0.15:
        return "303", "GET", f"/id/record/{rid}", {"Accept": rng.choice(RDF_TYPES + ["text/html"])}, None
    if roll < 0.40:
        return "rdf", "GET", f"/doc/record/{rid}{nonce}", {"Accept": rng.choice(RDF_TYPES)}, None
    if roll < 0.55:
        return "html", "GET", f"/doc/record/{rid}.html{nonce}", {"Accept": "text/html"}, None
    if roll < 0.65:
        path = rng.choice(["/search", "/api/search"])
        return "search", "GET", f"{path}?q={quote(rng.choice(WORDS))}&page={rng.randint(1, 3)}", {}, None
    if roll < 0.75:
        query = quote(TITLE_QUERY.format(rid))
        return "sparql", "GET", f"/sparql?query={query}", {"Accept": "application/sparql-results+json"}, None
    if roll < 0.85:
        body = urlencode({"query": COUNT_QUERY}).encode()
        return "sparql", "POST", "/sparql", {"Content-Type": "application/x-www-form-urlencoded",
                                             "Accept": "application/sparql-results+json"}, body
    if roll < 0.95:
        return "oai", "GET", f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:example.org:{rid}", {}, None
    return "oai", "GET", "/oai?verb=ListRecords&metadataPrefix=oai_dc", {}, None


def client_loop(port: int, until: float, tally: Tally, seed: int, ids: list[str], check=None) -> None:
    """Send requests of the mix until ``until``; reconnect after a broken connection."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.monotonic() < until:
        kind, method, path, headers, body = (check.request(rng) if check and rng.random() < 0.3
                                             else mixed_request(rng, ids))
        started = time.monotonic()
        try:
            answer = fetch(conn, method, path, headers, body)
        except (OSError, http.client.HTTPException) as exc:
            tally.add(kind, None, time.monotonic() - started, f"{method} {path}: {exc!r}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        problem = None
        if answer.status not in OK and not (answer.status == 429 and kind.endswith("sparql")):
            problem = f"{method} {path} -> {answer.status}: {answer.body[:300]!r}"
        elif check is not None and answer.status == 200:
            problem = check.verify(kind, path, answer)
        tally.add(kind, answer.status, answer.seconds, problem)
    conn.close()


def run_clients(port: int, seconds: float, ids: list[str], check=None, while_running=None) -> Tally:
    tally = Tally()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=client_loop, args=(port, until, tally, n, ids, check), daemon=True)
               for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    if while_running is not None:
        while_running()
    for thread in threads:
        thread.join(timeout=seconds + 120)  # every request has a 60 s socket timeout
        assert not thread.is_alive(), "a client thread did not stop"
    return tally


def test_twenty_clients_for_a_minute(stack):
    proxy, server = stack["proxy"], stack["server"]
    tally = run_clients(proxy.port, SECONDS, stack["ids"])

    total = sum(tally.statuses.values())
    p95 = percentile(tally.latencies, 95)
    kinds = ", ".join(f"{k} {percentile(v, 95):.3f}" for k, v in sorted(tally.kind_latencies.items()))
    summary = (f"{total} requests in {SECONDS:.0f} s, statuses {dict(tally.statuses)}, p95 {p95:.3f} s "
               f"(by kind: {kinds})")
    assert not tally.failures, f"{len(tally.failures)} failed: {tally.failures[:5]} ({summary})"
    assert total >= CLIENTS * SECONDS, f"fewer than one request per client per second: {summary}"
    assert set(tally.by_kind) == {"303", "rdf", "html", "search", "sparql", "oai"}, summary
    assert p95 <= P95_BOUND, summary
    print(summary)

    # Recovered: one client at a time gets normal answers, quickly, from both layers.
    assert server.process.poll() is None and len(server.workers()) == 2
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
    for method, path, headers, body, status in [
        ("GET", f"/id/record/{SEED_ID}", {"Accept": "text/turtle"}, None, 303),
        ("GET", f"/doc/record/{SEED_ID}.ttl?after=1", {}, None, 200),
        ("GET", "/api/search?q=telegram", {}, None, 200),
        ("POST", "/sparql", {"Content-Type": "application/sparql-query"}, COUNT_QUERY.encode(), 200),
        ("GET", "/oai?verb=Identify", {}, None, 200),
    ]:
        answer = fetch(conn, method, path, headers, body)
        assert answer.status == status, (path, answer.status, answer.body[:300])
        assert answer.seconds < 2, (path, answer.seconds)
    conn.close()


def test_nginx_caches_negotiated_descriptions_and_303s(stack):
    conn = http.client.HTTPConnection("127.0.0.1", stack["proxy"].port, timeout=30)
    for path, accept, status in [(f"/doc/record/{SEED_ID}?cache-test", "text/turtle", 200),
                                 (f"/doc/record/{SEED_ID}?cache-test", "application/ld+json", 200),
                                 (f"/id/record/{SEED_ID}?cache-test", "text/html", 303)]:
        first = fetch(conn, "GET", path, {"Accept": accept})
        second = fetch(conn, "GET", path, {"Accept": accept})
        assert (first.status, second.status) == (status, status)
        assert first.headers["x-cache-status"] == "MISS" and second.headers["x-cache-status"] == "HIT", path
        assert second.body == first.body and second.headers.get("etag") == first.headers.get("etag")
        assert "Accept" in second.headers["vary"]
    # Each Accept keeps its own entry: Turtle is still Turtle after JSON-LD was cached.
    again = fetch(conn, "GET", f"/doc/record/{SEED_ID}?cache-test", {"Accept": "text/turtle"})
    assert again.headers["content-type"].startswith("text/turtle") and again.headers["x-cache-status"] == "HIT"
    # Revalidation by ETag reaches the client as a 304.
    etag = again.headers["etag"]
    assert fetch(conn, "GET", f"/doc/record/{SEED_ID}?cache-test",
                 {"Accept": "text/turtle", "If-None-Match": etag}).status == 304
    # POSTed queries and OAI-PMH are never cached.
    for _ in range(2):
        post = fetch(conn, "POST", "/sparql", {"Content-Type": "application/sparql-query"}, COUNT_QUERY.encode())
        assert post.status == 200 and "x-cache-status" not in post.headers
        assert fetch(conn, "GET", "/oai?verb=Identify").headers.get("x-cache-status") is None
    conn.close()


class Consistency:
    """Ask about the retitled record in four ways; note which title each answer shows, and its build."""

    def __init__(self) -> None:
        self.pairs: Counter = Counter()  # (X-Docket-Build, "A" or "B" or None) -> answers
        self.lock = threading.Lock()

    def request(self, rng: random.Random) -> tuple[str, str, str, dict[str, str], bytes | None]:
        nonce = rng.randrange(10**9)
        roll = rng.random()
        if roll < 0.25:
            return "check-rdf", "GET", f"/doc/record/{EXAMPLE_ID}.nt?n={nonce}", {}, None
        if roll < 0.5:
            return "check-search", "GET", f"/api/search?q={MARK}&n={nonce}", {}, None
        if roll < 0.75:
            body = urlencode({"query": TITLE_QUERY.format(EXAMPLE_ID)}).encode()
            return "check-sparql", "POST", "/sparql", {"Content-Type": "application/x-www-form-urlencoded"}, body
        return "check-oai", "GET", (f"/oai?verb=GetRecord&metadataPrefix=oai_dc"
                                    f"&identifier=oai:example.org:{EXAMPLE_ID}"), {}, None

    def verify(self, kind: str, path: str, answer) -> str | None:
        build = answer.headers.get("x-docket-build")
        if not build:
            return f"{path}: no X-Docket-Build"
        shows = None
        if kind.startswith("check-"):
            text = answer.body.decode("utf-8")
            if kind == "check-search":
                hits = json.loads(text)["total"]
                shows = "B" if hits == 1 else "A" if hits == 0 else f"{hits} hits"
            else:
                shows = "B" if MARK in text else "A" if TITLE_A in text else "neither title"
        with self.lock:
            self.pairs[build, shows] += 1
        return None

    def versions(self) -> dict[str, set]:
        """Return, per build named, the titles its answers showed."""
        found: dict[str, set] = {}
        for (build, shows), _ in self.pairs.items():
            found.setdefault(build, set())
            if shows is not None:
                found[build].add(shows)
        return found


def test_a_rebuild_under_load_is_seen_whole_or_not_at_all(stack):
    root, env, proxy = stack["root"], stack["env"], stack["proxy"]
    store = root / "store"
    build_a = current_build(store)
    retitle(root / "records", TITLE_A, TITLE_B)
    builder: dict = {}

    def rebuild() -> None:
        builder["done"] = build(env)

    thread = threading.Thread(target=rebuild, daemon=True)

    def start_build() -> None:
        time.sleep(3)
        thread.start()

    # The build takes about 10-15 s here; it starts 3 s into the load and ends well before the load does.
    check = Consistency()
    tally = run_clients(proxy.port, 40.0, stack["ids"], check=check, while_running=start_build)
    thread.join(timeout=300)
    assert "done" in builder, "the rebuild did not finish"
    build_b = current_build(store)
    assert build_b != build_a
    assert not tally.failures, f"{len(tally.failures)} failed: {tally.failures[:5]}"
    versions = check.versions()
    assert set(versions) == {build_a, build_b}, versions
    assert versions[build_a] == {"A"} and versions[build_b] == {"B"}, versions
    # After the switch, what Docket answers itself (not from nginx's cache) is build B.
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
    body = urlencode({"query": TITLE_QUERY.format(EXAMPLE_ID)}).encode()
    answer = fetch(conn, "POST", "/sparql", {"Content-Type": "application/x-www-form-urlencoded"}, body)
    assert answer.headers["x-docket-build"] == build_b and MARK in answer.body.decode()
    conn.close()
