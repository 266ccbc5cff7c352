"""/sparql survives what the internet sends: no outbound traffic, killed overruns, caps and limits."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox
import pytest

from docket.serve.sparql import runner
from sparql_helpers import BASE, app_for, publish, settings_for, shutdown

TIMEOUT = 1.5
ROW_CAP = 20
MAX_QUERY = 2000
NUMBERS = 60
# "Within the limit" allows for a loaded test machine; a hung server would take far longer.
MARGIN = 10.0
SLOW = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?o ?p }")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = settings_for(tmp_path_factory.mktemp("sparql-safety"), sparql_timeout=TIMEOUT,
                            sparql_row_cap=ROW_CAP, sparql_max_query_bytes=MAX_QUERY,
                            sparql_max_concurrent_per_client=1)
    publish(settings, numbers=NUMBERS)
    app = app_for(settings)
    yield app
    shutdown(app)


@pytest.fixture
def client(app):
    return app.test_client()


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections made to it."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.setblocking(False)
        self.port = self.socket.getsockname()[1]

    def connections(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.socket.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.socket.close()


def worker_children() -> set[int]:
    """Return the PIDs of this process's children that are query workers."""
    pids = set()
    for children in Path("/proc/self/task").glob("*/children"):
        for pid in children.read_text().split():
            if b"docket.sparql.worker" in command_line(int(pid)):
                pids.add(int(pid))
    return pids


def command_line(pid: int) -> bytes:
    # Just after exec the kernel shows an empty command line for a moment.
    deadline = time.monotonic() + 5
    while True:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return b""
        if cmdline or time.monotonic() > deadline:
            return cmdline
        time.sleep(0.01)


# --- no outbound traffic ----------------------------------------------------------------------------


SERVICE_QUERIES = [
    "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ VALUES ?e {{ <{url}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ VALUES ?e {{ <{url}> }} SERVICE SILENT ?e {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ \\u0073\\u0065rvice silent <{url}> {{ ?s ?p ?o }} }}",
    "select * where {{ service <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ ?x ?y ?z OPTIONAL {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ {{ SELECT ?s WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
    "SELECT * WHERE {{ ?x ?y ?z FILTER EXISTS {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
    "SELECT * WHERE {{ ?x ?y ?z MINUS {{ SERVICE <{url}> {{ ?x ?y ?z }} }} }}",
    "SELECT * WHERE {{ {{ ?x ?y ?z }} UNION {{ SERVICE <{url}> {{ ?x ?y ?z }} }} }}",
    "ASK {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "DESCRIBE ?s WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "PREFIX ep: <{url}> SELECT * WHERE {{ SERVICE ep: {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ GRAPH ?g {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }}",
]


@pytest.mark.parametrize("template", SERVICE_QUERIES)
@pytest.mark.parametrize("how", ["get", "form", "direct"])
def test_service_is_refused_and_nothing_connects(client, listener, template, how):
    url = f"http://127.0.0.1:{listener.port}/sparql"
    query = template.format(url=url)
    if how == "get":
        r = client.get("/sparql", query_string={"query": query})
    elif how == "form":
        r = client.post("/sparql", data={"query": query})
    else:
        r = client.post("/sparql", data=query, content_type="application/sparql-query")
    assert r.status_code == 400, r.data
    assert "SERVICE is not allowed" in r.get_json()["detail"]
    time.sleep(0.05)
    assert listener.connections() == 0


def test_the_listener_would_see_a_connection(listener):
    # The control: a connection to it is counted, so a zero above means none was made.
    with socket.create_connection(("127.0.0.1", listener.port), timeout=2):
        pass
    time.sleep(0.05)
    assert listener.connections() == 1


@pytest.mark.parametrize("template", [
    "SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}",
    "SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "PREFIX ext: <{url}/> SELECT * FROM ext:data WHERE {{ ?s ?p ?o }}",
    "SELECT * FROM <" + BASE + "graph/authorities> FROM <{url}> WHERE {{ ?s ?p ?o }}",
    "ASK FROM <{url}> {{ }}",
    "CONSTRUCT WHERE {{ ?s ?p ?o }} ",
])
def test_from_outside_the_store_is_refused(client, listener, template):
    url = f"http://127.0.0.1:{listener.port}/data"
    query = template.format(url=url)
    r = client.get("/sparql", query_string={"query": query})
    if "FROM" not in query:
        assert r.status_code == 200  # the control: the same query without FROM runs
        return
    assert r.status_code == 400, r.data
    assert "FROM/FROM NAMED" in r.get_json()["detail"] and url in r.get_json()["detail"]
    time.sleep(0.05)
    assert listener.connections() == 0


def test_protocol_graphs_are_only_looked_up_in_the_store(client, listener):
    # default-graph-uri naming an unknown graph selects an empty graph (the W3C tests require
    # that); it is a name, never fetched.
    url = f"http://127.0.0.1:{listener.port}/data"
    r = client.get(f"/sparql?query={quote('SELECT * WHERE { ?s ?p ?o }')}&default-graph-uri={quote(url)}")
    assert r.status_code == 200
    assert json.loads(r.data)["results"]["bindings"] == []
    time.sleep(0.05)
    assert listener.connections() == 0


@pytest.mark.parametrize("update", ["LOAD <{url}>", "LOAD SILENT <{url}> INTO GRAPH <http://example.org/g>",
                                    "INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"])
def test_load_is_refused(client, listener, update):
    url = f"http://127.0.0.1:{listener.port}/data"
    text = update.format(url=url)
    assert client.post("/sparql", data=text, content_type="application/sparql-update").status_code == 403
    assert client.post("/sparql", data={"update": text}).status_code == 403
    assert client.get("/sparql", query_string={"query": text}).status_code == 400
    time.sleep(0.05)
    assert listener.connections() == 0


# --- time limit -------------------------------------------------------------------------------------


def test_timeout_kills_the_worker_and_answers_503(app, client):
    client.get("/sparql", query_string={"query": "ASK {}"})  # the pool is up
    pool = runner(app)
    before = set(pool.pids())
    assert before and before <= worker_children()
    started = time.monotonic()
    r = client.get("/sparql", query_string={"query": SLOW})
    elapsed = time.monotonic() - started
    assert r.status_code == 503
    assert int(r.headers["Retry-After"]) >= 1
    assert "did not finish within" in r.get_json()["detail"]
    assert TIMEOUT <= elapsed < TIMEOUT + MARGIN
    killed = before - set(pool.pids())
    assert len(killed) == 1
    for pid in killed:
        assert not Path(f"/proc/{pid}").exists(), "the timed-out worker is still there"
    # Nothing left spinning: the only workers are the pool's idle ones.
    assert worker_children() == set(pool.pids())
    # And the endpoint still answers.
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200


@pytest.mark.parametrize("query", [
    'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o . ?a ?b ?c . FILTER(REGEX(CONCAT(STR(?o), STR(?c), "aaaaaaaaaaaaaaaaaaaaaaaaaaaa!"), "^(a+)+$")) }',
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?a (!<urn:x:none>|^!<urn:x:none>)* ?b . ?c (<urn:x:none>|!<urn:x:none>)* ?d }",
    "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l } OFFSET 1000000000000",
    "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i LIMIT 1",
])
def test_hostile_queries_end_within_the_limit(client, query):
    started = time.monotonic()
    r = client.get("/sparql", query_string={"query": query})
    assert time.monotonic() - started < TIMEOUT + MARGIN
    assert r.status_code in (200, 503), r.data
    if r.status_code == 200:
        json.loads(r.data)  # a complete body
    else:
        assert "Retry-After" in r.headers
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200


def test_a_query_over_the_memory_limit_answers_503_and_the_endpoint_goes_on(tmp_path):
    others = worker_children()  # other tests' apps' workers
    settings = settings_for(tmp_path, sparql_worker_memory=64, sparql_workers=1)
    publish(settings, numbers=NUMBERS)
    app = app_for(settings)
    try:
        client = app.test_client()
        assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
        large = ("SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i "
                 "BIND(CONCAT(STR(?a), STR(?d), STR(?g), STR(?c)) AS ?x) }")
        r = client.get("/sparql", query_string={"query": large}, headers={"Accept": "application/json"})
        assert r.status_code == 503
        assert "Retry-After" not in r.headers  # the same query would end the same way
        assert "more memory than a query worker may use (64 MB)" in r.get_json()["detail"]
        assert worker_children() - others == set(runner(app).pids())  # the worker that ended was reaped
        assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
    finally:
        shutdown(app)


def test_a_query_slow_to_parse_is_stopped_too(app):
    # rdflib's parser needs many seconds for this 80 KB expression; the check runs in the worker,
    # so the time limit covers it.
    from docket.sparql.runner import Job, QueryRunner, QueryTimeout

    store = str(app.extensions["docket.store"].get().path)
    pool = QueryRunner(1, timeout=1.0)
    try:
        pool.run(Job("ASK {}", store, "json", 5))
        started = time.monotonic()
        with pytest.raises(QueryTimeout):
            pool.run(Job("ASK { FILTER(" + " + ".join(["1"] * 20_000) + " > 0) }", store, "json", 5))
        assert time.monotonic() - started < 1.0 + MARGIN
    finally:
        pool.close()


# --- row cap ----------------------------------------------------------------------------------------


NUMBERS_QUERY = f"SELECT ?n ?v WHERE {{ ?n <{BASE}value> ?v }}"


@pytest.mark.parametrize("accept, fmt", [("application/sparql-results+json", ox.QueryResultsFormat.JSON),
                                         ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
                                         ("text/tab-separated-values", ox.QueryResultsFormat.TSV),
                                         ("text/csv", ox.QueryResultsFormat.CSV)])
def test_row_cap_cuts_and_says_so(client, accept, fmt):
    r = client.get("/sparql", query_string={"query": NUMBERS_QUERY}, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["SPARQL-Truncated"] == "true"
    assert r.headers["SPARQL-Row-Cap"] == str(ROW_CAP)
    assert "SPARQL-Truncated" in r.headers["Access-Control-Expose-Headers"]
    if fmt == ox.QueryResultsFormat.CSV:
        assert len(r.data.decode().strip().splitlines()) == ROW_CAP + 1
    else:
        assert len(list(ox.parse_query_results(r.data, format=fmt))) == ROW_CAP


def test_row_cap_not_reached_says_nothing(client):
    r = client.get("/sparql", query_string={"query": NUMBERS_QUERY + f" LIMIT {ROW_CAP}"})
    assert len(json.loads(r.data)["results"]["bindings"]) == ROW_CAP
    assert "SPARQL-Truncated" not in r.headers


@pytest.mark.parametrize("accept, fmt", [("text/turtle", ox.RdfFormat.TURTLE), ("application/ld+json", ox.RdfFormat.JSON_LD),
                                         ("application/rdf+xml", ox.RdfFormat.RDF_XML)])
def test_row_cap_cuts_graphs(client, accept, fmt):
    r = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": accept})
    assert r.headers["SPARQL-Truncated"] == "true"
    assert len(list(ox.parse(r.data, format=fmt))) == ROW_CAP


# --- sizes ------------------------------------------------------------------------------------------


def long_query() -> str:
    return "SELECT * WHERE { ?s ?p ?o } #" + "x" * MAX_QUERY


def test_long_query_by_get_is_413(client):
    r = client.get("/sparql", query_string={"query": long_query()})
    assert r.status_code == 413
    assert str(MAX_QUERY) in r.get_json()["detail"]


def test_long_query_by_post_is_413(client):
    assert client.post("/sparql", data=long_query(), content_type="application/sparql-query").status_code == 413
    assert client.post("/sparql", data={"query": long_query()}).status_code == 413


def test_large_body_is_413_before_it_is_read(client):
    body = b"ASK {} #" + b"x" * (MAX_QUERY + 10_000)
    r = client.post("/sparql", data=body, content_type="application/sparql-query")
    assert r.status_code == 413
    assert "body" in r.get_json()["detail"]


def test_query_just_under_the_limit_runs(client):
    query = "ASK {} #"
    query += "x" * (MAX_QUERY - len(query))
    assert client.get("/sparql", query_string={"query": query}).status_code == 200


# --- concurrency --------------------------------------------------------------------------------------


def test_too_many_queries_from_one_client_is_429(app):
    limiter_key = "docket.sparql.limiter"
    slow_result = {}

    def slow():
        slow_result["r"] = app.test_client().get("/sparql", query_string={"query": SLOW},
                                                 environ_base={"REMOTE_ADDR": "192.0.2.7"})

    thread = threading.Thread(target=slow)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while app.extensions.get(limiter_key) is None or "192.0.2.7" not in app.extensions[limiter_key]._running:
            assert time.monotonic() < deadline, "the slow query never started"
            time.sleep(0.01)
        # A text not asked before: an answer from the cache runs no query and is never refused.
        r = app.test_client().get("/sparql", query_string={"query": "ASK {} # a second query"},
                                  environ_base={"REMOTE_ADDR": "192.0.2.7"})
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) >= 1
        other = app.test_client().get("/sparql", query_string={"query": "ASK {}"},
                                      environ_base={"REMOTE_ADDR": "192.0.2.8"})
        assert other.status_code == 200
    finally:
        thread.join(60)
    assert slow_result["r"].status_code == 503
    again = app.test_client().get("/sparql", query_string={"query": "ASK {}"}, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert again.status_code == 200


def test_orphaned_worker_ends_itself(app, tmp_path):
    # A server process killed outright (SIGKILL, OOM) leaves its worker mid-query; the worker notices.
    import signal
    import subprocess
    import sys

    store = app.extensions["docket.store"].get().path
    script = tmp_path / "orphan.py"
    script.write_text(
        "from docket.sparql.runner import QueryRunner, Job\n"
        "r = QueryRunner(1, timeout=60)\n"
        f"r.run(Job('ASK {{}}', {str(store)!r}, 'json', 5))\n"
        "print(r.pids()[0], flush=True)\n"
        f"r.run(Job({SLOW!r}, {str(store)!r}, 'json', 5))\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(parent.stdout.readline())
        time.sleep(0.5)
        assert Path(f"/proc/{worker}").exists()
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(5)
        parent.stdout.close()
    deadline = time.monotonic() + MARGIN
    while True:
        try:
            state = Path(f"/proc/{worker}/stat").read_text().split()[2]
        except OSError:
            break  # gone
        if state == "Z":
            break  # ended; only waiting to be reaped by init
        assert time.monotonic() < deadline, "the orphaned worker is still running"
        time.sleep(0.1)


def test_no_workers_left_after_shutdown(tmp_path):
    settings = settings_for(tmp_path, sparql_workers=2)
    publish(settings)
    app = app_for(settings)
    assert app.test_client().get("/sparql", query_string={"query": "ASK {}"}).status_code == 200
    pids = set(runner(app).pids())
    assert pids
    shutdown(app)
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists()


def test_workers_follow_a_build_switch(tmp_path):
    import datetime as dt

    settings = settings_for(tmp_path, sparql_workers=1)
    publish(settings)
    app = app_for(settings)
    client = app.test_client()
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    try:
        first = int(json.loads(client.get("/sparql", query_string={"query": count}).data)["results"]["bindings"][0]["n"]["value"])
        pids = set(runner(app).pids())
        publish(settings, numbers=5, now=dt.datetime(2026, 2, 1, tzinfo=dt.timezone.utc))
        second = int(json.loads(client.get("/sparql", query_string={"query": count}).data)["results"]["bindings"][0]["n"]["value"])
        assert second >= first + 5
        assert set(runner(app).pids()) == pids  # the same worker reopened the new build
    finally:
        shutdown(app)
