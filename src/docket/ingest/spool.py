"""Keep a large ingest's records on disk, not in memory: a million records are about 12 GB as objects.

``RecordSpool`` pickles each record into an anonymous temporary file (unlinked at once, so nothing
is left behind even after ``kill -9``) and keeps in memory only a small ``RecordKeys`` per record:
what the ID registry needs to assign its ID. Iterating the spool reads the records back in
reading order with their IDs and the registry's warnings applied, as often as needed.
"""

from __future__ import annotations

import os
import pickle
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator

from docket.ingest.model import WARNING, DateValue, Problem, Record, SourceRef

_LENGTH = struct.Struct("<Q")


@dataclass
class RecordKeys:
    """Stand in for a record while the registry assigns IDs: the fields it reads, and what it sets."""

    source: SourceRef
    record_id: str | None
    source_url: str | None
    title: str
    date: DateValue | None
    id: str = ""
    problems: list[Problem] = field(default_factory=list)
    offset: int = 0

    @classmethod
    def of(cls, record: Record, offset: int) -> "RecordKeys":
        return cls(record.source, record.record_id, record.source_url, record.title, record.date,
                   record.id, [], offset)

    def warn(self, field_name: str, message: str, code: str, severity: str = WARNING) -> None:
        self.problems.append(Problem(field_name, message, code, severity))


class RecordSpool:
    """A re-iterable sequence of records kept in a temporary file (see the module docstring)."""

    def __init__(self, directory: Path | None = None):
        if directory is not None:
            Path(directory).mkdir(parents=True, exist_ok=True)
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=directory, prefix="docket-records-")
        self.keys: list[RecordKeys] = []
        self._warned: int | None = None

    def append(self, record: Record) -> None:
        data = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
        self._file.seek(0, 2)
        offset = self._file.tell()
        self._file.write(_LENGTH.pack(len(data)))
        self._file.write(data)
        self.keys.append(RecordKeys.of(record, offset))
        self._warned = None

    def __len__(self) -> int:
        return len(self.keys)

    def __bool__(self) -> bool:
        return bool(self.keys)

    def __iter__(self) -> Iterator[Record]:
        self._file.flush()
        for keys in self.keys:
            yield self._read(keys)

    def __getitem__(self, index: int) -> Record:
        self._file.flush()
        return self._read(self.keys[index])

    def _read(self, keys: RecordKeys) -> Record:
        # pread: iterators running side by side never move each other's position.
        fd = self._file.fileno()
        (size,) = _LENGTH.unpack(os.pread(fd, _LENGTH.size, keys.offset))
        record: Record = pickle.loads(os.pread(fd, size, keys.offset + _LENGTH.size))
        record.id = keys.id
        record.problems.extend(keys.problems)
        return record

    def with_warnings(self) -> int:
        """Count records with at least one warning (read once, then remembered)."""
        if self._warned is None:
            self._warned = sum(1 for r in self if any(p.severity == WARNING for p in r.problems))
        return self._warned

    def close(self) -> None:
        self._file.close()
