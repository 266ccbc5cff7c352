"""Keep one read-only store open per process and follow the atomic switch of builds."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from flask import g, has_request_context

from docket.config import Settings
from docket.store import OxigraphStore, StoreError, StoreLayout, TripleStore
from docket.store.remote import remote_store


class StoreHandle:
    """Hand out the current build's store, reopening it only after a switch.

    With ``store_backend = remote`` it hands out the one remote store instead; the local build
    still supplies the manifest (modification times, tombstones) that was pushed to it.

    Checking costs one ``readlink`` per request; a request that already holds the old store keeps
    it until it finishes (the old build directory stays on disk as ``previous``).
    """

    def __init__(self, settings: Settings, store: TripleStore | None = None):
        self.layout = StoreLayout(settings.store_dir)
        self._lock = threading.Lock()
        if store is None and settings.store_backend == "remote":
            store = remote_store(settings)
        elif settings.store_backend not in ("embedded", "remote"):
            raise StoreError(f"unknown store_backend {settings.store_backend!r}: use 'embedded' or 'remote'")
        self._store = store
        self._target: str | None = None if store is None else "fixed"

    def current_build(self) -> str | None:
        """Return the current build's directory name, or None before the first build."""
        try:
            return os.readlink(self.layout.current_link)
        except OSError:
            return None

    def get(self) -> TripleStore:
        """Return the store of the current build; raise ``StoreError`` when there is none.

        Inside a request, the build handed out is noted (``g.docket_build``) so that the response
        can name it in ``X-Docket-Build``.
        """
        if self._target == "fixed" and self._store is not None:
            return self._note(self._store)
        target = self.current_build()
        if target is None:
            raise StoreError("no published build yet; run `docket build`")
        if target != self._target or self._store is None:
            with self._lock:
                if target != self._target or self._store is None:
                    build = self.layout.current()
                    if build is None:
                        raise StoreError("no published build yet; run `docket build`")
                    self._store = OxigraphStore.open(self.layout.store_path(build), read_only=True)
                    self._target = target
        return self._note(self._store)

    def _note(self, store: TripleStore) -> TripleStore:
        if has_request_context():
            # Named from the store itself: another thread may have switched ``self._store`` since.
            # A remote store was pushed from the local current build, which names it.
            path = getattr(store, "path", None)
            build = Path(path).parent.name if path is not None else self.current_build()
            g.docket_build = os.path.basename(build) if build else None
        return store
