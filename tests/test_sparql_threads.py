"""A query worker runs several queries at once; an overrun, a crash or a query too large for its memory
costs the others nothing but time.

The queries held in flight go to a stand-in remote SPARQL store on 127.0.0.1 that answers only when
the test opens its gate, so which queries are running when a worker is killed is certain, not timed.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from docket.sparql.runner import Job, QueryRunner, QueryTimeout, QueryTooLarge, RunnerBusy, WorkerCrashed
from docket.heap import own_memory
from sparql_helpers import app_for, publish, settings_for, shutdown

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?o ?p }"
WAIT = 30.0  # generous: a hung test fails, a loaded machine does not
# A set of millions of strings: hundreds of MB within seconds on the test store.
LARGE = ("SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { GRAPH ?g1 { ?a ?b ?c } GRAPH ?g2 { ?d ?e ?f } "
         "GRAPH ?g3 { ?g ?h ?i } BIND(CONCAT(STR(?a), STR(?d), STR(?g), STR(?c)) AS ?x) }")
MEMORY_MB = 64  # a worker's own memory is about 25 MB once it has answered a query


class GatedStore:
    """A SPARQL endpoint answering every ASK with true, once its gate is open."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.requests = 0
        self._seen = threading.Condition()
        store = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with store._seen:
                    store.requests += 1
                    store._seen.notify_all()
                store.gate.wait(WAIT)
                body = b'{"head": {}, "boolean": true}'
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/sparql-results+json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the worker that asked was killed meanwhile

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, requests: int) -> None:
        with self._seen:
            assert self._seen.wait_for(lambda: self.requests >= requests, WAIT), \
                f"{self.requests} of {requests} queries reached the store"

    def job(self) -> Job:
        return Job("ASK {}", "", "json", 5, remote=(self.url, None))


@pytest.fixture
def remote():
    store = GatedStore()
    yield store
    store.gate.set()
    store.server.shutdown()
    store.server.server_close()


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    settings = settings_for(tmp_path_factory.mktemp("sparql-threads"))
    publish(settings, numbers=60)
    app = app_for(settings)
    yield str(app.extensions["docket.store"].get().path)
    shutdown(app)


class InBackground:
    """Run ``pool.run(job)`` on a thread; ``result()`` returns its outcome or raises its error."""

    def __init__(self, pool: QueryRunner, job: Job, timeout: float | None = None) -> None:
        self.outcome = None
        self.error: BaseException | None = None
        self.ended = 0.0
        self.thread = threading.Thread(target=self._run, args=(pool, job, timeout))
        self.thread.start()

    def _run(self, pool: QueryRunner, job: Job, timeout: float | None) -> None:
        try:
            self.outcome = pool.run(job, timeout)
        except BaseException as exc:  # handed to the test thread
            self.error = exc
        self.ended = time.monotonic()

    def result(self):
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the query never returned"
        if self.error is not None:
            raise self.error
        return self.outcome


@pytest.fixture
def pool():
    runners: list[QueryRunner] = []

    def make(**kwargs) -> QueryRunner:
        runners.append(QueryRunner(**kwargs))
        return runners[-1]

    yield make
    for made in runners:
        made.close()


def test_one_worker_runs_two_queries_at_once(pool, remote, store_path):
    runner = pool(size=1, timeout=WAIT, threads=2)
    held = InBackground(runner, remote.job())
    remote.wait_for(1)
    # The only worker is busy with the held query, and still answers another.
    quick = runner.run(Job("ASK { ?s ?p ?o }", store_path, "json", 5))
    assert quick.error is None and b"true" in quick.body
    assert len(runner.pids()) == 1
    remote.gate.set()
    assert b"true" in held.result().body
    assert remote.requests == 1


def test_an_overrun_kills_its_worker_and_the_other_query_is_sent_again(pool, remote, store_path):
    runner = pool(size=1, timeout=WAIT, threads=2)
    held = InBackground(runner, remote.job())
    remote.wait_for(1)
    (first,) = runner.pids()
    with pytest.raises(QueryTimeout):
        runner.run(Job(SLOW, store_path, "json", 5), timeout=1.0)
    assert first not in runner.pids()
    remote.wait_for(2)  # the held query, lost with the killed worker, asked again from a fresh one
    remote.gate.set()
    outcome = held.result()
    assert outcome.error is None and b"true" in outcome.body
    assert remote.requests == 2
    assert not os.path.exists(f"/proc/{first}")


def test_the_query_sent_again_keeps_only_the_time_it_had_left(pool, remote, store_path):
    # Lost after 5 of its 6 seconds, the held query has 1 left on its new worker: it ends at about
    # 6 s (plus the new worker's start-up, which is not counted), not at 5 + 6 = 11.
    runner = pool(size=1, timeout=WAIT, threads=2)
    started = time.monotonic()
    held = InBackground(runner, remote.job(), timeout=6.0)
    remote.wait_for(1)
    with pytest.raises(QueryTimeout):
        runner.run(Job(SLOW, store_path, "json", 5), timeout=5.0)
    remote.wait_for(2)
    with pytest.raises(QueryTimeout):  # the gate stays shut
        held.result()
    assert held.ended - started < 9.0


def test_a_crash_among_several_queries_runs_each_again_on_a_worker_of_its_own(pool, remote):
    runner = pool(size=1, timeout=WAIT, threads=2)
    held = [InBackground(runner, remote.job()) for _ in range(2)]
    remote.wait_for(2)
    (first,) = runner.pids()
    os.kill(first, signal.SIGKILL)  # as the kernel's OOM killer would
    remote.wait_for(4)
    assert len(runner.pids()) == 3  # the pool's replacement and one worker for each query
    remote.gate.set()
    for query in held:
        assert b"true" in query.result().body
    (replacement,) = runner.pids()  # the queries' own workers are stopped once they have answered
    assert replacement != first


def test_a_query_that_dies_again_on_a_worker_of_its_own_fails(pool, remote):
    runner = pool(size=1, timeout=WAIT, threads=2)
    held = [InBackground(runner, remote.job()) for _ in range(2)]
    remote.wait_for(2)
    (first,) = runner.pids()
    os.kill(first, signal.SIGKILL)
    remote.wait_for(4)
    for pid in runner.pids()[1:]:  # each query's own worker, not the pool's replacement
        os.kill(pid, signal.SIGKILL)
    for query in held:
        with pytest.raises(WorkerCrashed):
            query.result()
    assert remote.requests == 4


@pytest.mark.parametrize("threads", [1, 2])
def test_alone_on_its_worker_a_crashing_query_fails_at_once(pool, remote, threads):
    runner = pool(size=1, timeout=WAIT, threads=threads)
    held = InBackground(runner, remote.job())
    remote.wait_for(1)
    os.kill(runner.pids()[0], signal.SIGKILL)
    with pytest.raises(WorkerCrashed):
        held.result()
    assert remote.requests == 1


# --- memory -----------------------------------------------------------------------------------------


def test_a_query_over_the_memory_limit_is_stopped_and_the_worker_replaced(pool, store_path):
    runner = pool(size=1, timeout=WAIT, threads=2, memory_mb=MEMORY_MB)
    runner.run(Job("ASK {}", store_path, "json", 5))
    (first,) = runner.pids()
    with pytest.raises(QueryTooLarge, match=f"more memory than a query worker may use \\({MEMORY_MB} MB\\)"):
        runner.run(Job(LARGE, store_path, "json", 5))
    assert first not in runner.pids()
    assert b"true" in runner.run(Job("ASK {}", store_path, "json", 5)).body


def test_a_query_sharing_a_worker_with_one_too_large_is_answered(pool, remote, store_path):
    runner = pool(size=1, timeout=WAIT, threads=2, memory_mb=MEMORY_MB)
    held = InBackground(runner, remote.job())
    remote.wait_for(1)
    large = InBackground(runner, Job(LARGE, store_path, "json", 5))
    # Both ran on the worker when it ended: each runs again alone, and only the large one is refused.
    remote.wait_for(2)
    remote.gate.set()
    assert b"true" in held.result().body
    with pytest.raises(QueryTooLarge):
        large.result()


def test_without_a_limit_the_query_runs(pool, store_path):
    runner = pool(size=1, timeout=WAIT, threads=1, memory_mb=0)
    assert b'"n"' in runner.run(Job(LARGE, store_path, "json", 5)).body


def test_an_idle_worker_hands_back_what_its_queries_freed(pool, store_path):
    runner = pool(size=1, timeout=WAIT, threads=1, memory_mb=0)
    runner.run(Job("ASK {}", store_path, "json", 5))
    (pid,) = runner.pids()
    before = own_memory(pid)
    if before is None:
        pytest.skip("no /proc here")
    peak = before
    running = InBackground(runner, Job(LARGE, store_path, "json", 5))
    while running.thread.is_alive():
        peak = max(peak, own_memory(pid) or 0)
        time.sleep(0.01)
    running.result()
    assert peak > before + 60 * 2**20  # the query did take memory
    deadline = time.monotonic() + 5
    while own_memory(pid) > before + 16 * 2**20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert own_memory(pid) <= before + 16 * 2**20, f"{own_memory(pid) / 2**20:.0f} MB kept, {before / 2**20:.0f} before"


def test_queries_beyond_the_threads_wait_for_one(pool, remote, store_path):
    runner = pool(size=1, timeout=1.0, threads=1)
    held = InBackground(runner, remote.job(), timeout=WAIT)
    remote.wait_for(1)
    with pytest.raises(RunnerBusy):
        runner.run(Job("ASK {}", store_path, "json", 5))
    remote.gate.set()
    assert b"true" in held.result().body


def test_rdflib_parses_take_turns_on_a_workers_threads(monkeypatch):
    # rdflib's parser is not thread-safe: two parses at once in a fresh worker failed a valid query
    # with "Param.postParse2() missing 1 required positional argument". The guard makes them take turns.
    import rdflib.plugins.sparql.parser as rdflib_parser

    from docket.sparql import guard

    real = rdflib_parser.parseQuery
    inside, most = [0], [0]
    lock = threading.Lock()

    def watched(text):
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.05)  # long enough for every other thread to arrive
        try:
            return real(text)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(rdflib_parser, "parseQuery", watched)
    guard._parse.cache_clear()  # a text parsed earlier in the session would not be parsed again
    texts = [f"SELECT * FROM <http://example.org/g{n}> WHERE {{ ?s ?p ?o }}" for n in range(4)]
    answers: list = []
    threads = [threading.Thread(target=lambda t=t: answers.append(guard.check(t).form)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert answers == ["select"] * 4
    assert most[0] == 1
