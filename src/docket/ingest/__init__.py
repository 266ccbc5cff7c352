"""Read source files and folders into ``Record``s, listing every rejection with its reason.

``ingest(paths, settings)`` walks the paths, hands each file to the reader for its extension,
checks what every record needs (a title, a readable date), assigns stable IDs through the
registry, and returns an ``IngestResult``: the records, the rejections, and a summary.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from docket.config import Settings
from docket.ingest.model import WARNING, Record, Rejection, SourceRef
from docket.ingest.registry import IdRegistry
from docket.ingest.spool import RecordSpool

# Extension -> module holding ``read(path, name, settings)``; imported when first needed.
READERS = {
    ".txt": "docket.ingest.pages",
    ".json": "docket.ingest.jsonfile",
    ".csv": "docket.ingest.csvfile",
}


@dataclass
class IngestResult:
    """Hold what one ingest run produced."""

    records: list[Record] | RecordSpool = field(default_factory=list)  # a spool for large builds
    rejections: list[Rejection] = field(default_factory=list)
    files: int = 0

    @property
    def with_warnings(self) -> int:
        if isinstance(self.records, RecordSpool):
            return self.records.with_warnings()
        return sum(1 for r in self.records if any(p.severity == WARNING for p in r.problems))

    def close(self) -> None:
        """Let go of the records' spool, if any (its temporary file disappears)."""
        if isinstance(self.records, RecordSpool):
            self.records.close()

    def __enter__(self) -> "IngestResult":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def summary(self) -> dict[str, int]:
        """Count files, records read, records with warnings, and rejections."""
        return {
            "files": self.files,
            "read": len(self.records),
            "with_warnings": self.with_warnings,
            "rejected": len(self.rejections),
        }

    def to_report(self) -> dict:
        """Return the machine-readable report: every record's status and problems, every rejection."""
        return {
            "summary": self.summary(),
            "records": [
                {
                    "id": r.id,
                    "source": {"file": r.source.file, "position": r.source.position, "line": r.source.line},
                    "title": r.title,
                    "layout": r.layout,
                    "status": "warnings" if any(p.severity == WARNING for p in r.problems) else "ok",
                    "problems": [
                        {"field": p.field, "code": p.code, "severity": p.severity, "message": p.message}
                        for p in r.problems
                    ],
                }
                for r in self.records
            ],
            "rejected": [
                {
                    "source": {"file": j.source.file, "position": j.source.position, "line": j.source.line},
                    "field": j.field,
                    "code": j.code,
                    "message": j.message,
                }
                for j in self.rejections
            ],
        }


def own_files(settings: Settings) -> set[Path]:
    """Return Docket's own data files and folders, which a folder walk never reads as records."""
    return {p.resolve() for p in (settings.registry_path, settings.authorities_dir, settings.rights_table)}


def discover(paths: Iterable[Path], skip: set[Path] = frozenset()) -> Iterator[tuple[Path, str]]:
    """Yield (file, display name) for every file under ``paths``, sorted.

    Hidden files and anything under ``skip`` (resolved paths) are passed over when walking a
    folder; a file named explicitly is always read. The display name is relative to the folder
    the user gave, so IDs derived from it do not depend on the current directory.
    """
    for root in paths:
        root = Path(root)
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                rel = path.relative_to(root)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                resolved = path.resolve()
                if any(resolved == s or s in resolved.parents for s in skip):
                    continue
                yield path, rel.as_posix()
        else:
            yield root, root.name


def read_file(path: Path, name: str, settings: Settings) -> Iterator[Record | Rejection]:
    """Read one file with the reader its extension names; never raise for bad input."""
    module_name = READERS.get(path.suffix.lower())
    if module_name is None:
        known = ", ".join(sorted(READERS))
        yield Rejection(SourceRef(name), "", f"no reader for '{path.suffix or '(no extension)'}' files; "
                        f"Docket reads {known}", "unknown-format")
        return
    if not path.exists():
        yield Rejection(SourceRef(name), "", "no such file or folder", "unreadable")
        return
    yield from importlib.import_module(module_name).read(path, name, settings)


def check(record: Record) -> Rejection | None:
    """Reject a record that lacks what every record must have; warn about what it should have."""
    if not record.title.strip():
        return Rejection(record.source, "title", "the record has no title", "empty-title")
    if record.date is None:
        return Rejection(record.source, "date", "the record has no date", "no-date")
    if not record.date.iso:
        return Rejection(record.source, "date", f"cannot read the date {record.date.text!r}", "bad-date")
    if not record.record_id:
        record.warn("record_id", "the source gives no record ID; Docket assigned one", "no-record-id")
    if record.uploaded_date is None:
        record.warn("uploaded_date", "the source gives no original uploaded date", "no-uploaded-date")
    return None


def ingest(
    paths: Iterable[Path],
    settings: Settings,
    registry: IdRegistry | None = None,
    on_file: Callable[[str], None] | None = None,
    spool: RecordSpool | None = None,
) -> IngestResult:
    """Read every file under ``paths`` into records with stable IDs; see the module docstring.

    With a ``spool``, the records are kept in it (on disk) instead of in a list, and the registry
    assigns IDs from the few fields it needs.
    """
    result = IngestResult(records=spool if spool is not None else [])
    for path, name in discover(paths, own_files(settings)):
        result.files += 1
        if on_file:
            on_file(name)
        for item in read_file(path, name, settings):
            if isinstance(item, Rejection):
                result.rejections.append(item)
                continue
            rejection = check(item)
            if rejection:
                result.rejections.append(rejection)
            else:
                result.records.append(item)
    registry = registry if registry is not None else IdRegistry(None)
    registry.assign_all(spool.keys if spool is not None else result.records)
    return result
