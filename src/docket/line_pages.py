"""Write and read a gzip file in members of a fixed number of lines, with a map of where each begins.

The union dump (``docket.nt.gz``) is written so: any gzip reader sees one stream of N-Triples (a
gzip file may hold several members, RFC 1952), and the server reads lines ``n`` to ``n + k`` by
seeking to the member holding line ``n`` and inflating from there. That is how it serves any page of
the widest Triple Pattern Fragment (every triple) in about a millisecond and a few kilobytes, where
a query would have to read, and hold for DISTINCT, every triple before the page.
"""

from __future__ import annotations

import bisect
import gzip
import itertools
import json
from array import array
from pathlib import Path
from typing import Any, BinaryIO

BLOCK_BYTES = 1 << 20  # text per gzip member, cut at the next line end: restarting costs nothing visible
FORMAT = 1


class BlockWriter:
    """Take bytes of whole lines (in any chunks) and write them to ``raw`` as gzip members of about ``block`` bytes."""

    def __init__(self, raw: BinaryIO, filename: str, mtime: int, compresslevel: int, block: int = BLOCK_BYTES):
        self.raw, self.filename, self.mtime, self.level, self.block = raw, filename, mtime, compresslevel, block
        self.offsets = array("Q")  # where each member begins in ``raw``
        self.first_lines = array("Q")  # the number of each member's first line
        self.lines = 0
        self._member: gzip.GzipFile | None = None
        self._in_member = 0

    def write(self, data: bytes) -> int:
        size = len(data)
        data = bytes(data)
        while data:
            if self._member is None:
                self._open()
            assert self._member is not None
            room = self.block - self._in_member
            # The member ends at the first line end once it is full (a long line may overfill it).
            cut = data.find(b"\n", max(room - 1, 0)) + 1 if len(data) >= room else 0
            piece = data[:cut] if cut else data
            self._member.write(piece)
            self._in_member += len(piece)
            self.lines += piece.count(b"\n")
            if not cut:
                break
            self._close_member()
            data = data[cut:]
        return size

    def flush(self) -> None:
        pass  # a gzip flush mid-member would only cost compression

    def close(self) -> None:
        """End the last member (an empty file still gets one, so that it is a valid gzip file)."""
        if self._member is None and not self.offsets:
            self._open()
        if self._member is not None:
            self._close_member()

    def write_map(self, path: Path) -> None:
        """Write where each member begins and its first line's number, as ``LinePages`` reads them."""
        data = {"format": FORMAT, "lines": self.lines, "offsets": self.offsets.tolist(),
                "first_lines": self.first_lines.tolist()}
        Path(path).write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")

    def _open(self) -> None:
        self.offsets.append(self.raw.tell())
        self.first_lines.append(self.lines)
        self._member = gzip.GzipFile(filename=self.filename, mode="wb", fileobj=self.raw,
                                     compresslevel=self.level, mtime=self.mtime)
        self._in_member = 0

    def _close_member(self) -> None:
        assert self._member is not None
        self._member.close()  # ends the member; ``raw`` stays open (GzipFile did not open it)
        self._member = None


class LinePages:
    """Read lines by number from a file ``BlockWriter`` wrote, using its map."""

    def __init__(self, path: Path, lines: int, offsets: list[int], first_lines: list[int]):
        self.path, self.total, self.offsets, self.first_lines = Path(path), lines, offsets, first_lines

    @classmethod
    def open(cls, path: Path, map_path: Path) -> "LinePages | None":
        """Return the pages of ``path``, or None when it has no usable map (a build from before them)."""
        try:
            data: dict[str, Any] = json.loads(Path(map_path).read_text(encoding="utf-8"))
            if data.get("format") != FORMAT or not Path(path).is_file():
                return None
            lines = int(data["lines"])
            offsets, first = [int(o) for o in data["offsets"]], [int(n) for n in data["first_lines"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not offsets or len(offsets) != len(first) or first[0] != 0 or first != sorted(first):
            return None
        return cls(path, lines, offsets, first)

    def lines(self, start: int, count: int) -> bytes:
        """Return lines ``start`` to ``start + count`` (from 0), fewer at the end, none past it."""
        if start < 0 or start >= self.total or count <= 0:
            return b""
        member = bisect.bisect_right(self.first_lines, start) - 1
        skip = start - self.first_lines[member]
        with open(self.path, "rb") as raw:
            raw.seek(self.offsets[member])
            # GzipFile reads on from where ``raw`` stands, through as many members as it needs.
            with gzip.GzipFile(fileobj=raw, mode="rb") as text:
                return b"".join(itertools.islice(text, skip, skip + count))
