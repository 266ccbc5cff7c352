"""Lay builds out on disk and switch between them atomically.

::

    {store_dir}/builds/<build-id>/oxigraph/       one complete Oxigraph store
    {store_dir}/builds/<build-id>/manifest.json   written last: a build without one is unfinished
    {store_dir}/current  -> builds/<build-id>     the published build
    {store_dir}/previous -> builds/<build-id>     the one before, for rollback
    {store_dir}/.lock                             held by whoever builds or rolls back

A link is switched by creating a new symlink beside it and ``os.replace``-ing it over the old one,
which is atomic on POSIX: a reader sees the old target or the new one, never neither. A build that is
killed mid-way is never linked; the next build removes it.
"""

from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import os
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from docket.store.base import StoreError

MANIFEST = "manifest.json"
OXIGRAPH = "oxigraph"


class StoreBusy(StoreError):
    """Another build or rollback holds the store's lock."""


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (new files, renames, links) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StoreLayout:
    """Name the paths of a store folder and move the ``current``/``previous`` links."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.builds = self.root / "builds"
        self.current_link = self.root / "current"
        self.previous_link = self.root / "previous"
        self.lock_path = self.root / ".lock"

    # --- reading the links ------------------------------------------------------------------------

    def _target(self, link: Path) -> Path | None:
        if not link.is_symlink():
            return None
        target = (link.parent / os.readlink(link)).resolve()
        return target if (target / MANIFEST).is_file() else None

    def current(self) -> Path | None:
        """Return the published build's folder, or None before the first build."""
        return self._target(self.current_link)

    def previous(self) -> Path | None:
        """Return the build before the current one, or None."""
        return self._target(self.previous_link)

    def store_path(self, build: Path) -> Path:
        return build / OXIGRAPH

    def manifest_path(self, build: Path) -> Path:
        return build / MANIFEST

    # --- making and switching builds --------------------------------------------------------------

    def new_build(self, now: _dt.datetime) -> Path:
        """Create an empty, uniquely named build folder (names sort by time)."""
        self.builds.mkdir(parents=True, exist_ok=True)
        stamp = now.astimezone(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        path = self.builds / f"{stamp}-{secrets.token_hex(3)}"
        path.mkdir()
        return path

    def switch(self, build: Path) -> None:
        """Make ``build`` current and the old current previous."""
        old = self.current()
        if old is not None and old != build.resolve():
            self._point(self.previous_link, old)
        self._point(self.current_link, build)

    def rollback(self) -> tuple[Path, Path]:
        """Swap current and previous; return (new current, new previous)."""
        current, previous = self.current(), self.previous()
        if previous is None:
            raise StoreError(f"no previous build to roll back to in {self.root}")
        if current is None:
            raise StoreError(f"no current build in {self.root}")
        # Current first: if we die between the two steps, the rollback has happened.
        self._point(self.current_link, previous)
        self._point(self.previous_link, current)
        return previous, current

    def _point(self, link: Path, target: Path) -> None:
        relative = os.path.relpath(target.resolve(), link.parent.resolve())
        tmp = link.with_name(f".{link.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")
        os.symlink(relative, tmp)
        os.replace(tmp, link)
        fsync_dir(link.parent)

    def clean(self) -> list[Path]:
        """Remove builds that neither link points at (unfinished or superseded) and stray temp links."""
        keep = {p for p in (self.current(), self.previous()) if p is not None}
        removed = []
        if self.builds.is_dir():
            for build in sorted(self.builds.iterdir()):
                if build.resolve() not in keep:
                    shutil.rmtree(build, ignore_errors=True)
                    removed.append(build)
        for stray in self.root.glob(".*.tmp"):
            if stray.is_symlink():
                stray.unlink(missing_ok=True)
        return removed

    # --- the lock ---------------------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock; raise ``StoreBusy`` at once if someone else holds it."""
        fd = self.acquire()
        try:
            yield
        finally:
            self.release(fd)

    def acquire(self) -> int:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise StoreBusy(f"{self.root} is busy: another build or rollback is running") from None
            raise
        return fd

    @staticmethod
    def release(fd: int) -> None:
        # The kernel drops the lock if the process dies, so a killed build never leaves it held.
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
