"""Load a source file's text safely; shared by every reader.

A reader is a function ``read(path, name, settings) -> Iterator[Record | Rejection]``: ``path`` is
the file, ``name`` how reports call it (relative to the folder the user gave). Readers never raise
for bad input: they yield a ``Rejection`` naming the file, line or record, and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Iterator

from docket.config import Settings
from docket.ingest.model import Record, Rejection, SourceRef


class SourceError(Exception):
    """Carry a rejection of a whole file (unreadable, too large, not UTF-8)."""

    def __init__(self, rejection: Rejection):
        super().__init__(str(rejection))
        self.rejection = rejection


def load_text(path: Path, name: str, settings: Settings) -> str:
    """Return the file's text as UTF-8 (a BOM is dropped), or raise ``SourceError`` saying why not."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(Rejection(SourceRef(name), "", f"cannot read file: {exc.strerror}", "unreadable"))
    if size > settings.max_file_bytes:
        raise SourceError(
            Rejection(
                SourceRef(name),
                "",
                f"file is {size:,} bytes, over the limit of {settings.max_file_bytes:,} "
                "(split it, or raise DOCKET_MAX_FILE_BYTES)",
                "too-large",
            )
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(Rejection(SourceRef(name), "", f"cannot read file: {exc.strerror}", "unreadable"))
    return decode_utf8(data, name)


def decode_utf8(data: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM); on failure say on which line and byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(
            Rejection(
                SourceRef(name, line=line),
                "",
                f"not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line}); "
                "save the file as UTF-8",
                "encoding",
            )
        ) from None


def read_source(
    path: Path, name: str, settings: Settings, parse: Callable[[str], Iterable[Record | Rejection]]
) -> Iterator[Record | Rejection]:
    """Load the file's text and ``parse`` it; a file that cannot be loaded becomes one rejection."""
    try:
        text = load_text(path, name, settings)
    except SourceError as exc:
        yield exc.rejection
        return
    yield from parse(text)
