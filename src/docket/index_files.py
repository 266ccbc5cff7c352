"""Write a build's files the one safe way: plain files, and SQLite indexes (resources, records, OAI-PMH items)."""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

# SQLite's default page cache is 2 MB: a million-record build's indexes are far larger, and every
# lookup or sort step that misses it is a system call. Pages are taken only as they are used.
CACHE_KIB = 512 * 1024


@contextmanager
def new_index(path: Path, shared: bool = False) -> Iterator[sqlite3.Connection]:
    """Open a new SQLite file for ``path``; on success it is synced and renamed into place.

    Written once, as ``path.tmp`` without journal or syncs: a crash (or an exception in the block)
    leaves only the .tmp, which the next build replaces. ``shared``: the connection may be used from
    another thread than this one (one at a time; the caller sees to that).
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp, check_same_thread=not shared)
    try:
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        yield db
    finally:
        db.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class IndexFile:
    """Read one SQLite file of a build: one read-only connection per thread (SQLite's may not be shared)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self.path.resolve().as_uri() + "?mode=ro", uri=True,
                                                     check_same_thread=False)
        return db

    def _meta(self, kind: str, version: int) -> dict:
        """Return the file's ``meta`` table; raise ``ValueError`` if it is not ``kind`` of format ``version``."""
        meta = dict(self._db().execute("SELECT key, value FROM meta").fetchall())
        if meta.get("format") != str(version):
            raise ValueError(f"{self.path} is {kind} of format {meta.get('format')}, not {version}")
        return meta


def write_durably(path: Path, data: bytes) -> None:
    """Write a file of a build: a temporary file, fsync, rename (the build's manifest syncs the folder)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
