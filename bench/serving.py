"""Time serving SYNTHETIC records: Docket under gunicorn against a bare Oxigraph server on the same store.

One run: generate N records, publish them with ``docket build`` (base URI = the address Docket will
bind), then on 127.0.0.1 start

- Docket's production server (``docket serve --no-build``: gunicorn, one worker per core), and
- ``oxigraph serve-read-only --union-default-graph`` on the SAME store files (the current build's
  ``oxigraph/`` folder; Docket's /sparql also treats the default graph as the union of the graphs),

and load them with 1, 4 and 16 concurrent clients (threads, one keep-alive connection each, a fixed
duration and a cap on requests per cell; the two servers take turns in short rounds, so background
load on a shared machine touches both alike) for:

(a) a record as Turtle: Docket's ``/doc/record/{id}.ttl`` against the same CONSTRUCT
    (``docket.serve.describe.record_query``) sent to the bare server;
(b) the record's HTML page (Docket only; compared with Docket's own Turtle);
(c) a SPARQL query mix, the same queries to both: describe a record, records by sender, count per
    year, date range, a 2-hop join, a text filter -- with query texts the servers have seen before and
    with every text new (Docket answers a text it has answered on the same build from its cache); and
    each query alone, one client, every text new.

It also records each server's memory (RSS and PSS summed over its process tree, idle and peak under
load, and 2 s after the load) and cold start (process start to first answered request, median of a few starts).
Prints a markdown section and writes it into ``docs/benchmarks.md``, replacing only its own section.
Run ``python -m bench serving --records 10000`` (``--keep DIR`` keeps the store; ``--store DIR/.../store``
measures a kept store again without rebuilding). Nothing here is a test: no figure is asserted.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.metadata
import itertools
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from bench.ingest import REPO, PeakSampler, machine
from bench.page import DOC, write_section
from bench.procs import largest_rss_by_depth_kb, largest_rss_kb, process_count, tree_pss_kb, tree_rss_kb

HEADING = "## Serving benchmark: "
TURTLE = "text/turtle"
RESULTS_JSON = "application/sparql-results+json"
PREFIXES = ("PREFIX rico: <https://www.ica.org/standards/RiC/ontology#>\n"
            "PREFIX dcterms: <http://purl.org/dc/terms/>\n"
            "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n")


# --- processes ----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def oxigraph_binary() -> str:
    beside = Path(sys.executable).with_name("oxigraph")
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if not found:
        raise SystemExit("the `oxigraph` server program is not installed (pip install oxigraph; "
                         "it is in Docket's test extras)")
    return found


class Server:
    """A server process (own session, so its whole tree can be stopped by its group id) on 127.0.0.1."""

    def __init__(self, name: str, command: list[str], port: int, env: dict[str, str], log: Path):
        self.name, self.command, self.port, self.env, self.log = name, command, port, env, log
        self.process: subprocess.Popen | None = None
        self.started = 0.0

    def start(self) -> None:
        self._out = open(self.log, "ab")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(self.command, env=self.env, stdout=self._out, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def wait_for(self, path: str, accept: str, seconds: float = 60.0) -> float:
        """Poll ``path`` until it answers 200; return the seconds since the process started."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log}:\n"
                                   + self.log.read_text(errors="replace")[-2000:])
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", path, headers={"Accept": accept})
                response = conn.getresponse()
                response.read()
                conn.close()
                if response.status == 200:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.005)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {path} within {seconds} s; see {self.log}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        try:  # query workers leave on their own once the server is gone; make sure of it
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._out.close()
        self.process = None


def docket_server(store: Path, base: str, port: int, workers: int, max_per_client: int, log: Path) -> Server:
    env = dict(os.environ)
    env.update({"DOCKET_STORE_DIR": str(store), "DOCKET_BASE_URI": base,
                "DOCKET_SPARQL_MAX_CONCURRENT_PER_CLIENT": str(max_per_client)})
    command = [sys.executable, "-c", "from docket.cli import main; main()", "serve", "--no-build",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return Server("Docket", command, port, env, log)


def oxigraph_server(location: Path, port: int, log: Path) -> Server:
    command = [oxigraph_binary(), "serve-read-only", "--location", str(location),
               "--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    return Server("Oxigraph", command, port, dict(os.environ), log)


# --- the store ----------------------------------------------------------------------------------------

def build_store(work: Path, count: int, base: str) -> Path:
    """Generate ``count`` synthetic records and publish them with ``docket build``; return the store folder."""
    from bench.synthetic import write_json

    records = work / "records"
    write_json(records, count)
    store = work / "store"
    env = dict(os.environ)
    env.update({
        "DOCKET_DATA_DIR": str(REPO / "data"), "DOCKET_AUTHORITIES_DIR": str(REPO / "data/authorities"),
        "DOCKET_RIGHTS_TABLE": str(REPO / "data/rights.csv"), "DOCKET_ONTOLOGY_DIR": str(REPO / "ontology"),
        "DOCKET_SHAPES_DIR": str(REPO / "shapes"), "DOCKET_STORE_DIR": str(store),
        "DOCKET_REGISTRY_PATH": str(work / "id-registry.json"), "DOCKET_RECORDS_DIR": str(records),
        "DOCKET_BASE_URI": base,
    })
    command = [sys.executable, "-c", "from docket.cli import main; main()", "build", "--full", str(records)]
    log = work / "build.log"
    with open(log, "wb") as out:
        code = subprocess.run(command, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
    text = log.read_text(encoding="utf-8", errors="replace")
    if code not in (0, 1) or not (store / "current").exists():
        raise RuntimeError(f"docket build failed with exit code {code}:\n{text[-2000:]}")
    return store


def record_ids(store: Path) -> list[str]:
    manifest = json.loads((store / "current" / "manifest.json").read_text(encoding="utf-8"))
    return sorted(manifest["records"])


# --- requests -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    path: str
    accept: str
    label: str = ""
    fresh: bool = False  # append a comment numbering the request, so no two query texts are alike


def sparql_path(endpoint: str, query: str) -> str:
    return endpoint + "?" + urllib.parse.urlencode({"query": query})


def ask(port: int, path: str, accept: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers={"Accept": accept})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path[:200]} answered {response.status}: {body[:500]!r}")
        return body
    finally:
        conn.close()


def select(port: int, endpoint: str, query: str) -> list[dict]:
    return json.loads(ask(port, sparql_path(endpoint, query), RESULTS_JSON))["results"]["bindings"]


def query_mix(port: int, endpoint: str, ids: list[str], base: str, rng: random.Random,
              size: int = 10) -> dict[str, list[str]]:
    """Return ``size`` variants of each query of the mix, their parameters drawn from the store."""
    senders = [b["s"]["value"] for b in select(port, endpoint, PREFIXES + (
        "SELECT ?s (COUNT(?r) AS ?n) WHERE { ?r rico:hasSender ?s } GROUP BY ?s ORDER BY DESC(?n) ?s LIMIT 200"))]
    records = [f"{base}id/record/{i}" for i in rng.sample(ids, min(size, len(ids)))]
    words = ("telegram", "memorandum", "letter", "minutes", "report", "cable")
    mix: dict[str, list[str]] = {
        "describe a record": [f"DESCRIBE <{r}>" for r in records],
        "records by sender": [PREFIXES + f"SELECT ?record ?title WHERE {{ ?record rico:hasSender <{s}> ; "
                              "dcterms:title ?title } ORDER BY ?title LIMIT 100"
                              for s in rng.sample(senders, min(size, len(senders)))],
        "count per year": [PREFIXES + "SELECT ?year (COUNT(DISTINCT ?record) AS ?records) WHERE { "
                           "?record a rico:Record ; dcterms:date ?date . BIND(SUBSTR(STR(?date), 1, 4) AS ?year) } "
                           "GROUP BY ?year ORDER BY ?year"],
        "date range": [PREFIXES + "SELECT ?record ?date WHERE { ?record a rico:Record ; dcterms:date ?date "
                       f'FILTER(?date >= "{y}-01-01"^^xsd:date && ?date < "{y}-07-01"^^xsd:date) }} '
                       "ORDER BY ?date ?record LIMIT 100" for y in rng.sample(range(1946, 1991), min(size, 45))],
        "2-hop join": [PREFIXES + f"SELECT DISTINCT ?other ?title WHERE {{ <{r}> rico:hasSender ?who . "
                       "?other rico:hasAddressee ?who ; dcterms:title ?title } ORDER BY ?other LIMIT 100"
                       for r in records],
        "text filter": [PREFIXES + "SELECT ?record ?title WHERE { ?record a rico:Record ; dcterms:title ?title . "
                        f'FILTER(CONTAINS(LCASE(STR(?title)), "{w}")) }} LIMIT 100' for w in words],
    }
    return mix


def oai_requests(base: str, sample: list[str]) -> list[Request]:
    """GetRecord for each sampled record, with a year's ListIdentifiers and a decade's ListRecords in between."""
    host = urllib.parse.urlsplit(base).hostname
    out = []
    for n, rid in enumerate(sample):
        out.append(Request(f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:{host}:{rid}", "text/xml"))
        if n % 10 == 0:
            year = 1945 + n // 10 % 47
            out.append(Request(f"/oai?verb=ListIdentifiers&metadataPrefix=oai_dc&set=year:{year}", "text/xml"))
            out.append(Request(f"/oai?verb=ListRecords&metadataPrefix=oai_dc&set=decade:{year // 10 * 10}s",
                               "text/xml"))
    return out


def interleave(mix: dict[str, list[str]], endpoint: str, fresh: bool = False) -> list[Request]:
    """One request of each kind in turn, cycling through each kind's variants."""
    longest = max(len(v) for v in mix.values())
    out = []
    for i in range(longest):
        for label, queries in mix.items():
            q = queries[i % len(queries)]
            accept = TURTLE if q.lstrip().startswith(("DESCRIBE", "CONSTRUCT")) else RESULTS_JSON
            out.append(Request(sparql_path(endpoint, q), accept, label, fresh))
    return out


def check_same_answers(mix: dict[str, list[str]], docket_port: int, ox_port: int) -> list[str]:
    """Compare the row counts of each SELECT on both servers (the two must answer the same question)."""
    notes = []
    for label, queries in mix.items():
        q = queries[0]
        if q.lstrip().startswith(("DESCRIBE", "CONSTRUCT")):
            continue
        a, b = len(select(docket_port, "/sparql", q)), len(select(ox_port, "/query", q))
        if a != b:
            notes.append(f"{label}: Docket answered {a} rows, Oxigraph {b}")
    return notes


# --- load ---------------------------------------------------------------------------------------------

@dataclass
class Load:
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def __add__(self, other: "Load") -> "Load":
        statuses = dict(self.statuses)
        for k, v in other.statuses.items():
            statuses[k] = statuses.get(k, 0) + v
        return Load(self.clients, self.seconds + other.seconds, self.latencies + other.latencies,
                    self.errors + other.errors, statuses)

    def pct(self, p: float) -> float:
        """The ``p``-th percentile latency in milliseconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


# Numbers fresh query texts across every load of a run (warm-ups, rounds, servers): a text one
# server answered before would be answered from Docket's cache of answers.
_FRESH = itertools.count()


def run_load(port: int, requests: list[Request], clients: int, duration: float, cap: int) -> Load:
    """Send ``requests`` in turn from ``clients`` threads for ``duration`` s or ``cap`` requests, whichever first."""
    result = Load(clients)
    counter = itertools.count()
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine: list[float] = []
        errors, statuses = 0, {}
        start_gate.wait()
        while True:
            n = next(counter)  # atomic under the GIL
            if n >= cap or time.perf_counter() >= deadline[0]:
                break
            req = requests[n % len(requests)]
            t0 = time.perf_counter()
            try:
                path = f"{req.path}%0A%23+request+{next(_FRESH)}" if req.fresh else req.path
                conn.request("GET", path, headers={"Accept": req.accept})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()  # reconnects on the next request
                errors += 1
                continue
            elapsed = time.perf_counter() - t0
            if status == 200:
                mine.append(elapsed)
            else:
                errors += 1
                statuses[status] = statuses.get(status, 0) + 1
        conn.close()
        with lock:
            result.latencies.extend(mine)
            result.errors += errors
            for k, v in statuses.items():
                result.statuses[k] = result.statuses.get(k, 0) + v

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    began = time.perf_counter()
    deadline[0] = began + duration
    start_gate.wait()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - began
    return result


# --- one run ------------------------------------------------------------------------------------------

@dataclass
class Figures:
    """Everything measured in one run, keyed by workload and client count."""

    loads: dict[tuple[str, str, int], Load] = field(default_factory=dict)  # (workload, server, clients)
    per_query: dict[tuple[str, str], Load] = field(default_factory=dict)  # (query label, server)
    memory: dict[str, dict[str, float]] = field(default_factory=dict)  # server -> measure -> MB
    cold: dict[str, dict[str, float]] = field(default_factory=dict)  # server -> measure -> seconds
    processes: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def cold_starts(make, probes: list[tuple[str, str, str]], repeats: int) -> dict[str, float]:
    """Start a fresh server ``repeats`` times; the median seconds from process start to each probe's first 200."""
    times: dict[str, list[float]] = {label: [] for label, _, _ in probes}
    for _ in range(repeats):
        server = make()
        server.start()
        try:
            for label, path, accept in probes:
                times[label].append(server.wait_for(path, accept))
        finally:
            server.stop()
    return {label: statistics.median(v) for label, v in times.items()}


WORKLOADS = ("dereference", "html", "oai", "sparql", "sparql-fresh", "per-query")
ROLES = {1: "request worker (gunicorn)", 2: "SPARQL query worker"}  # depth in Docket's process tree


def measure(count: int, clients: list[int], duration: float, cap: int, workers: int, repeats: int,
            work: Path, reuse: Path | None = None, rounds: int = 5,
            only: frozenset[str] = frozenset(WORKLOADS)) -> tuple[Figures, dict[str, str]]:
    """Build (or reuse) the store, start both servers, load them; return the figures and the machine.

    ``only`` names the workloads to run (all of ``WORKLOADS`` by default): a longer look at one of them
    need not wait for the others.
    """
    figures = Figures()
    if reuse is not None:
        # A store kept by an earlier run (--keep): its base URI fixes the port Docket must bind.
        store = reuse
        base = json.loads((store / "current" / "manifest.json").read_text(encoding="utf-8"))["base_uri"]
        port = urllib.parse.urlsplit(base).port or 80
        count = len(record_ids(store))
    else:
        port = free_port()
        base = f"http://127.0.0.1:{port}/"
        t0 = time.perf_counter()
        store = build_store(work, count, base)
        _say(f"built {count} records in {time.perf_counter() - t0:.1f} s ({store})")
    ox_port = free_port()
    location = (store / "current" / "oxigraph").resolve()
    ids = record_ids(store)
    rng = random.Random(8)
    sample = rng.sample(ids, min(200, len(ids)))
    max_clients = max(clients)

    from docket.serve.describe import record_query
    from docket.uris import Minter
    from docket.config import Settings

    minter = Minter.from_settings(Settings.load(env={}, base_uri=base))
    ttl = [Request(f"/doc/record/{i}.ttl", TURTLE) for i in sample]
    html = [Request(f"/doc/record/{i}.html", "text/html") for i in sample]
    oai = oai_requests(base, sample)
    construct = [Request(sparql_path("/query", record_query(minter, i)), TURTLE) for i in sample]
    ask_all = "ASK { ?s ?p ?o }"

    def make_docket() -> Server:
        return docket_server(store, base, port, workers, max_clients, work / "docket.log")

    def make_oxigraph() -> Server:
        return oxigraph_server(location, ox_port, work / "oxigraph.log")

    figures.cold["Docket"] = cold_starts(make_docket, [
        ("first dereference", ttl[0].path, TURTLE),
        ("first /sparql answer", sparql_path("/sparql", ask_all), RESULTS_JSON)], repeats)
    figures.cold["Oxigraph"] = cold_starts(make_oxigraph, [
        ("first dereference", construct[0].path, TURTLE),
        ("first /sparql answer", sparql_path("/query", ask_all), RESULTS_JSON)], repeats)
    _say(f"cold starts: {figures.cold}")

    servers = {"Docket": make_docket(), "Oxigraph": make_oxigraph()}
    try:
        for server in servers.values():
            server.start()
        servers["Docket"].wait_for(ttl[0].path, TURTLE)
        servers["Docket"].wait_for(sparql_path("/sparql", ask_all), RESULTS_JSON)
        servers["Oxigraph"].wait_for(construct[0].path, TURTLE)
        time.sleep(1.0)
        for name, server in servers.items():
            figures.memory[name] = {"idle RSS": tree_rss_kb(server.pid) / 1024,
                                    "idle PSS": tree_pss_kb(server.pid) / 1024}
            figures.processes[name] = process_count(server.pid)

        mix = query_mix(ox_port, "/query", ids, base, rng)
        figures.notes += check_same_answers(mix, port, ox_port)
        workloads = {
            "dereference": {"Docket": ttl, "Oxigraph": construct},
            "html": {"Docket": html},
            "oai": {"Docket": oai},
            "sparql": {"Docket": interleave(mix, "/sparql"), "Oxigraph": interleave(mix, "/query")},
            "sparql-fresh": {"Docket": interleave(mix, "/sparql", True), "Oxigraph": interleave(mix, "/query", True)},
        }
        workloads = {name: per_server for name, per_server in workloads.items() if name in only}
        # Docket and Oxigraph take turns, each cell split into short rounds, so a change in the shared
        # machine's background load touches both columns of a row alike.
        peaks = {name: PeakSampler(server.pid, 0.25) for name, server in servers.items()}
        pss_peak = {name: 0.0 for name in servers}
        with peaks["Docket"], peaks["Oxigraph"]:
            for workload, per_server in workloads.items():
                for name, requests in per_server.items():
                    # Warm up: every request a few times, so each query worker has parsed each query text.
                    run_load(servers[name].port, requests, min(4, max_clients), max(1.0, duration), 4 * len(requests))
                for c in clients:
                    for _ in range(rounds):
                        for name, requests in per_server.items():
                            part = run_load(servers[name].port, requests, c, duration / rounds, cap // rounds)
                            figures.loads[(workload, name, c)] = figures.loads.get((workload, name, c), Load(c)) + part
                            pss_peak[name] = max(pss_peak[name], tree_pss_kb(servers[name].pid) / 1024)
                    for name in per_server:
                        load = figures.loads[(workload, name, c)]
                        _say(f"{workload} {name} {c} clients: {load.rate:,.0f} req/s, p50 {load.pct(50):.1f} ms, "
                             f"{load.errors} errors")
            for label, queries in mix.items() if "per-query" in only else ():
                for _ in range(rounds):
                    for name, endpoint in (("Docket", "/sparql"), ("Oxigraph", "/query")):
                        requests = interleave({label: queries}, endpoint, True)  # every query runs
                        part = run_load(servers[name].port, requests, 1, duration / 2 / rounds, cap // rounds)
                        figures.per_query[(label, name)] = figures.per_query.get((label, name), Load(1)) + part
        time.sleep(2.0)  # what each server keeps once the load is over
        for name, server in servers.items():
            # Docket's SPARQL query workers start on a worker's first query: count them now.
            figures.processes[name] = max(figures.processes[name], process_count(server.pid))
            figures.memory[name]["peak RSS"] = peaks[name].peak_mb
            figures.memory[name]["largest process, peak RSS"] = peaks[name].largest_kb / 1024
            figures.memory[name]["peak PSS"] = pss_peak[name]
            figures.memory[name]["RSS after the load"] = tree_rss_kb(server.pid) / 1024
            figures.memory[name]["largest process, RSS after the load"] = largest_rss_kb(server.pid) / 1024
            if name == "Docket":  # gunicorn's workers are the arbiter's children, query workers theirs
                after = largest_rss_by_depth_kb(server.pid)
                for depth, role in ROLES.items():
                    figures.memory[name][f"largest {role}, peak RSS"] = peaks[name].by_depth_kb.get(depth, 0) / 1024
                    figures.memory[name][f"largest {role}, RSS after the load"] = after.get(depth, 0) / 1024
    finally:
        for server in servers.values():
            server.stop()
    info = machine()
    for name in ("gunicorn", "flask", "oxigraph"):
        try:
            info[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            info[name] = "not installed"
    info["triples"] = str(json.loads((store / "current" / "manifest.json").read_text())["counts"].get("triples", "?"))
    info["records"] = str(count)
    return figures, info


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- report -------------------------------------------------------------------------------------------

def _docket_only(loads: dict, clients: list[int], workload: str, heading: str, intro: str = "") -> list[str]:
    """Return the table of a workload only Docket serves, against Docket's own Turtle dereference."""
    lines = ["", heading, ""] + ([intro, ""] if intro else []) + [
        "| clients | req/s | latency | × Docket Turtle req/s | errors |",
        "|---:|---:|---:|---:|---|",
    ]
    for c in clients:
        h, d = loads.get((workload, "Docket", c)), loads.get(("dereference", "Docket", c))
        if h is not None and d is not None:
            lines.append(f"| {c} | {h.rate:,.0f} | {_ms(h)} | {_ratio(h.rate, d.rate)} | {_errors(h)} |")
    return lines


def _ms(load: Load | None) -> str:
    return "–" if load is None else f"{load.pct(50):.1f} / {load.pct(95):.1f} / {load.pct(99):.1f}"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "–"


def _errors(*loads: Load | None) -> str:
    parts = []
    for load in loads:
        if load is None:
            continue
        detail = ", ".join(f"{n}×{s}" for s, n in sorted(load.statuses.items()))
        parts.append(f"{load.errors}" + (f" ({detail})" if detail else ""))
    return " / ".join(parts)


def section(count: int, figures: Figures, info: dict[str, str], clients: list[int], duration: float,
            cap: int, workers: int, command: str, rounds: int) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    L = figures.loads
    lines = [
        f"{HEADING}{count:,} synthetic records",
        "",
        f"Run {when} with `{command}`. Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; "
        f"Python {info['python']}, pyoxigraph {info['pyoxigraph']}, oxigraph server {info['oxigraph']}, "
        f"gunicorn {info['gunicorn']}, Flask {info['flask']}. Store: {int(info['triples']):,} triples "
        "in all the build's graphs (records, authorities, ontology, validation report).",
        "",
        "Both servers were measured in the same run, on the same store files (the current build's "
        f"`oxigraph/` folder), taking turns in {rounds} short rounds per cell, both bound to 127.0.0.1: Docket as `docket serve --no-build` "
        f"(gunicorn, {workers} workers × 4 threads, {figures.processes.get('Docket', '?')} processes with the "
        "SPARQL query workers), the baseline as `oxigraph serve-read-only --union-default-graph` "
        f"({figures.processes.get('Oxigraph', '?')} process). The load generator is Python (threads, one "
        f"keep-alive connection per client) on the same machine; each cell runs {duration:g} s or {cap:,} "
        "requests, after a short warm-up. Latencies are p50 / p95 / p99 in ms; ratios are Docket / Oxigraph "
        "(target ≥ 0.9× for throughput). Errors are non-200 answers or failed connections, Docket / Oxigraph.",
        "",
        "### (a) Dereference a record as Turtle",
        "",
        "Docket: `GET /doc/record/{id}.ttl`. Oxigraph: `GET /query` with the same CONSTRUCT Docket runs "
        "(`docket.serve.describe.record_query`), `Accept: text/turtle`. 200 records in turn.",
        "",
        "| clients | Docket req/s | Oxigraph req/s | ratio | Docket latency | Oxigraph latency | errors |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in clients:
        d, o = L.get(("dereference", "Docket", c)), L.get(("dereference", "Oxigraph", c))
        if d is None or o is None:
            continue
        lines.append(f"| {c} | {d.rate:,.0f} | {o.rate:,.0f} | {_ratio(d.rate, o.rate)} | {_ms(d)} | {_ms(o)} "
                     f"| {_errors(d, o)} |")
    lines += _docket_only(L, clients, "html", "### (b) A record's HTML page (Docket only)")
    lines += _docket_only(L, clients, "oai", "### (b′) OAI-PMH (Docket only)",
                          "`GetRecord` (oai_dc) of each sampled record, and the first page (100) of `ListIdentifiers` "
                          "for a year and of `ListRecords` (oai_dc) for a decade, in turn: what a harvester asks.")
    lines += [
        "",
        "### (c) SPARQL query mix",
        "",
        "The same queries to Docket's `/sparql` and Oxigraph's `/query`, one of each kind in turn: describe a "
        "record (DESCRIBE), records by sender, count per year, date range (half a year), a 2-hop join (records "
        "addressed to a record's sender), a text filter on titles. Parameters vary between requests "
        "(about 50 distinct query texts, sent again and again). *Repeated*: each server has seen each text "
        "before; Docket answers it from its cache of answers (`sparql_cache_bytes`: a build never changes), "
        "Oxigraph runs it again. *All new*: a numbered comment makes every query text unique, as on a public "
        "endpoint where people write their own queries: every query runs, on both servers.",
        "",
        "| clients | texts | Docket req/s | Oxigraph req/s | ratio | Docket latency | Oxigraph latency | errors |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for workload, texts in (("sparql", "repeated"), ("sparql-fresh", "all new")):
        for c in clients:
            d, o = L.get((workload, "Docket", c)), L.get((workload, "Oxigraph", c))
            if d is None or o is None:
                continue
            lines.append(f"| {c} | {texts} | {d.rate:,.0f} | {o.rate:,.0f} | {_ratio(d.rate, o.rate)} | {_ms(d)} "
                         f"| {_ms(o)} | {_errors(d, o)} |")
    lines += [
        "",
        "Each query alone, one client (every text new, so every query runs):",
        "",
        "| query | Docket req/s | Oxigraph req/s | ratio | Docket latency | Oxigraph latency |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label in dict.fromkeys(k[0] for k in figures.per_query):
        d, o = figures.per_query.get((label, "Docket")), figures.per_query.get((label, "Oxigraph"))
        if d is None or o is None:
            continue
        lines.append(f"| {label} | {d.rate:,.0f} | {o.rate:,.0f} | {_ratio(d.rate, o.rate)} | {_ms(d)} | {_ms(o)} |")
    m, cold = figures.memory, figures.cold
    lines += [
        "",
        "### Memory and cold start",
        "",
        "Memory is summed over each server's process tree from /proc: RSS (`VmRSS`, counts pages shared by "
        "forked workers and the memory-mapped store once per process) and PSS (`smaps_rollup`, shares them "
        "out); the rows \"largest process\" are the largest single process (a gunicorn worker, a query worker); "
        "\"after the load\" is 2 s after the last request. Cold start: "
        "from process start to the first 200 answer, median of the starts; the store files are in the page "
        "cache.",
        "",
        "| measure | Docket | Oxigraph | ratio |",
        "|---|---:|---:|---:|",
    ]
    for key in ("idle RSS", "peak RSS", "idle PSS", "peak PSS", "largest process, peak RSS", "RSS after the load",
                "largest process, RSS after the load"):
        a, b = m.get("Docket", {}).get(key, 0.0), m.get("Oxigraph", {}).get(key, 0.0)
        lines.append(f"| {key} (MB) | {a:,.0f} | {b:,.0f} | {_ratio(a, b)} |")
    for role in ROLES.values():
        for when in ("peak RSS", "RSS after the load"):
            key = f"largest {role}, {when}"
            if key in m.get("Docket", {}):
                lines.append(f"| {key} (MB) | {m['Docket'][key]:,.0f} | – | – |")
    for key in ("first dereference", "first /sparql answer"):
        a, b = cold.get("Docket", {}).get(key, 0.0), cold.get("Oxigraph", {}).get(key, 0.0)
        lines.append(f"| cold start to {key} (s) | {a:.2f} | {b:.3f} | {_ratio(a, b)} |")
    d4, o4 = L.get(("dereference", "Docket", 4)), L.get(("dereference", "Oxigraph", 4))
    s4, so4 = L.get(("sparql", "Docket", 4)), L.get(("sparql", "Oxigraph", 4))
    f4, fo4 = L.get(("sparql-fresh", "Docket", 4)), L.get(("sparql-fresh", "Oxigraph", 4))
    if d4 and o4 and s4 and so4 and f4 and fo4:
        lines += ["", f"Against issue 8's targets: dereference at 4 clients {_ratio(d4.rate, o4.rate)} (target ≥ 0.9×); "
                  f"query mix at 4 clients {_ratio(s4.rate, so4.rate)} repeated, {_ratio(f4.rate, fo4.rate)} all new "
                  f"(≥ 0.9×); cold start {cold.get('Docket', {}).get('first dereference', 0.0):.2f} s to the first "
                  f"dereference, {cold.get('Docket', {}).get('first /sparql answer', 0.0):.2f} s to the first SPARQL "
                  f"answer (< 1 s); the largest serving process peaked at "
                  f"{m.get('Docket', {}).get('largest process, peak RSS', 0.0):,.0f} MB RSS (request workers "
                  f"{m.get('Docket', {}).get(f'largest {ROLES[1]}, peak RSS', 0.0):,.0f} MB, query workers "
                  f"{m.get('Docket', {}).get(f'largest {ROLES[2]}, peak RSS', 0.0):,.0f} MB), the whole tree at "
                  f"{m.get('Docket', {}).get('peak RSS', 0.0):,.0f} MB, at {count:,} records (< 300 MB at 1,000,000)."]
    lines += ["", "The machine is shared: other work (test suites) may have run during the measurement, so "
              "compare the two columns of one run rather than figures across runs."]
    if figures.notes:
        lines += ["", "Differences in answers: " + "; ".join(figures.notes) + "."]
    return "\n".join(lines).rstrip() + "\n"


# --- command ------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench serving", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000, help="synthetic records to publish (10k, 100k, 1M)")
    parser.add_argument("--clients", default="1,4,16", help="concurrent clients, comma-separated")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--max-requests", type=int, default=50_000, help="most requests per measurement")
    parser.add_argument("--rounds", type=int, default=5,
                        help="split each measurement into this many rounds, the servers taking turns")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="Docket's gunicorn workers")
    parser.add_argument("--cold-starts", type=int, default=3, help="fresh starts per server for the cold start")
    parser.add_argument("--keep", type=Path, help="keep the records, store and server logs under this folder")
    parser.add_argument("--store", type=Path, help="reuse a store folder kept by an earlier run (--keep) "
                        "instead of building one; --records is then the store's count")
    parser.add_argument("--doc", type=Path, default=DOC, help="the benchmark page to update")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update the benchmark page")
    parser.add_argument("--only", help="run only these workloads, comma-separated (of: " + ", ".join(WORKLOADS)
                        + "); prints only, the page keeps its full run")
    args = parser.parse_args(argv)
    only = frozenset(WORKLOADS)
    if args.only:
        only = frozenset(w.strip() for w in args.only.split(",") if w.strip())
        if not only or only - set(WORKLOADS):
            parser.error(f"--only: unknown workload {', '.join(sorted(only - set(WORKLOADS))) or '(none)'}; "
                         f"choose from {', '.join(WORKLOADS)}")
        args.no_write = True
    if threading.current_thread() is threading.main_thread():
        # A plain `kill` should still stop the servers (the `finally` clauses), not orphan them.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    clients = sorted({int(c) for c in args.clients.split(",") if c.strip()})
    # The page names the run by its size, never by this machine's folders (--store/--keep paths).
    command = "python -m bench serving --store STORE" if args.store else f"python -m bench serving --records {args.records}"
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="docket-serving-", dir=args.keep))
    try:
        figures, info = measure(args.records, clients, args.duration, args.max_requests, args.workers,
                                args.cold_starts, work, args.store, max(1, args.rounds), only)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    count = int(info["records"])
    if args.store:
        command += f" (re-measuring the {count:,}-record store an ingest or serving run kept)"
    text = section(count, figures, info, clients, args.duration, args.max_requests, args.workers,
                   command.strip(), max(1, args.rounds))
    if not args.no_write:
        write_section(text, args.doc)
    print(text)


if __name__ == "__main__":
    main()
