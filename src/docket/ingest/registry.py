"""Assign every record a stable ID and remember it in the ID registry under ``data/``.

The ID is the source's record ID when it has one; otherwise derived from the source URL's last
segment, else from date + title. The registry keys each assigned ID twice — by where the record
came from (record ID, URL, or file and position) and by what it is (date + normalised title) — so
re-reading the same folder, a renamed file, or a corrected record all keep their ID. Collisions get
``-2``, ``-3`` … in reading order and are reported on the record.
"""

from __future__ import annotations

import json
import os
import tempfile
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

from docket.ingest.model import Record
from docket.uris import is_slug, make_slug

REGISTRY_VERSION = 1


def location_key(record: Record) -> str:
    """Fingerprint where the record came from."""
    if record.record_id:
        return f"record-id:{record.record_id.strip()}"
    if record.source_url:
        return f"url:{record.source_url.strip()}"
    return f"file:{record.source.file}#{record.source.position}"


def content_key(record: Record) -> str:
    """Fingerprint what the record is: its date and normalised title."""
    title = unicodedata.normalize("NFKD", record.title).casefold()
    title = "".join(c for c in title if c.isalnum() or c.isspace())
    iso = record.date.iso if record.date and record.date.iso else ""
    return f"content:{iso}|{' '.join(title.split())}"


def candidate_id(record: Record) -> tuple[str, str]:
    """Propose an ID and say what it was derived from."""
    if record.record_id:
        rid = record.record_id.strip()
        return (rid if is_slug(rid) else make_slug(rid)), "record ID"
    if record.source_url:
        segment = urlsplit(record.source_url).path.rstrip("/").rsplit("/", 1)[-1]
        if segment:
            return make_slug(segment), "source URL"
    iso = record.date.iso if record.date and record.date.iso else "undated"
    return make_slug(f"{iso} {record.title}", max_length=100), "date and title"


class IdRegistry:
    """Hold fingerprint → ID assignments; load with ``IdRegistry.open(path)``, then ``save()``."""

    def __init__(self, path: Path | None, keys: dict[str, str] | None = None):
        self.path = path
        self.keys: dict[str, str] = dict(keys or {})
        self._taken: dict[str, set[str]] = {}
        for key, rid in self.keys.items():
            self._taken.setdefault(rid, set()).add(key)
        self._assigned_this_run: set[str] = set()
        self.changed = False

    @classmethod
    def open(cls, path: Path) -> "IdRegistry":
        """Load the registry at ``path``; a missing file is an empty registry."""
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            keys = data["keys"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"ID registry {path} is damaged ({exc}); restore it from version control") from None
        return cls(path, keys)

    def assign_all(self, records: list[Record]) -> None:
        """Give every record (or its ``RecordKeys``) its stable ID, set on ``.id``, in reading order.

        Records known by where they came from are matched first, so that a new record which merely
        shares a date and title with a known one can never take that one's ID.
        """
        pending = []
        for record in records:
            rid = self.keys.get(location_key(record))
            if rid is not None and rid not in self._assigned_this_run:
                self._bind(record, rid)
            else:
                pending.append(record)
        for record in pending:
            rid = self.keys.get(content_key(record))
            if rid is None or rid in self._assigned_this_run:
                rid = self._new_id(record)
            self._bind(record, rid)

    def _new_id(self, record: Record) -> str:
        base, derived_from = candidate_id(record)
        rid, n = base, 2
        while rid in self._taken or rid in self._assigned_this_run:
            rid = f"{base}-{n}"
            n += 1
        if rid != base:
            record.warn(
                "id",
                f"ID {base!r} (from {derived_from}) is already used by another record; assigned {rid!r}",
                "id-collision",
            )
        return rid

    def _bind(self, record: Record, rid: str) -> None:
        for key in (location_key(record), content_key(record)):
            if key not in self.keys:
                self.keys[key] = rid
                self._taken.setdefault(rid, set()).add(key)
                self.changed = True
        self._assigned_this_run.add(rid)
        record.id = rid

    def save(self) -> None:
        """Write the registry atomically (sorted, so diffs in version control stay small)."""
        if self.path is None or not self.changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"version": REGISTRY_VERSION, "keys": dict(sorted(self.keys.items()))}, indent=1,
                             ensure_ascii=False)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".id-registry.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(payload + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        self.changed = False
