"""Run SPARQL queries in worker processes that are killed when they overrun the time limit.

Neither pyoxigraph nor rdflib can interrupt a running query, so queries run in separate processes:
a small pool of workers, started ahead of time, each holding the store open read-only and running
up to ``threads`` queries at once on threads over it (pyoxigraph releases the GIL while it
evaluates; one store's caches serve every thread). A worker opens a build's store once and keeps
it until a job names another build (``docket build`` switched). The worker also parses and checks
the query (``guard``): rdflib's parser can take seconds on a long hostile query, and that too must
end at the limit. It serializes the whole answer before sending it, so a body is either complete
or not sent at all.

A query that overruns has its worker SIGKILLed and reaped, and a fresh one is started at once. The
other queries that worker was running did nothing wrong: each is sent again, to a live worker,
with the time it had left. A worker that dies by itself (over its memory limit, killed by the
kernel's OOM killer, a crash in the engine) takes its queries with it. Alone on its worker, the
query was the cause and fails; among others, any of them may have been, so each runs once more on
a worker of its own, started for it and stopped after. A query's clock starts when its first
worker has loaded, so start-up never counts against a query.

Workers are fresh interpreters (``python -c``), never forks: the server process holds RocksDB's
threads and locks, and multiprocessing's ``spawn`` would re-run the server's main script. They
belong to the process that created the pool and exit on their own when it goes away (their socket
closes, or they are orphaned).
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from docket.sparql.jobs import Job, Outcome, answer, execute
from docket.sparql.worker import MEMORY_EXIT, READY

__all__ = ["Job", "Outcome", "QueryRunner", "QueryTimeout", "QueryTooLarge", "RunnerBusy", "RunnerError",
           "WorkerCrashed", "answer", "execute"]

_SOURCE_ROOT = str(Path(__file__).resolve().parents[2])
STARTUP_TIMEOUT = 60.0  # seconds a new worker may take to load, not counted against any query
_KILLED, _CRASHED, _CLOSED, _MEMORY = "killed", "crashed", "closed", "memory"  # why a worker lost its queries


class RunnerError(RuntimeError):
    """The query could not be run; subclasses say why."""


class QueryTimeout(RunnerError):
    """The query ran past the time limit and its worker was killed."""


class RunnerBusy(RunnerError):
    """Every worker stayed busy for the whole time limit."""


class WorkerCrashed(RunnerError):
    """The worker died while running the query (out of memory, a crash in the engine)."""


class QueryTooLarge(RunnerError):
    """Running alone, the query took its worker over the memory limit."""


class _Pending:
    """One job sent to a worker: set once its outcome came, or once the worker was lost."""

    __slots__ = ("done", "outcome", "lost", "alone")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.outcome: Outcome | None = None
        self.lost = ""  # _KILLED, _CRASHED, _MEMORY or _CLOSED when the worker ended first
        self.alone = False  # lost with no other query running on the worker


class _Worker:
    """One worker process over a private socket pair; a reader thread hands outcomes to their jobs."""

    def __init__(self, threads: int, memory_mb: int = 0) -> None:
        ours, theirs = socket.socketpair()
        code = ("import sys; from docket.sparql.worker import main; "
                "main(*map(int, sys.argv[1:5]))")
        env = dict(os.environ)
        # The worker imports docket from wherever this process did, installed or not.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (_SOURCE_ROOT, env.get("PYTHONPATH"))))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, str(theirs.fileno()), str(os.getpid()), str(threads), str(memory_mb)],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, close_fds=True, env=env,
            )
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.ready = threading.Event()  # set once the worker has loaded, or has died
        self.busy = 0  # jobs running on it; the runner counts them under its own lock
        self.own = False  # started for one query that must run alone, outside the pool
        self._lock = threading.Lock()  # guards pending, dead and reason
        self._sending = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self.dead = False
        self._reason = _CRASHED
        threading.Thread(target=self._read, name=f"sparql-worker-{self.pid}", daemon=True).start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def submit(self, number: int, job: Job) -> _Pending:
        """Send ``job``; the returned ``_Pending`` is set when its outcome comes or the worker ends."""
        pending = _Pending()
        with self._lock:
            if self.dead:
                pending.lost = self._reason
                pending.done.set()
                return pending
            self._pending[number] = pending
        try:
            with self._sending:
                self.conn.send((number, job))
        except OSError:
            pass  # the worker is gone: the reader sees it and sets ``pending``
        return pending

    def kill(self, reason: str = _KILLED) -> None:
        """End the worker now; its jobs still running are lost for ``reason``."""
        with self._lock:
            if not self.dead:
                self._reason = reason
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(5)

    def stop(self) -> None:
        """Ask the worker to finish; kill it if it does not within two seconds."""
        with self._lock:
            if not self.dead:
                self._reason = _CLOSED
        try:
            with self._sending:
                self.conn.send(None)
            self.process.wait(2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill(_CLOSED)

    def _read(self) -> None:
        try:
            if self.conn.recv() != READY:
                return
            self.ready.set()
            while True:
                number, outcome = self.conn.recv()
                with self._lock:
                    pending = self._pending.pop(number, None)
                if pending is not None:
                    pending.outcome = outcome
                    pending.done.set()
        except (EOFError, OSError):
            pass
        except (ValueError, TypeError):  # not a message of ours: the worker is of no further use
            self.process.kill()
        finally:
            self.conn.close()
            try:
                self.process.wait(5)  # reap it first: how it ended says why its queries were lost
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            with self._lock:
                self.dead = True
                lost, self._pending = self._pending, {}
                if self._reason == _CRASHED and self.process.returncode == MEMORY_EXIT:
                    self._reason = _MEMORY
                reason = self._reason
            for pending in lost.values():
                pending.lost = reason
                pending.alone = len(lost) == 1
                pending.done.set()
            self.ready.set()  # wakes a query waiting for a worker that died loading


class QueryRunner:
    """Run jobs on ``size`` worker processes of ``threads`` threads each, with a time limit per query.

    Thread-safe: each server thread runs its query on a free thread of the least busy worker. A
    pool belongs to the process that made it; ``for_process`` hands each (forked) server process
    its own.
    """

    def __init__(self, size: int = 2, timeout: float = 30.0, threads: int = 1, memory_mb: int = 0):
        self.size = max(1, size)
        self.threads = max(1, threads)
        self.timeout = timeout
        self.memory_mb = max(0, memory_mb)
        self._lock = threading.Condition()
        self._workers: list[_Worker] = []
        self._own: set[_Worker] = set()  # workers started for one query that must run alone
        self._starting = 0
        self._numbers = itertools.count()
        self._closed = False
        self.pid = os.getpid()
        for _ in range(self.size):
            self._workers.append(_Worker(self.threads, self.memory_mb))

    def run(self, job: Job, timeout: float | None = None) -> Outcome:
        """Run ``job``; raise ``QueryTimeout`` (worker killed), ``RunnerBusy``, ``QueryTooLarge`` or ``WorkerCrashed``."""
        limit = self.timeout if timeout is None else timeout
        remaining = limit  # of the query's own time; a worker's start-up is not part of it
        # Waiting for a free thread may take up to the limit too; the query then gets the whole limit.
        waiting_until = time.monotonic() + limit
        alone = again = False
        while True:
            asked = time.monotonic()
            worker = self._worker_of_its_own() if alone else self._acquire(waiting_until)
            if again:  # waiting now comes out of the query's own time
                remaining -= time.monotonic() - asked
            try:
                if not worker.ready.wait(STARTUP_TIMEOUT) or worker.dead:
                    raise WorkerCrashed("the query worker did not start")
                started = time.monotonic()
                pending = worker.submit(next(self._numbers), job)
                finished = pending.done.wait(max(0.0, remaining))
            except BaseException:
                self._let_go(worker, _KILLED)  # its other queries are sent again
                raise
            if not finished:
                self._let_go(worker, _KILLED)
                raise QueryTimeout(f"the query did not finish within {limit:g} s and was stopped")
            if pending.outcome is not None:
                self._let_go(worker)
                return pending.outcome
            self._let_go(worker, pending.lost)
            if pending.lost == _CLOSED:
                raise RunnerError("the query runner is closed")
            if pending.lost in (_CRASHED, _MEMORY):
                # Alone on its worker, the query itself took the worker down; among others, it
                # may have been any of them, so each runs again on a worker of its own.
                if alone or pending.alone:
                    if pending.lost == _MEMORY:
                        raise QueryTooLarge(f"the query needed more memory than a query worker may use "
                                            f"({self.memory_mb:,} MB) and was stopped")
                    raise WorkerCrashed("the query worker stopped while running the query")
                alone = True
            # Lost with a worker killed for another query's overrun: run again, with the time left.
            remaining -= time.monotonic() - started
            if remaining <= 0:
                raise QueryTimeout(f"the query did not finish within {limit:g} s and was stopped")
            waiting_until = time.monotonic() + remaining
            again = True

    def pids(self) -> list[int]:
        """Return the process IDs of the live workers (tests check that none is left behind)."""
        with self._lock:
            return [w.pid for w in [*self._workers, *self._own] if not w.dead]

    def close(self) -> None:
        """Stop every worker; queries still running on them fail with ``RunnerError``."""
        with self._lock:
            self._closed = True
            workers, self._workers = [*self._workers, *self._own], []
            self._own = set()
            self._lock.notify_all()
        for worker in workers:
            worker.stop()

    def _worker_of_its_own(self) -> _Worker:
        """Start a one-thread worker outside the pool, for a query that must run alone."""
        worker = _Worker(1, self.memory_mb)
        worker.own = True
        with self._lock:
            if not self._closed:
                self._own.add(worker)
                return worker
        worker.stop()
        raise RunnerError("the query runner is closed")

    def _let_go(self, worker: _Worker, lost: str = "") -> None:
        """Hand ``worker`` back after a query; ``lost`` (why it lost the query) ends it."""
        if worker.own:
            with self._lock:
                self._own.discard(worker)
            if lost:
                worker.kill(lost)
            else:
                worker.stop()
            return
        self._release(worker)
        if lost:
            self._discard(worker, lost)

    def _acquire(self, deadline: float) -> _Worker:
        with self._lock:
            while True:
                if self._closed:
                    raise RunnerError("the query runner is closed")
                self._workers = [w for w in self._workers if not w.dead]
                free = [w for w in self._workers if w.busy < self.threads]
                if free:
                    worker = min(free, key=lambda w: w.busy)
                    worker.busy += 1
                    return worker
                if len(self._workers) + self._starting < self.size:
                    self._starting += 1
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RunnerBusy("every query worker stayed busy; try again shortly")
                self._lock.wait(remaining)
        worker = None
        try:
            worker = _Worker(self.threads, self.memory_mb)
        finally:
            with self._lock:
                self._starting -= 1
                if worker is not None:
                    worker.busy = 1
                    self._workers.append(worker)
                self._lock.notify()
        return worker

    def _release(self, worker: _Worker) -> None:
        with self._lock:
            worker.busy -= 1
            self._lock.notify()

    def _discard(self, worker: _Worker, reason: str) -> None:
        """Kill ``worker`` (if it still runs) and start its replacement now, so that it has loaded
        by the time the next query comes; the replacement is skipped when the pool is closed or a
        replacement for this worker already exists."""
        worker.kill(reason)
        with self._lock:
            if worker not in self._workers:
                return  # another of its queries has replaced it already
            self._workers.remove(worker)
            if self._closed:
                return
            self._starting += 1
        replacement = None
        try:
            replacement = _Worker(self.threads, self.memory_mb)
        except OSError:
            pass
        finally:
            with self._lock:
                self._starting -= 1
                keep = replacement is not None and not self._closed
                if keep:
                    self._workers.append(replacement)
                self._lock.notify_all()
        if replacement is not None and not keep:
            replacement.stop()
