"""Measure a process's own memory and hand back to the system what finished work freed.

glibc's allocator keeps memory that was freed for reuse, so a process that once ran heavy work
(a SPARQL aggregate) keeps that peak resident while idle. ``HandBack`` counts the work running in a
process; when the last piece ends and some of it was long, it calls ``malloc_trim``, which costs
about 20 µs — a third of a light query, so not after every one. (Tried in the gunicorn workers too,
around every request: at 1,000,000 records their growth under load, 97 → 254 MB, is live memory,
and a trim gave back nothing.)
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from typing import Any

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def own_memory(pid: int | str = "self") -> int | None:
    """Return the anonymous resident memory of process ``pid`` in bytes; None where /proc is missing.

    The store's files, mapped or in the kernel's page cache, are shared and reclaimable: not counted.
    """
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            fields = f.read().split()
    except OSError:
        return None
    return (int(fields[1]) - int(fields[2])) * _PAGE  # resident less file-backed and shared pages


def _malloc_trim() -> Any:
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc; elsewhere there is nothing to call
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def trim() -> None:
    """Return to the system the heap memory that finished work freed (glibc keeps it otherwise)."""
    if _TRIM is not None:
        _TRIM(0)


class HandBack:
    """Count the work running in this process; the last to end hands back what long work freed."""

    LONG = 0.02  # seconds of work before what it freed is worth handing back

    def __init__(self) -> None:
        self._running = 0
        self._long = False  # long work ended since the last trim
        self._lock = threading.Lock()
        self.busy = threading.Event()  # set while any work runs

    def started(self) -> float:
        """Count a piece of work in; return its start, for ``ended``."""
        with self._lock:
            self._running += 1
            self.busy.set()
        return time.monotonic()

    def ended(self, started: float) -> None:
        """Count a piece of work out; the last one out hands back what was freed."""
        long = time.monotonic() - started > self.LONG
        with self._lock:
            self._running -= 1
            self._long = self._long or long
            hand_back = self._running == 0 and self._long
            if self._running == 0:
                self.busy.clear()
                self._long = False
        if hand_back:
            trim()
