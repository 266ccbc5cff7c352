"""A query worker runs several queries at once; an overrun or a crash costs the others nothing but time.

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

from docket.sparql.runner import Job, QueryRunner, QueryTimeout, RunnerBusy, WorkerCrashed
from sparql_helpers import app_for, publish, settings_for, shutdown

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?o ?p }"
WAIT = 30.0  # generous: a hung test fails, a loaded machine does not


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


def test_a_crash_among_several_queries_gives_each_one_more_worker(pool, remote):
    runner = pool(size=1, timeout=WAIT, threads=2)
    held = [InBackground(runner, remote.job()) for _ in range(2)]
    remote.wait_for(2)
    (first,) = runner.pids()
    os.kill(first, signal.SIGKILL)  # as the kernel's OOM killer would
    remote.wait_for(4)
    remote.gate.set()
    for query in held:
        assert b"true" in query.result().body
    assert runner.pids() and first not in runner.pids()


def test_a_query_whose_second_worker_dies_too_fails(pool, remote):
    runner = pool(size=1, timeout=WAIT, threads=2)
    held = InBackground(runner, remote.job())
    for asked in (1, 2):
        remote.wait_for(asked)
        (worker,) = runner.pids()
        os.kill(worker, signal.SIGKILL)
    with pytest.raises(WorkerCrashed):
        held.result()


def test_alone_on_its_worker_a_crashing_query_fails_at_once(pool, remote):
    runner = pool(size=1, timeout=WAIT, threads=1)
    held = InBackground(runner, remote.job())
    remote.wait_for(1)
    os.kill(runner.pids()[0], signal.SIGKILL)
    with pytest.raises(WorkerCrashed):
        held.result()
    assert remote.requests == 1


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
