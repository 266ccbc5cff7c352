"""Be a query worker: answer numbered jobs from a socket, several at once on threads over one store.

A worker is a fresh interpreter (``python -c``) that ``runner._Worker`` starts; this module is its
whole life. pyoxigraph releases the GIL while it evaluates, so queries on threads over one open
store run side by side and share its caches: measured at 100,000 records, four threads over one
store answered 1.35× the queries per second of four processes each with the store open.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

import pyoxigraph as ox

from docket.heap import HandBack, own_memory, trim
from docket.sparql.jobs import Job, Outcome, answer

READY = "ready"
MEMORY_EXIT = 86  # the exit status of a worker that ended itself over its memory limit
# rdflib's parser recurses once per triple pattern; a thread's default stack is too small for the
# recursion limit that lets long, plain queries through.
_STACK_BYTES = 128 * 1024 * 1024
_RECURSION_LIMIT = 20_000


def main(fd: int, parent: int, threads: int, memory_mb: int = 0) -> None:
    """Run as a worker of process ``parent`` on the socket ``fd`` (the entry point ``_Worker`` starts)."""
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    sys.setrecursionlimit(_RECURSION_LIMIT)
    threading.stack_size(_STACK_BYTES)  # virtual: only the pages a deep parse touches are used
    work(Connection(fd), threads, memory_mb)


def work(conn: Connection, threads: int = 1, memory_mb: int = 0) -> None:
    """Answer ``(number, job)`` messages from ``conn`` until it closes, with ``(number, outcome)``.

    The runner never sends more jobs than ``threads`` at once. The store of the last build asked
    for stays open; a job still running on an earlier build keeps that one open until it is done.
    With ``memory_mb``, the worker ends itself (``MEMORY_EXIT``) when its queries take it over that.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the server, which stops us
    sending = threading.Lock()
    memory = Memory(memory_mb * 1024 * 1024)
    opened: tuple[Any, Any] = (None, None)  # (what was asked for, the open store)

    def reply(number: int, outcome: Outcome) -> None:
        with sending:
            try:
                conn.send((number, outcome))
            except (BrokenPipeError, OSError):
                os._exit(0)  # the runner is gone or has given up on us

    def run(number: int, job: Job, store: Any) -> None:
        started = memory.started()
        try:
            try:
                outcome = answer(store, job)
            except Exception as exc:  # an engine error is the client's answer, not the worker's end
                outcome = Outcome(error=f"{type(exc).__name__}: {exc}", error_kind="engine")
            reply(number, outcome)
        finally:
            memory.ended(started)

    try:
        conn.send(READY)  # loaded: the runner starts a query's clock only now
    except OSError:
        return
    with ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="query") as pool:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                os._exit(0)  # queries still running would only answer a closed socket
            if message is None:
                return
            number, job = message
            wanted = job.remote or job.store_path
            try:
                if wanted != opened[0]:
                    opened = (None, None)  # drop our hold on the old build before opening the new one
                    opened = (wanted, _open(job))
            except Exception as exc:
                reply(number, Outcome(error=f"{type(exc).__name__}: {exc}", error_kind="engine"))
                continue
            pool.submit(run, number, job, opened[1])


class Memory(HandBack):
    """Keep a worker's own memory (``heap.own_memory``) under ``limit`` bytes (0: any).

    While queries run it is read every 50 ms; over the limit, the memory the allocator keeps but no
    longer uses is handed back first, and only if the worker is still over does it end itself with
    ``MEMORY_EXIT`` (the runner tells which query was the cause). What queries freed is handed back
    when the last ends (``HandBack``): without it, an idle worker keeps the peak of the heaviest
    queries it ran together (measured at 1,000,000 records, four count-per-year aggregates at once:
    a 410 MB peak, 227 MB kept after them, 133 MB with the hand-back).
    """

    POLL = 0.05

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit if limit > 0 and own_memory() is not None else 0
        if self.limit:
            threading.Thread(target=self._watch, name="memory", daemon=True).start()

    def _watch(self) -> None:
        while True:
            self.busy.wait()
            used = own_memory() or 0
            if used > self.limit:
                trim()
                used = own_memory() or 0
                if used > self.limit:
                    sys.stderr.write(f"docket: query worker {os.getpid()} ended: its queries took "
                                     f"{used / 2**20:,.1f} MB, over its limit of {self.limit // 2**20:,} MB "
                                     "(sparql_worker_memory)\n")
                    sys.stderr.flush()
                    os._exit(MEMORY_EXIT)
            time.sleep(self.POLL)


def _open(job: Job) -> Any:
    if job.remote is not None:
        from docket.store.remote import RemoteStore

        url, union_param = job.remote
        return RemoteStore(url, union_param=union_param)
    return ox.Store.read_only(job.store_path)


def _watch_parent(parent: int) -> None:
    # A worker deep in a runaway query never reads its socket, so it would not notice the server
    # dying; when it is orphaned (re-parented), it ends itself. (PR_SET_PDEATHSIG would fire when
    # the *thread* that started the worker ends, which in a threaded server is any request.)
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)
