"""Index, once per build, the records and tombstones a server looks up by ID, and the build's sizes.

The build's manifest lists every record (31 MB at 100,000 records: 0.3 s and about 110 MB to read in
each serving process; ten times that at a million). ``write_record_index(folder, manifest)`` writes
``records.sqlite`` beside it before the switch, and ``RecordIndex`` answers one key at a time, so a
server starts and stays small however many records a build has. The index also keeps the manifest's
dataset-wide graphs and counts, which the SPARQL service description states. A build made before
the index falls back on its manifest (``docket.serve.published``).
"""

from __future__ import annotations

import json
from pathlib import Path

from docket.index_files import IndexFile, new_index
from docket.store.manifest import Manifest, Tombstone

FORMAT = 1


def write_record_index(folder: Path, manifest: Manifest, name: str) -> Path:
    """Write the manifest's records, tombstones, build ID, time, graphs and counts into ``folder/name``; return the path."""
    path = Path(folder) / name
    with new_index(path) as db, db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.executemany("INSERT INTO meta VALUES (?, ?)", [
            ("format", str(FORMAT)), ("build_id", manifest.build_id), ("created", manifest.created),
            ("graphs", json.dumps(manifest.graphs)), ("counts", json.dumps(manifest.counts))])
        db.execute("CREATE TABLE record (id TEXT PRIMARY KEY, modified TEXT NOT NULL) WITHOUT ROWID")
        db.executemany("INSERT INTO record VALUES (?, ?)",
                       ((rid, entry.modified) for rid, entry in manifest.records.items()))
        db.execute("CREATE TABLE tombstone (id TEXT PRIMARY KEY, withdrawn TEXT NOT NULL, replaced_by TEXT,"
                   " source TEXT, reason TEXT NOT NULL) WITHOUT ROWID")
        db.executemany("INSERT INTO tombstone VALUES (?, ?, ?, ?, ?)",
                       ((rid, t.withdrawn, t.replaced_by, t.source, t.reason)
                        for rid, t in manifest.tombstones.items()))
    return path


class RecordIndex(IndexFile):
    """Look records and tombstones of one build up by ID, from its ``records.sqlite``."""

    def __init__(self, path: Path):
        super().__init__(path)
        meta = self._meta("a record index", FORMAT)
        self.build_id: str = meta["build_id"]
        self.created: str = meta["created"]
        # The dataset-wide graphs with their sizes, and the build's counts (None in an index written
        # before they were added: the manifest has them).
        self.graphs: dict[str, int] | None = json.loads(meta["graphs"]) if "graphs" in meta else None
        self.counts: dict[str, int] | None = json.loads(meta["counts"]) if "counts" in meta else None

    def modified(self, record_id: str) -> str | None:
        """Return when the record's published triples last changed, or None if the build does not publish it."""
        row = self._db().execute("SELECT modified FROM record WHERE id = ?", (record_id,)).fetchone()
        return row[0] if row else None

    def __contains__(self, record_id: object) -> bool:
        return isinstance(record_id, str) and self.modified(record_id) is not None

    def tombstone(self, record_id: str) -> Tombstone | None:
        """Return the record's tombstone, or None if it was never withdrawn (or came back)."""
        row = self._db().execute("SELECT withdrawn, replaced_by, source, reason FROM tombstone WHERE id = ?",
                                 (record_id,)).fetchone()
        return Tombstone(*row) if row else None
