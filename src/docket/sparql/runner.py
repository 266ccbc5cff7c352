"""Run SPARQL queries in worker processes that are killed when they overrun the time limit.

Neither pyoxigraph nor rdflib can interrupt a running query, so a query runs in a separate process:
a small pool of workers, started ahead of time, each holding the store open read-only. A worker opens
a build's store once and keeps it until a job names another build (``docket build`` switched), so
queries never pay for opening the store. The worker also parses and checks the query (``guard``):
rdflib's parser can take seconds on a long hostile query, and that too must end at the limit. It
serializes the whole answer before sending it, so a body is either complete or not sent at all. A
worker that overruns is SIGKILLed and reaped, and a fresh one is started at once; a query's clock
starts when its worker has loaded, so a fresh worker's start-up never counts against a query.

Workers are fresh interpreters (``python -c``), never forks: the server process holds RocksDB's
threads and locks, and multiprocessing's ``spawn`` would re-run the server's main script. They
belong to the process that created the pool and exit on their own when it goes away (their socket
closes).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from docket import formats as rdf_formats
from docket import result_formats
from docket.sparql import guard
from docket.store.base import StoreError

_RDF = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}
_SOURCE_ROOT = str(Path(__file__).resolve().parents[2])
READY = "ready"
STARTUP_TIMEOUT = 60.0  # seconds a new worker may take to load, not counted against any query


class RunnerError(RuntimeError):
    """The query could not be run; subclasses say why."""


class QueryTimeout(RunnerError):
    """The query ran past the time limit and its worker was killed."""


class RunnerBusy(RunnerError):
    """Every worker stayed busy for the whole time limit."""


class WorkerCrashed(RunnerError):
    """The worker died while running the query (out of memory, a crash in the engine)."""


@dataclass(frozen=True)
class Job:
    """What a worker needs to answer one query."""

    query: str
    store_path: str  # the build's Oxigraph store; "" when ``remote`` is set
    result_format: str | None  # a result_formats name for SELECT/ASK; None: none is acceptable
    row_cap: int
    graph_format: str | None = "turtle"  # a docket.formats name for CONSTRUCT/DESCRIBE; None: none acceptable
    union_default_graph: bool = True  # ``answer`` sets it from the query: false when it has FROM
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    base_iri: str | None = None  # relative IRIs in the query resolve against it (the endpoint's URL)
    remote: tuple[str, str | None] | None = None  # (query URL, union parameter) of a remote store


@dataclass(frozen=True)
class Outcome:
    """A worker's answer: a complete body, or the engine's error message."""

    body: bytes = b""
    rows: int = 0
    truncated: bool = False
    error: str | None = None
    # refused (by the guard; see ``status``), not_acceptable, syntax, unsupported, remote (the
    # store's failure), engine (ours)
    error_kind: str = ""
    status: int = 0
    form: str = ""  # select, ask, construct or describe, once the query was parsed


def answer(store: Any, job: Job) -> Outcome:
    """Check ``job.query`` with the guard, pick its format by its form, run it and serialize it.

    The guard runs here, inside the time limit, because rdflib's parser can take seconds on a
    long hostile query.
    """
    protocol_dataset = job.default_graphs is not None or job.named_graphs is not None
    if isinstance(store, ox.Store) and guard.may_skip_parse(job.query):
        outcome = execute(store, job)
        if outcome.error_kind != "syntax":
            return outcome
        # Oxigraph could not parse it: the full check says whether it is an update or a refusal,
        # and gives rdflib's message otherwise.
    try:
        checked = guard.check(job.query, lambda graph: _contains(store, graph), protocol_dataset=protocol_dataset)
    except guard.Refused as exc:
        return Outcome(error=str(exc), error_kind="refused", status=exc.status)
    except StoreError as exc:
        return Outcome(error=str(exc), error_kind="remote")
    fmt = job.graph_format if checked.returns_graph else job.result_format
    if fmt is None:
        return Outcome(error_kind="not_acceptable", error="no acceptable format", form=checked.form)
    job = dataclasses.replace(job, union_default_graph=not checked.has_dataset)
    outcome = execute(store, job)
    return outcome if outcome.error_kind else dataclasses.replace(outcome, form=checked.form)


def _contains(store: Any, graph: str) -> bool:
    if isinstance(store, ox.Store):
        return store.contains_named_graph(ox.NamedNode(graph))
    return bool(store.contains_graph(graph))


def execute(store: Any, job: Job) -> Outcome:
    """Run a checked ``job`` on ``store`` and serialize the answer, cut at ``job.row_cap`` rows or triples.

    ``store`` is a pyoxigraph ``Store``, or any ``TripleStore`` answering with pyoxigraph objects
    (the remote store), which knows no protocol dataset and no base IRI.
    """
    protocol_dataset = job.default_graphs is not None or job.named_graphs is not None
    try:
        if not isinstance(store, ox.Store):
            if protocol_dataset:
                return Outcome(error="default-graph-uri and named-graph-uri are not supported on a remote "
                                     "store; use FROM and FROM NAMED in the query", error_kind="unsupported")
            result = store.query(job.query, union_default_graph=job.union_default_graph)
        else:
            kwargs: dict[str, Any] = {"base_iri": job.base_iri}
            if protocol_dataset:
                kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs or ()]
                if job.named_graphs is not None:
                    kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
            else:
                kwargs["use_default_graph_as_union"] = job.union_default_graph
            result = store.query(job.query, **kwargs)
    except SyntaxError as exc:
        return Outcome(error=str(exc), error_kind="syntax")
    except StoreError as exc:
        return Outcome(error=str(exc), error_kind="remote")
    form = _form(result, job.query)
    fmt = job.graph_format if form in ("construct", "describe") else job.result_format
    if fmt is None:
        return Outcome(error_kind="not_acceptable", error="no acceptable format", form=form)
    if isinstance(result, ox.QueryBoolean):
        outcome = Outcome(result.serialize(format=result_formats.lookup(fmt).oxigraph), rows=1)
    elif isinstance(result, ox.QuerySolutions):
        outcome = _solutions(result, job)
    else:
        outcome = _triples(result, job)
    return dataclasses.replace(outcome, form=form)


def _form(result: Any, query: str) -> str:
    """Name the query's form from what it returned (the query was perhaps not parsed here)."""
    if isinstance(result, ox.QueryBoolean):
        return "ask"
    if isinstance(result, ox.QuerySolutions):
        return "select"
    # Only for messages and the choice of formats, where both are the same.
    return "describe" if re.search(r"\bDESCRIBE\b", query, re.I) and not re.search(r"\bCONSTRUCT\b", query, re.I) \
        else "construct"


def _solutions(result: ox.QuerySolutions, job: Job) -> Outcome:
    # QuerySolutions cannot be cut short and still serialized, so the kept rows are written as
    # SPARQL TSV (whose cells are exactly the terms' N-Triples forms), read back, and serialized in
    # the asked format by pyoxigraph's own writers.
    lines = ["\t".join(map(str, result.variables))]
    # A solution iterates its values in the order of ``variables``, None where unbound.
    lines += ["\t".join(["" if term is None else str(term) for term in solution])
              for solution in itertools.islice(result, job.row_cap)]
    rows = len(lines) - 1
    truncated = rows == job.row_cap and next(result, None) is not None
    tsv = ("\n".join(lines) + "\n").encode("utf-8")
    fmt = result_formats.lookup(job.result_format).oxigraph
    if fmt == ox.QueryResultsFormat.TSV:
        return Outcome(tsv, rows, truncated)
    parsed = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
    return Outcome(parsed.serialize(format=fmt), rows, truncated)


def _triples(result: Any, job: Job) -> Outcome:
    triples = []
    truncated = False
    for triple in result:
        if len(triples) >= job.row_cap:
            truncated = True
            break
        triples.append(triple)
    fmt = _RDF[rdf_formats.lookup(job.graph_format or "turtle").name]
    prefixes = job.prefixes if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
    body = ox.serialize(triples, format=fmt, prefixes=prefixes)
    return Outcome(body or b"", len(triples), truncated)


def _work(conn: Connection) -> None:
    """Answer jobs from ``conn`` until it closes; keep the store of the last build asked for open."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the server, which stops us
    store: Any = None
    path: Any = None
    try:
        conn.send(READY)  # loaded: the parent starts a query's clock only now
    except OSError:
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            wanted = job.remote or job.store_path
            if wanted != path:
                store = None  # close the old build before opening the new one
                store = _open(job)
                path = wanted
            assert store is not None
            outcome = answer(store, job)
        except Exception as exc:  # an engine error is the client's answer, not the worker's end
            outcome = Outcome(error=f"{type(exc).__name__}: {exc}", error_kind="engine")
        try:
            conn.send(outcome)
        except (BrokenPipeError, OSError):
            return


def _open(job: Job) -> Any:
    if job.remote is not None:
        from docket.store.remote import RemoteStore

        url, union_param = job.remote
        return RemoteStore(url, union_param=union_param)
    return ox.Store.read_only(job.store_path)


class _Worker:
    """One worker process, talking over a private socket pair with pickled jobs and outcomes."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        code = "import sys; from docket.sparql.runner import _main; _main(int(sys.argv[1]), int(sys.argv[2]))"
        env = dict(os.environ)
        # The worker imports docket from wherever this process did, installed or not.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (_SOURCE_ROOT, env.get("PYTHONPATH"))))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, str(theirs.fileno()), str(os.getpid())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, close_fds=True, env=env,
            )
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.ready = False  # set once the worker has said it has loaded

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
            self.process.wait(2)
        except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


def _main(fd: int, parent: int) -> None:
    """Run as a worker of process ``parent`` on the socket ``fd`` (the entry point ``_Worker`` starts)."""
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    # rdflib's parser recurses once per triple pattern: the default limit refuses long, plain queries.
    sys.setrecursionlimit(20_000)
    _work(Connection(fd))


def _watch_parent(parent: int) -> None:
    # A worker deep in a runaway query never reads its socket, so it would not notice the server
    # dying; when it is orphaned (re-parented), it ends itself. (PR_SET_PDEATHSIG would fire when
    # the *thread* that started the worker ends, which in a threaded server is any request.)
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


class QueryRunner:
    """Run jobs on a pool of ``size`` worker processes with a time limit per query.

    Thread-safe: each server thread borrows a worker for one query. A pool belongs to the process
    that made it; ``for_process`` hands each (forked) server process its own.
    """

    def __init__(self, size: int = 2, timeout: float = 30.0):
        self.size = max(1, size)
        self.timeout = timeout
        self._lock = threading.Condition()
        self._idle: list[_Worker] = []
        self._count = 0
        self._closed = False
        self.pid = os.getpid()
        for _ in range(self.size):
            self._idle.append(_Worker())
            self._count += 1

    def run(self, job: Job, timeout: float | None = None) -> Outcome:
        """Run ``job``; raise ``QueryTimeout`` (worker killed), ``RunnerBusy`` or ``WorkerCrashed``."""
        limit = self.timeout if timeout is None else timeout
        # Waiting for a free worker may take up to the limit too; the query then gets the whole limit.
        worker = self._acquire(time.monotonic() + limit)
        try:
            if not worker.ready:
                if not worker.conn.poll(STARTUP_TIMEOUT) or worker.conn.recv() != READY:
                    raise OSError("the worker did not start")
                worker.ready = True
            worker.conn.send(job)
            finished = worker.conn.poll(limit)
            outcome = worker.conn.recv() if finished else None
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError) as exc:
            self._discard(worker)
            raise WorkerCrashed(f"the query worker stopped while running the query ({exc or type(exc).__name__})") from None
        except BaseException:
            self._discard(worker)
            raise
        if outcome is None:
            self._discard(worker)
            raise QueryTimeout(f"the query did not finish within {limit:g} s and was stopped")
        self._release(worker)
        return outcome

    def pids(self) -> list[int]:
        """Return the process IDs of the idle workers (tests check that none is left behind)."""
        with self._lock:
            return [w.pid for w in self._idle if w.pid is not None]

    def close(self) -> None:
        """Stop every idle worker; busy ones are stopped when their query returns."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._lock.notify_all()
        for worker in idle:
            worker.stop()

    def _acquire(self, deadline: float) -> _Worker:
        with self._lock:
            while True:
                if self._closed:
                    raise RunnerError("the query runner is closed")
                if self._idle:
                    return self._idle.pop()
                if self._count < self.size:
                    self._count += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RunnerBusy("every query worker stayed busy; try again shortly")
                self._lock.wait(remaining)
        try:
            return _Worker()
        except BaseException:
            with self._lock:
                self._count -= 1
                self._lock.notify()
            raise

    def _release(self, worker: _Worker) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(worker)
                self._lock.notify()
                return
            self._count -= 1
        worker.stop()

    def _discard(self, worker: _Worker) -> None:
        # The replacement starts now, so that it has loaded by the time the next query comes.
        worker.kill()
        with self._lock:
            if not self._closed:
                try:
                    self._idle.append(_Worker())
                    self._lock.notify()
                    return
                except OSError:
                    pass
            self._count -= 1
            self._lock.notify()
