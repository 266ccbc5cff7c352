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
with the time it had left. A worker that dies by itself (out of memory, a crash in the engine)
takes its queries with it; each is tried once more, and fails if its second worker dies too. A
query's clock starts when its first worker has loaded, so start-up never counts against a query.

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
from docket.sparql.worker import READY

__all__ = ["Job", "Outcome", "QueryRunner", "QueryTimeout", "RunnerBusy", "RunnerError", "WorkerCrashed",
           "answer", "execute"]

_SOURCE_ROOT = str(Path(__file__).resolve().parents[2])
STARTUP_TIMEOUT = 60.0  # seconds a new worker may take to load, not counted against any query
_KILLED, _CRASHED, _CLOSED = "killed", "crashed", "closed"  # why a worker lost its queries


class RunnerError(RuntimeError):
    """The query could not be run; subclasses say why."""


class QueryTimeout(RunnerError):
    """The query ran past the time limit and its worker was killed."""


class RunnerBusy(RunnerError):
    """Every worker stayed busy for the whole time limit."""


class WorkerCrashed(RunnerError):
    """The worker died while running the query (out of memory, a crash in the engine)."""


class _Pending:
    """One job sent to a worker: set once its outcome came, or once the worker was lost."""

    __slots__ = ("done", "outcome", "lost")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.outcome: Outcome | None = None
        self.lost = ""  # _KILLED, _CRASHED or _CLOSED when the worker ended first


class _Worker:
    """One worker process over a private socket pair; a reader thread hands outcomes to their jobs."""

    def __init__(self, threads: int) -> None:
        ours, theirs = socket.socketpair()
        code = ("import sys; from docket.sparql.worker import main; "
                "main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))")
        env = dict(os.environ)
        # The worker imports docket from wherever this process did, installed or not.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (_SOURCE_ROOT, env.get("PYTHONPATH"))))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, str(theirs.fileno()), str(os.getpid()), str(threads)],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, close_fds=True, env=env,
            )
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.ready = threading.Event()  # set once the worker has loaded, or has died
        self.busy = 0  # jobs running on it; the runner counts them under its own lock
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
        except (EOFError, OSError, ValueError, TypeError):
            pass
        finally:
            with self._lock:
                self.dead = True
                lost, self._pending = self._pending, {}
            for pending in lost.values():
                pending.lost = self._reason
                pending.done.set()
            self.ready.set()  # wakes a query waiting for a worker that died loading
            self.conn.close()
            try:
                self.process.wait(5)  # reap it: it closed its socket on the way out
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class QueryRunner:
    """Run jobs on ``size`` worker processes of ``threads`` threads each, with a time limit per query.

    Thread-safe: each server thread runs its query on a free thread of the least busy worker. A
    pool belongs to the process that made it; ``for_process`` hands each (forked) server process
    its own.
    """

    def __init__(self, size: int = 2, timeout: float = 30.0, threads: int = 1):
        self.size = max(1, size)
        self.threads = max(1, threads)
        self.timeout = timeout
        self._lock = threading.Condition()
        self._workers: list[_Worker] = []
        self._starting = 0
        self._numbers = itertools.count()
        self._closed = False
        self.pid = os.getpid()
        for _ in range(self.size):
            self._workers.append(_Worker(self.threads))

    def run(self, job: Job, timeout: float | None = None) -> Outcome:
        """Run ``job``; raise ``QueryTimeout`` (worker killed), ``RunnerBusy`` or ``WorkerCrashed``."""
        limit = self.timeout if timeout is None else timeout
        remaining = limit  # of the query's own time; a worker's start-up is not part of it
        # Waiting for a free thread may take up to the limit too; the query then gets the whole limit.
        waiting_until = time.monotonic() + limit
        crashes = 0
        again = False
        while True:
            asked = time.monotonic()
            worker = self._acquire(waiting_until)
            if again:  # waiting now comes out of the query's own time
                remaining -= time.monotonic() - asked
            try:
                if not worker.ready.wait(STARTUP_TIMEOUT) or worker.dead:
                    raise WorkerCrashed("the query worker did not start")
                started = time.monotonic()
                pending = worker.submit(next(self._numbers), job)
                finished = pending.done.wait(max(0.0, remaining))
            except BaseException:
                self._release(worker)
                self._discard(worker, _KILLED)  # its other queries are sent again
                raise
            self._release(worker)
            if not finished:
                self._discard(worker, _KILLED)
                raise QueryTimeout(f"the query did not finish within {limit:g} s and was stopped")
            if pending.outcome is not None:
                return pending.outcome
            self._discard(worker, pending.lost)
            if pending.lost == _CLOSED:
                raise RunnerError("the query runner is closed")
            if pending.lost == _CRASHED:
                crashes += 1
                # Alone on its worker, the query itself took the worker down; among others, it
                # may have been any of them, so each is given one more worker.
                if crashes > 1 or self.threads == 1:
                    raise WorkerCrashed("the query worker stopped while running the query")
            # Lost with a worker killed for another query's overrun: run again, with the time left.
            remaining -= time.monotonic() - started
            if remaining <= 0:
                raise QueryTimeout(f"the query did not finish within {limit:g} s and was stopped")
            waiting_until = time.monotonic() + remaining
            again = True

    def pids(self) -> list[int]:
        """Return the process IDs of the live workers (tests check that none is left behind)."""
        with self._lock:
            return [w.pid for w in self._workers if not w.dead]

    def close(self) -> None:
        """Stop every worker; queries still running on them fail with ``RunnerError``."""
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, []
            self._lock.notify_all()
        for worker in workers:
            worker.stop()

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
            worker = _Worker(self.threads)
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
            replacement = _Worker(self.threads)
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
