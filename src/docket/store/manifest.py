"""Describe one build in ``manifest.json``: when, from what, counts, and every record's state.

The record index keeps, per published record, the content hash it was built from, when its content
last changed (``modified``, kept across builds while the hash is unchanged: HTTP caching and OAI-PMH
datestamps read it), its source and triple count. Withdrawn records stay as tombstones (with the date
of withdrawal and, for merges, the record that replaced them); held-back records are listed with why.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from docket.store.layout import fsync_dir

FORMAT = 1


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)


def iso(moment: _dt.datetime) -> str:
    """Write a moment as ISO 8601 UTC with a Z ("1954-06-20T12:00:00Z")."""
    return moment.astimezone(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def content_hash(value: Any) -> str:
    """Hash what a record was built from: text, bytes, JSON-ready data, or an object with ``to_dict()``.

    Data is hashed as canonical JSON (sorted keys), so key order never makes a record look changed.
    """
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, bytes):
        data = value
    else:
        data = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class RecordEntry:
    """Say what was published for one record."""

    hash: str  # of what the record was built from (the source record)
    modified: str  # when its published triples last changed
    source: str | None = None
    triples: int = 0
    data_hash: str = ""  # of its published triples, in any order


@dataclass
class Tombstone:
    """Keep a withdrawn record: when it went and, if merged, which record replaced it."""

    withdrawn: str  # ISO date
    replaced_by: str | None = None
    source: str | None = None
    reason: str = ""


@dataclass
class Manifest:
    """Hold everything known about one build; ``write`` makes it durable, and it is written last."""

    build_id: str
    created: str
    base_uri: str
    fingerprint: str = ""  # of what besides the records shaped the build: code, shapes, authorities
    source_fingerprint: str = ""  # of the published records' content hashes
    previous_build: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    graphs: dict[str, int] = field(default_factory=dict)  # dataset-wide graphs and their triple counts
    records: dict[str, RecordEntry] = field(default_factory=dict)
    tombstones: dict[str, Tombstone] = field(default_factory=dict)
    held_back: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def merges(self) -> dict[str, str]:
        return {rid: t.replaced_by for rid, t in self.tombstones.items() if t.replaced_by}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["format"] = FORMAT
        data["merges"] = self.merges
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Manifest":
        if data.get("format") != FORMAT:
            raise ValueError(f"manifest format {data.get('format')!r} is not {FORMAT}")
        return cls(
            build_id=data["build_id"],
            created=data["created"],
            base_uri=data["base_uri"],
            fingerprint=data.get("fingerprint", ""),
            source_fingerprint=data.get("source_fingerprint", ""),
            previous_build=data.get("previous_build"),
            counts=dict(data.get("counts", {})),
            graphs=dict(data.get("graphs", {})),
            records={k: RecordEntry(**v) for k, v in data.get("records", {}).items()},
            tombstones={k: Tombstone(**v) for k, v in data.get("tombstones", {}).items()},
            held_back=dict(data.get("held_back", {})),
        )

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        try:
            return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a readable build manifest: {exc}") from exc

    def write(self, path: Path) -> None:
        """Write to a temporary file, fsync it, rename it into place, fsync the folder."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.to_json(), fh, ensure_ascii=False, indent=1, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)

    def fingerprint_records(self) -> str:
        """Hash the published records' IDs and content hashes, in ID order."""
        h = hashlib.sha256()
        for rid in sorted(self.records):
            h.update(f"{rid}\0{self.records[rid].hash}\n".encode())
        return "sha256:" + h.hexdigest()
