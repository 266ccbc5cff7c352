"""Write the dataset's dumps into a build: N-Triples, Turtle and N-Quads, gzipped, with checksums.

``{build}/dumps/docket.nt.gz`` and ``docket.ttl.gz`` hold every distinct triple of the dataset
(the union of its named graphs; the N-Triples lines in byte order); ``docket.nq.gz`` holds every quad, so each record keeps its
named graph (``{base}graph/record/{id}``) and the authorities, ontology, validation report and build
metadata keep theirs. ``dumps/index.json`` gives each file's size, SHA-256, media type and
``Last-Modified`` (the build's time, also set as the files' modification time). The gzip headers
carry the build time, so one build's content always gives the same bytes and checksums.

The N-Triples dump is written as gzip members of about a megabyte of whole lines (any gzip reader
sees one stream), with ``dumps/union-pages.json`` saying where each begins and which line it starts
with: ``union_pages`` reads any line by number from it, and Triple Pattern Fragments serve every
page of the widest pattern (all triples, sorted) so.
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable

import pyoxigraph as ox

from docket import formats
from docket.index_files import write_durably
from docket.line_pages import BLOCK_BYTES, BlockWriter, LinePages
from docket.mapping.vocab import PREFIXES
from docket.record_graphs import FILE as GRAPHS_FILE, GraphWriter
from docket.store import Manifest, OxigraphStore
from docket.store.layout import fsync_dir
from docket.uris import Minter

FOLDER = "dumps"
INDEX = "index.json"
STEM = "docket"
GZIP_MEDIA_TYPE = "application/gzip"
DUMP_FORMATS = ("ntriples", "turtle", "nquads")
PAGES = "union-pages.json"  # where each gzip member of the union dump begins (``docket.line_pages``)


@dataclass
class DumpFile:
    """One dump as ``index.json`` lists it."""

    name: str
    format: str  # name in ``docket.formats``
    media_type: str  # of the content inside the gzip
    bytes: int
    sha256: str
    last_modified: str  # HTTP-date
    modified: str  # ISO 8601 UTC
    statements: int  # triples, or quads for N-Quads

    @property
    def is_quads(self) -> bool:
        return formats.lookup(self.format).quads


def _moment(manifest: Manifest) -> _dt.datetime:
    return _dt.datetime.fromisoformat(manifest.created.replace("Z", "+00:00"))


# The union of the graphs states some triples more than once (an agent typed in a record and in the
# authorities). SELECT DISTINCT would drop the repeats but holds every distinct triple in a hash set
# while it runs, about 240 bytes each: 24 GB at 100 million triples. So the union is written as it
# is stored, repeats and all (the N-Quads dump's lines without their graph names: Oxigraph reads the
# store once for both dumps), and ``sort -u`` drops the repeats exactly, in bounded memory with
# temporary files beside the dumps. Sorted lines also keep each subject's statements together, which
# Turtle writes compactly. (Writing the union by a second CONSTRUCT over the store took as long as the
# N-Quads dump itself: most of a dump's time is reading the terms back from the store.)
UNION_AS_STORED = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
UNION_TRIPLES = "CONSTRUCT { ?s ?p ?o } WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
SORT_BUFFER = "512M"
# zlib's default: level 9 took twice as long for files 2-3 % smaller.
GZIP_LEVEL = 6


class _Lines:
    """Pass bytes on to ``out`` and count the lines: one per statement in N-Triples and N-Quads."""

    def __init__(self, out: Any):
        self.out, self.lines = out, 0

    def write(self, data: bytes) -> int:
        self.lines += data.count(b"\n")
        return self.out.write(data)

    def flush(self) -> None:
        pass  # a gzip flush mid-stream would only cost compression; closing the file writes everything


class _Gzip:
    """Write one dump: a gzip file (dated by the build) under a temporary name, fsync, rename.

    With ``paged`` the file is written in members of whole lines (``docket.line_pages``), and
    ``__enter__`` returns the ``BlockWriter``, whose map the caller writes once the file is in place.
    """

    def __init__(self, path: Path, moment: _dt.datetime, paged: bool = False):
        self.path, self.moment, self.paged = path, moment, paged
        self.tmp = path.with_name(path.name + ".tmp")

    def __enter__(self) -> Any:
        self.raw = open(self.tmp, "wb")
        if self.paged:
            self.out: Any = BlockWriter(self.raw, self.path.name[:-3], int(self.moment.timestamp()), GZIP_LEVEL)
        else:
            self.out = gzip.GzipFile(filename=self.path.name[:-3], mode="wb", fileobj=self.raw,
                                     compresslevel=GZIP_LEVEL, mtime=int(self.moment.timestamp()))
        return self.out

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.out.close()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.raw.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
            os.utime(self.path, (self.moment.timestamp(), self.moment.timestamp()))
        else:
            self.tmp.unlink(missing_ok=True)


def write_dumps(store: OxigraphStore, folder: Path, manifest: Manifest, minter: Minter) -> list[DumpFile]:
    """Write the three dumps and their index into ``folder/dumps``; return what was written.

    Oxigraph serializes every statement once: the union's N-Triples are the N-Quads dump's lines
    without their graph names (reading the terms back from the store is most of a dump's time), and
    the Turtle dump is parsed back from the N-Triples one, so the union is deduplicated only once.
    """
    target = Path(folder) / FOLDER
    target.mkdir(exist_ok=True)
    moment = _moment(manifest)
    prefixes = {name: str(ns) for name, ns in PREFIXES.items()} | {"docket": str(minter.ontology)}
    paths = {name: target / f"{STEM}.{formats.lookup(name).extension}.gz" for name in DUMP_FORMATS}
    counts: dict[str, int] = {}

    sort = shutil.which("sort")
    if sort is not None and _graph_names_end_lines(store):
        # Each record's graph also goes, as Oxigraph writes the N-Quads, into the build's record
        # graphs file, from which the server reads records (``docket.record_graphs``). Only here,
        # where every line ends in its graph's name; without the file the server reads the store.
        with GraphWriter(Path(folder) / GRAPHS_FILE, str(minter.record_graph("")), manifest.build_id) as graphs:
            def nquads(triples: BinaryIO) -> None:
                counts["nquads"] = _write_nquads(store, paths["nquads"], moment, triples, graphs)

            counts["ntriples"] = _sorted_union(paths["ntriples"], moment, sort, nquads)
            graphs.write_findings(store.raw, str(minter.graph("validation")), f"{minter.ontology}record")
    else:
        # N-Quads on a second thread while the union is written (pyoxigraph lets go of the GIL).
        with ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(_write_nquads, store, paths["nquads"], moment)
            counts["ntriples"] = _write_union(store, paths["ntriples"], moment, sort)
            counts["nquads"] = future.result()
    counts["turtle"] = counts["ntriples"]
    with _Gzip(paths["turtle"], moment) as ttl, gzip.open(paths["ntriples"]) as triples:
        ox.serialize(ox.parse(triples, format=ox.RdfFormat.N_TRIPLES), ttl, format=ox.RdfFormat.TURTLE,
                     prefixes=prefixes)

    written = []
    for name in DUMP_FORMATS:
        fmt, path = formats.lookup(name), paths[name]
        written.append(DumpFile(
            name=path.name, format=fmt.name, media_type=fmt.media_type, bytes=path.stat().st_size,
            sha256=_sha256(path), last_modified=email.utils.format_datetime(moment, usegmt=True),
            modified=manifest.created, statements=counts[name],
        ))
    index = {"build": manifest.build_id, "created": manifest.created,
             "files": [asdict(d) for d in written]}
    write_durably(target / INDEX, (json.dumps(index, indent=1) + "\n").encode())
    fsync_dir(target)
    return written


def _graph_names_end_lines(store: OxigraphStore) -> bool:
    """Say whether every N-Quads line of ``store`` ends with a graph IRI (no default graph, no blank graph names)."""
    if next(iter(store.raw.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is not None:
        return False
    return all(isinstance(g, ox.NamedNode) for g in store.raw.named_graphs())


def _write_union(store: OxigraphStore, path: Path, moment: _dt.datetime, sort: str | None) -> int:
    """Write every distinct triple of the union of the graphs, sorted, as gzipped N-Triples; return how many.

    For stores whose N-Quads cannot be cut into triples line by line (a default graph, blank graph
    names): Oxigraph writes the union through ``sort``, or without one its DISTINCT removes the
    repeats, in memory.
    """
    if sort is None:
        with _Gzip(path, moment, paged=True) as out:
            store.raw.query(UNION_TRIPLES).serialize(out, format=ox.RdfFormat.N_TRIPLES)
        return _pages_written(out, path)
    return _sorted_union(path, moment, sort, lambda triples: store.raw.query(UNION_AS_STORED).serialize(
        triples, format=ox.RdfFormat.N_TRIPLES))


def _sorted_union(path: Path, moment: _dt.datetime, sort: str, feed: Callable[[BinaryIO], Any]) -> int:
    """Write the N-Triples lines ``feed`` writes, sorted and each once, as the gzipped union dump; return how many.

    ``feed`` writes into ``sort -u``'s input and the sorted lines are gzipped from its output: on disk
    there are only sort's temporary files, compressed when zstd or lz4 is at hand (at 1,000,000
    records the union is about 12 GB of text).
    """
    command = [sort, "-u", f"--buffer-size={SORT_BUFFER}", f"--temporary-directory={path.parent}"]
    packer = next((found for name in ("zstd", "lz4") if (found := shutil.which(name))), None)
    if packer:
        command.append(f"--compress-program={packer}")
    # Byte order (LC_ALL=C): the same bytes in any locale, so one build's dump has one checksum.
    # sort writes nothing before its input ends, so filling its input and then reading its output
    # cannot deadlock; its messages go to a file, which never fills up as a pipe would.
    with tempfile.TemporaryFile() as errors, subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
            env=dict(os.environ, LC_ALL="C")) as proc:
        assert proc.stdin is not None and proc.stdout is not None

        def failed(code: int | None) -> OSError:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip() or "no message"
            return OSError(f"sorting the union dump failed (exit code {code}): {message}")

        try:
            try:
                with proc.stdin:
                    feed(proc.stdin)
            except BrokenPipeError:  # sort stopped reading: its message says why
                raise failed(proc.wait()) from None
            with _Gzip(path, moment, paged=True) as out:  # renamed into place only if sort succeeded
                shutil.copyfileobj(proc.stdout, out, 1 << 20)
                if proc.wait() != 0:
                    raise failed(proc.returncode)
        finally:
            if proc.poll() is None:
                proc.kill()
    return _pages_written(out, path)


def _pages_written(out: BlockWriter, path: Path) -> int:
    """Write the union dump's map of members beside it (``union_pages`` reads it); return its lines."""
    tmp = path.parent / (PAGES + ".tmp")
    out.write_map(tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path.parent / PAGES)
    return out.lines


def union_pages(folder: Path) -> LinePages | None:
    """Return the lines of a build's union dump by number, or None (a build from before the map)."""
    target = Path(folder) / FOLDER
    return LinePages.open(target / f"{STEM}.{formats.lookup('ntriples').extension}.gz", target / PAGES)


def _write_nquads(store: OxigraphStore, path: Path, moment: _dt.datetime, triples: BinaryIO | None = None,
                  graphs: GraphWriter | None = None) -> int:
    """Write every quad of the store, each graph's in turn; return how many.

    With ``triples``, also write each line there without its graph name (see ``_Triples``), and
    the quads to ``graphs`` if given.
    """
    with _Gzip(path, moment) as nq:
        if triples is None:
            lines = _Lines(nq)
            store.raw.dump(lines, format=ox.RdfFormat.N_QUADS)
            return lines.lines
        cut = _Triples(nq, triples, graphs)
        try:
            store.raw.dump(cut, format=ox.RdfFormat.N_QUADS)
            cut.send_rest()
        finally:
            cut.close()
        return cut.lines


# The end of an N-Quads line of a named graph: its graph IRI. N-Triples escapes line breaks inside
# literals and no IRI holds a space or angle bracket, so in each line only the graph name matches.
_GRAPH_NAME = re.compile(rb" <[^<>\s]*> \.\n")
_QUEUED = 4  # blocks waiting to be compressed: bounds the memory a slow disk can take


class _Triples:
    """Pass N-Quads on to ``out`` and, each line without its graph name, to ``triples``; count the lines.

    Oxigraph writes in pieces of a few kilobytes; they are gathered into blocks of about a megabyte,
    and the blocks are compressed into ``out`` on a second thread (zlib lets go of the GIL) while
    Oxigraph goes on. Only for stores whose every quad is in a graph named by an IRI.
    """

    def __init__(self, out: Any, triples: BinaryIO, graphs: GraphWriter | None = None):
        self.out, self.triples, self.graphs, self.lines = out, triples, graphs, 0
        self._pieces: list[bytes] = []
        self._size = 0
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._queued: deque[Future] = deque()

    def write(self, data: bytes) -> int:
        self._pieces.append(bytes(data))
        self._size += len(data)
        if self.graphs is not None:
            self.graphs.write(self._pieces[-1])  # already a copy of Oxigraph's buffer
        if self._size >= BLOCK_BYTES and b"\n" in data:
            self._send(final=False)
        return len(data)

    def flush(self) -> None:
        pass  # as ``_Lines.flush``

    def send_rest(self) -> None:
        """Send what is left once Oxigraph has written everything, and wait for it to be compressed."""
        self._send(final=True)
        while self._queued:
            self._queued.popleft().result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _send(self, final: bool) -> None:
        data = b"".join(self._pieces)
        cut = len(data) if final else data.rindex(b"\n") + 1
        block, rest = data[:cut], data[cut:]
        self._pieces, self._size = ([rest], len(rest)) if rest else ([], 0)
        self._queued.append(self._pool.submit(self.out.write, block))
        text, found = _GRAPH_NAME.subn(b" .\n", block)
        lines = block.count(b"\n")
        if found != lines or (final and block and not block.endswith(b"\n")):
            raise ValueError("an N-Quads line without a graph IRI at its end; the union cannot be cut from it")
        self.lines += lines
        self.triples.write(text)
        while len(self._queued) > _QUEUED:
            self._queued.popleft().result()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_dumps(folder: Path) -> list[DumpFile]:
    """Return the dumps a build holds (none for a build made without them)."""
    path = Path(folder) / FOLDER / INDEX
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [DumpFile(**entry) for entry in data.get("files", [])]
