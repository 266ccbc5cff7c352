"""Keep every record's graph of a build as compressed N-Triples in one SQLite file, read back by graph.

A record's Turtle, HTML page and OAI-PMH metadata start from its graph. Read from the store, each
serving process fills RocksDB's block caches and the index blocks of every table file it touches,
and Oxigraph fixes their sizes (128 MB for the store's strings alone, not configurable from
pyoxigraph): at 20,000 records, reading 5,000 record graphs took a process from 20 to 119 MB and
1.0 ms a record; read from this file, 22 MB and 0.22 ms a record (Turtle written in both).

``GraphWriter`` is fed the N-Quads dump as Oxigraph writes it (``docket.harvest.dumps``): each
graph's statements come together, so the file holds exactly what the store holds, for full and
incremental builds alike. It also keeps what the validation report says of each record (a record's
page shows it; read from the store, each page looked the record's ID up in the whole report). A
build made before the file has none (``Published.record_graphs`` is then None and the store answers).
"""

from __future__ import annotations

import itertools
import logging
import re
import sqlite3
import zlib
from contextlib import ExitStack
from pathlib import Path

import pyoxigraph as ox
from rdflib.namespace import SH

from docket.index_files import IndexFile, new_index

_log = logging.getLogger(__name__)

FILE = "record-graphs.sqlite"
FORMAT = 1
LEVEL = 6
# Records share most of their text (the vocabulary's IRIs, the base, the shapes of their statements):
# compressed against the text of the first records written (zlib's preset dictionary), 5,000 record
# graphs at 20,000 records took 7 % of their N-Triples, alone each 13 %, in less time.
_SAMPLE = 200  # records whose text makes the dictionary
_ZDICT = 32 * 1024  # the most zlib uses
_BATCH = 2_000  # rows per INSERT
_BUFFER = 1 << 20  # bytes of lines gathered before they are cut into graphs
_CACHE_KIB = 64 * 1024

# The run of one graph's lines: a line ending in a graph IRI, then every next line ending in the same.
# N-Quads escapes line breaks inside literals, so a line's last " <...> .\n" is its graph name (the
# writer is given only quads that all have one: ``docket.harvest.dumps``).
_RUN = re.compile(rb"^[^\n]* (<[^<>\s]*>) \.\n(?:[^\n]* \1 \.\n)*", re.MULTILINE)


class GraphWriter:
    """Take N-Quads in any pieces and write the graphs named ``{prefix}…`` into a new ``path``.

    Use as a context manager: the file is in place (synced, renamed) only if the block ends without
    an exception. Lines of one graph must come together, as ``Store.dump`` writes them.
    """

    def __init__(self, path: Path, prefix: str, build_id: str):
        self.path, self.build_id = Path(path), build_id
        self.prefix = b"<" + prefix.encode("utf-8")
        self.graphs = 0
        self._pending: list[bytes] = []
        self._size = 0
        self._rest = b""  # a record graph's lines that may go on in the next piece
        self._rows: list[tuple[str, bytes]] = []
        self._sample: list[tuple[str, bytes]] | None = []  # until the dictionary is made
        self._zdict = b""
        self._packer = zlib.compressobj(LEVEL)
        self._stack = ExitStack()
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> "GraphWriter":
        # The dump may run on another thread than the one that opens and closes the file.
        self._db = self._stack.enter_context(new_index(self.path, shared=True))
        self._db.execute("PRAGMA page_size = 8192")  # rows of about 2 KB fill 8 KB pages better: 20,000 records 56 -> 46 MB
        # Rows are appended; only the key's index is written out of order (about 60 MB at 1,000,000
        # records). A larger cache would hold written rows in the build's memory until the end.
        self._db.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        self._db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID")
        self._db.executemany("INSERT INTO meta VALUES (?, ?)", [("format", str(FORMAT)), ("build_id", self.build_id)])
        # A rowid table: its rows (about 2 KB compressed) are too large for WITHOUT ROWID to pay.
        self._db.execute("CREATE TABLE graph (iri TEXT PRIMARY KEY, ntriples BLOB NOT NULL)")
        return self

    def write_findings(self, store: ox.Store, report: str, record_property: str) -> int:
        """Keep each record's findings from the ``report`` graph of ``store``; return how many.

        A finding names its records by ``record_property`` (one finding may name many: an unreconciled
        name lists every record naming it). Each distinct message is kept once (20,000 records:
        204,854 findings, 12,835 messages), and each record lists the numbers of its own.
        """
        assert self._db is not None
        if not any(g.value == report for g in store.named_graphs()):
            return 0  # no report in this build: pages say so (``report`` stays unset)
        db = self._db
        db.execute("CREATE TABLE message (id INTEGER PRIMARY KEY, severity TEXT NOT NULL, text TEXT NOT NULL)")
        db.execute("CREATE TEMP TABLE said (record TEXT NOT NULL, message INTEGER NOT NULL)")
        # Each finding's message is read once, then its records by the finding's node: asked together,
        # every (record, finding) pair read the message again (20,000 records: 8.5 s, most of it that).
        numbers: dict[tuple[str, str], int] = {}
        of_node: dict[str, list[int]] = {}  # a result may, in SHACL, have several messages or severities
        graph = ox.NamedNode(report)
        for quad in store.quads_for_pattern(None, ox.NamedNode(str(SH.resultMessage)), None, graph):
            severities = [q.object.value for q in store.quads_for_pattern(
                quad.subject, ox.NamedNode(str(SH.resultSeverity)), None, graph)]
            for severity in severities:
                key = (severity, quad.object.value)
                number = numbers.get(key)
                if number is None:
                    number = numbers[key] = len(numbers)
                    db.execute("INSERT INTO message VALUES (?, ?, ?)", (number, *key))
                of_node.setdefault(quad.subject.value, []).append(number)
        said = ((q.object.value, number)
                for q in store.quads_for_pattern(None, ox.NamedNode(record_property), None, graph)
                for number in of_node.get(q.subject.value, ()))
        count = 0
        while batch := list(itertools.islice(said, _BATCH)):
            db.executemany("INSERT INTO said VALUES (?, ?)", batch)
            count += len(batch)
        db.execute("CREATE TABLE finding (record TEXT PRIMARY KEY, messages TEXT NOT NULL) WITHOUT ROWID")
        db.execute("INSERT INTO finding SELECT record, group_concat(message) FROM said GROUP BY record")
        db.execute("DROP TABLE said")
        db.execute("INSERT INTO meta VALUES ('report', ?)", (report,))
        return count

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            try:
                self._cut(final=True)
                self._insert()
                assert self._db is not None
                self._db.commit()
            except BaseException as exc:
                self._stack.__exit__(type(exc), exc, exc.__traceback__)  # leaves only the .tmp
                raise
        self._stack.__exit__(kind, value, traceback)

    def write(self, data: bytes) -> int:
        self._pending.append(data if isinstance(data, bytes) else bytes(data))
        self._size += len(data)
        if self._size >= _BUFFER:
            self._cut(final=False)
        return len(data)

    def flush(self) -> None:
        pass  # everything is written when the block ends

    def _cut(self, final: bool) -> None:
        text = self._rest + b"".join(self._pending)
        self._rest = b""
        end = text.rfind(b"\n") + 1
        if final and end < len(text):
            raise ValueError(f"{self.path.name}: the N-Quads ended inside a line")
        self._pending, self._size = ([text[end:]], len(text) - end) if end < len(text) else ([], 0)
        for run in _RUN.finditer(text, 0, end):
            graph = run.group(1)
            if not graph.startswith(self.prefix):
                continue  # other graphs (authorities, report, ...) are read from the store
            if run.end() == end and not final:
                self._rest = run.group(0)  # the graph's lines may go on in the next piece
                continue
            self._add(graph, run.group(0))

    def _add(self, graph: bytes, lines: bytes) -> None:
        # Every line of the run ends so, and no literal holds a line break: replacing is exact.
        text = lines.replace(b" " + graph + b" .\n", b" .\n")
        iri = graph[1:-1].decode("utf-8")
        self.graphs += 1
        if self._sample is not None:
            self._sample.append((iri, text))
            if len(self._sample) >= _SAMPLE:
                self._make_dictionary()
            return
        self._rows.append((iri, self._compress(text)))
        if len(self._rows) >= _BATCH:
            self._insert()

    def _compress(self, text: bytes) -> bytes:
        packer = self._packer.copy()  # primed once: taking in the dictionary costs more than a record
        return packer.compress(text) + packer.flush()

    def _make_dictionary(self) -> None:
        assert self._db is not None and self._sample is not None
        sample, self._sample = self._sample, None
        self._zdict = b"".join(text for _, text in sample)[-_ZDICT:]
        self._packer = zlib.compressobj(LEVEL, zdict=self._zdict)
        self._db.execute("INSERT INTO meta VALUES ('zdict', ?)", (self._zdict,))
        self._rows.extend((iri, self._compress(text)) for iri, text in sample)

    def _insert(self) -> None:
        if self._sample is not None:
            self._make_dictionary()  # fewer records than the sample: the end of the dump
        if self._rows:
            assert self._db is not None
            self._db.executemany("INSERT INTO graph VALUES (?, ?)", self._rows)
            self._rows = []


class RecordGraphs(IndexFile):
    """Read the record graphs of one build from its ``record-graphs.sqlite``."""

    def __init__(self, path: Path):
        super().__init__(path)
        meta = self._meta("a record graphs file", FORMAT)
        self.build_id: str = meta["build_id"]
        self.report: bool = "report" in meta  # the build had a validation report
        self._zdict: bytes = meta.get("zdict", b"")

    def triples(self, graph: str) -> list[ox.Triple] | None:
        """Return the statements of ``graph``, or None when the file does not hold it (or cannot be read)."""
        try:
            row = self._db().execute("SELECT ntriples FROM graph WHERE iri = ?", (graph,)).fetchone()
            if row is None:
                return None
            text = zlib.decompressobj(zdict=self._zdict).decompress(row[0])
            return [quad.triple for quad in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)]
        except (sqlite3.Error, zlib.error, SyntaxError) as exc:
            _damaged(self.path, exc)
            return None  # the store holds the same: the caller reads it there

    def findings(self, record_id: str) -> list[tuple[str, str]] | None:
        """Return the report's (severity IRI, message) pairs for ``record_id``, sorted; None if unreadable."""
        if not self.report:
            return []
        try:
            return self._findings(record_id)
        except (sqlite3.Error, ValueError, KeyError) as exc:
            _damaged(self.path, exc)
            return None

    def _findings(self, record_id: str) -> list[tuple[str, str]]:
        db = self._db()
        row = db.execute("SELECT messages FROM finding WHERE record = ?", (record_id,)).fetchone()
        if row is None:
            return []
        numbers = [int(n) for n in row[0].split(",")]  # a message said twice of a record is listed twice
        distinct = sorted(set(numbers))
        marks = ",".join("?" * len(distinct))
        said = {number: (severity, text) for number, severity, text in db.execute(
            f"SELECT id, severity, text FROM message WHERE id IN ({marks})", distinct)}
        return sorted(said[n] for n in numbers)


def _damaged(path: Path, exc: Exception) -> None:
    _log.warning("%s could not be read (%s); reading the store instead", path, exc)


def open_record_graphs(folder: Path, build_id: str) -> RecordGraphs | None:
    """Return the record graphs of the build in ``folder``, or None (a build made before the file, or another build's)."""
    path = Path(folder) / FILE
    if not path.is_file():
        return None
    try:
        graphs = RecordGraphs(path)
    except (sqlite3.Error, ValueError, KeyError):
        return None
    return graphs if graphs.build_id == build_id else None
