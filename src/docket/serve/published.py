"""Give a request the published build it reads: the store, its manifest and the files beside it.

Everything is taken from the build folder of the store the ``StoreHandle`` hands out (for a remote
store, the local current build it was pushed from), so a request never mixes the store of one build
with the manifest or search index of another. What is read from the folder is cached per build; a
switch of builds simply yields a new ``Published``.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import current_app

from docket.store import Manifest, StoreError, StoreLayout, TripleStore
from docket.store.layout import MANIFEST
from docket.store.manifest import Tombstone

if TYPE_CHECKING:
    from docket.serve.record_index import RecordIndex

SEARCH_INDEX = "search.sqlite"
STATISTICS = "statistics.json"
RESOURCE_INDEX = "resources.sqlite"
RECORD_INDEX = "records.sqlite"


def parse_time(text: str | None) -> _dt.datetime | None:
    """Read an ISO 8601 time or date from the manifest as an aware UTC datetime."""
    if not text:
        return None
    try:
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=_dt.timezone.utc)


class Published:
    """One published build as a request sees it."""

    def __init__(self, store: TripleStore, folder: Path):
        self.store = store
        self.folder = folder

    @cached_property
    def manifest(self) -> Manifest:
        """Return the whole manifest: read only where a request needs more than ``records`` knows."""
        return Manifest.read(self.folder / MANIFEST)

    @cached_property
    def records(self) -> "RecordIndex | ManifestRecords":
        """Return the build's records and tombstones by ID (its ``records.sqlite``, else its manifest)."""
        from docket.serve.record_index import RecordIndex

        path = self.folder / RECORD_INDEX
        if path.exists():
            try:
                return RecordIndex(path)
            except (sqlite3.Error, ValueError, KeyError):
                pass  # unreadable or of another format: the manifest says the same
        return ManifestRecords(self.manifest)

    @cached_property
    def sizes(self) -> tuple[dict[str, int], dict[str, int]]:
        """Return the dataset-wide graphs with their triple counts, and the build's counts."""
        records = self.records
        if records.graphs is not None and records.counts is not None:
            return records.graphs, records.counts
        return self.manifest.graphs, self.manifest.counts

    @cached_property
    def created(self) -> _dt.datetime | None:
        return parse_time(self.records.created)

    @cached_property
    def record_graphs(self):
        """Return the build's record graphs (``docket.record_graphs``), or None in builds made before the file."""
        from docket.record_graphs import open_record_graphs

        return open_record_graphs(self.folder, self.records.build_id)

    @property
    def search_path(self) -> Path:
        return self.folder / SEARCH_INDEX

    @cached_property
    def statistics(self) -> dict[str, Any] | None:
        """Return the statistics the build computed (``docket.serve.stats``), or None if it did not."""
        path = self.folder / STATISTICS
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    @cached_property
    def resource_index(self):
        """Return the build's ``ResourceIndex`` (``docket.serve.resource_index``); unavailable in older builds."""
        from docket.serve.resource_index import ResourceIndex

        return ResourceIndex(self.folder / RESOURCE_INDEX)

    @cached_property
    def fragment_counts(self) -> dict[tuple[str, ...], int]:
        """Return the counts of the widest triple patterns, from the build's VoID (``fragments.known_counts``)."""
        from docket.fragments import known_counts
        from docket.harvest.void import VOID_FILE

        return known_counts(self.folder / VOID_FILE)

    @cached_property
    def union_pages(self):
        """Return the build's union dump by line (``harvest.dumps.union_pages``), or None in older builds."""
        from docket.harvest.dumps import union_pages

        return union_pages(self.folder)

    def record_modified(self, record_id: str) -> _dt.datetime | None:
        return parse_time(self.records.modified(record_id))


class ManifestRecords:
    """Answer what ``RecordIndex`` does from a manifest (a build made before the record index)."""

    def __init__(self, manifest: Manifest):
        self._manifest = manifest
        self.build_id, self.created = manifest.build_id, manifest.created
        self.graphs, self.counts = manifest.graphs, manifest.counts

    def modified(self, record_id: str) -> str | None:
        entry = self._manifest.records.get(record_id)
        return entry.modified if entry else None

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._manifest.records

    def tombstone(self, record_id: str) -> Tombstone | None:
        return self._manifest.tombstones.get(record_id)


_LOCK = threading.Lock()


def build_folder(store: TripleStore, settings) -> Path:
    """Return the folder of the build ``store`` belongs to.

    The embedded store lives in its build folder; a remote store (``store_backend = remote``) was
    pushed from the local current build, which keeps the manifest and the files beside it.
    """
    path = getattr(store, "path", None)
    if path is not None:
        return Path(path).parent
    folder = StoreLayout(settings.store_dir).current()
    if folder is None:
        raise StoreError("no published build yet; run `docket build`")
    return folder


def published() -> Published:
    """Return the current build for this request (raises ``StoreError`` before the first build).

    The app keeps the ``Published`` of the store and build folder it last saw; a switch of builds
    gives a new one (the old one goes with the requests still using it).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    store: TripleStore = app.extensions["docket.store"].get()
    folder = build_folder(store, app.extensions["docket.settings"])
    found: Published | None = app.extensions.get("docket.published")
    if found is None or found.store is not store or found.folder != folder:
        with _LOCK:
            found = app.extensions.get("docket.published")
            if found is None or found.store is not store or found.folder != folder:
                found = Published(store, folder)
                app.extensions["docket.published"] = found
    return found
