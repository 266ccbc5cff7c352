"""Index, once per build, which graphs describe each resource and how many records point at it.

A resource is described in the authorities or the unreconciled names' graph, but record graphs
say things of it too (that a translator is a ``prov:Agent``, in every record they translated), so
asking the union of graphs what is said of it can read thousands of copies, and counting the
records that point at it reads every one of them.
``build_resource_index(store, path)`` runs when the build is made (``write_site_files``) and writes
``resources.sqlite`` into the build folder: per resource the few graphs that together hold every
distinct triple about it (the smallest graph IRI holding each triple, so copies share one graph)
and its number of backlinks. The server reads one row per request.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pyoxigraph as ox

from docket.serve.describe import PREFIXES, run_query
from docket.index_files import new_index

FORMAT = 1


@dataclass(frozen=True)
class ResourceEntry:
    """What the index knows of one resource: the graphs describing it, the records pointing at it."""

    graphs: tuple[str, ...]
    backlinks: int
    key: int | None = None  # row of the resource, to page its backlinks; None when nothing points at it


_BATCH = 1000  # IRIs per VALUES block: a query per thousand, each still quick to parse


def _rows(store, sparql: str):
    return run_query(store, PREFIXES + sparql, False)


def _fill(store, db: sqlite3.Connection) -> None:
    """Put (resource, graph) pairs in ``described`` and (IRI, record) pairs in ``pointing``, repeats and all.

    One DISTINCT pass over the subjects, sorted out here rather than by a FILTER, which would read
    the IRI text of every quad (twice as slow); each batch of them is then looked up by index.
    """
    described: list[str] = []  # subjects that are not a record or one of its parts
    parts: list[str] = []  # (part, record) VALUES rows, for subjects that may be a part of a record
    for (s,) in _rows(store, "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o } }"):
        if type(s) is not ox.NamedNode:
            continue
        iri = s.value
        if "/id/record/" not in iri:
            described.append(str(s))
            if len(described) == _BATCH:
                _describe(store, db, described)
        if "#" in iri:  # a part if what comes before the "#" is a record of the same graph
            parts.append(f"({s} <{iri.split('#', 1)[0]}>)")
            if len(parts) == _BATCH:
                _point(store, db, parts)
    _describe(store, db, described)
    _point(store, db, parts)
    db.executemany("INSERT INTO pointing VALUES (?, ?)", ((o.value, rec.value) for o, rec in _rows(
        store, "SELECT ?o ?rec WHERE { GRAPH ?g { ?rec a rico:Record ; ?p ?o } FILTER(isIRI(?o)) }")))


def _describe(store, db: sqlite3.Connection, batch: list[str]) -> None:
    """Note, per distinct triple about each subject of ``batch``, the smallest graph IRI holding it."""
    if batch:
        db.executemany("INSERT INTO described VALUES (?, ?)", ((s.value, graph.value) for s, graph in _rows(
            store, f"""SELECT ?s (MIN(STR(?g)) AS ?graph) WHERE {{ VALUES ?s {{ {" ".join(batch)} }}
                GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?s ?p ?o""")))
    batch.clear()


def _point(store, db: sqlite3.Connection, batch: list[str]) -> None:
    """Note each IRI linked from the parts in ``batch`` (VALUES rows of part and record) by their records."""
    if batch:
        db.executemany("INSERT INTO pointing VALUES (?, ?)", ((o.value, rec.value) for o, rec in _rows(
            store, f"""SELECT ?o ?rec WHERE {{ VALUES (?x ?rec) {{ {" ".join(batch)} }}
                GRAPH ?g {{ ?rec a rico:Record . ?x ?p ?o }} FILTER(isIRI(?o)) }}""")))
    batch.clear()


def build_resource_index(store, path: Path) -> int:
    """Write the index of ``store`` to ``path`` (``<build>/resources.sqlite``); return its resource count.

    ``store`` may be a build in progress (a bare ``pyoxigraph.Store``) or a ``TripleStore``. Records
    are ranked once in the order a backlink page lists them (undated first, then by date, then by
    URI, as ``describe.backlinks`` orders them), so a page of any resource's backlinks is a range of
    one SQLite index. What the store says goes into temporary tables as it comes; SQLite sorts,
    removes the repeats, counts and numbers (its strings compare as Python's do), so Python holds no
    object per record, resource or link.
    """
    with new_index(path) as db:
        db.execute("PRAGMA temp_store = FILE")  # the temporary tables grow with the build, not with RAM
        with db:
            db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute("INSERT INTO meta VALUES ('format', ?)", (str(FORMAT),))
            db.execute("CREATE TABLE resource (id INTEGER PRIMARY KEY, uri TEXT NOT NULL UNIQUE, graphs TEXT NOT NULL,"
                       " backlinks INTEGER NOT NULL)")
            db.execute("CREATE TABLE record (rank INTEGER PRIMARY KEY, uri TEXT NOT NULL, graph TEXT NOT NULL)")
            db.execute("CREATE TABLE backlink (resource INTEGER NOT NULL, rank INTEGER NOT NULL,"
                       " PRIMARY KEY (resource, rank)) WITHOUT ROWID")
            _rank(store, db)
            db.execute("CREATE TEMP TABLE described (uri TEXT NOT NULL, graph TEXT NOT NULL)")
            db.execute("CREATE TEMP TABLE pointing (uri TEXT NOT NULL, rec TEXT NOT NULL)")
            _fill(store, db)
            db.executemany("INSERT INTO resource VALUES (?, ?, ?, ?)", _resources(db))
            # In key order: appended to the B-tree's end, not scattered through it.
            db.execute("""INSERT OR IGNORE INTO backlink SELECT r.id, k.rank FROM pointing p
                          JOIN resource r ON r.uri = p.uri JOIN ranked k ON k.uri = p.rec ORDER BY 1, 2""")
        count = db.execute("SELECT COUNT(*) FROM resource").fetchone()[0]
    return count


def _rank(store, db: sqlite3.Connection) -> None:
    """Fill ``record`` with the listable (titled) records, ranked; ``ranked`` finds a record's rank."""
    db.execute("CREATE TEMP TABLE listed (dated INTEGER, date TEXT, uri TEXT, graph TEXT)")
    db.executemany("INSERT INTO listed VALUES (?, ?, ?, ?)", (
        (0, "", rec.value, graph.value) if date is None else (1, date.value, rec.value, graph.value)
        for rec, graph, date in _rows(store, """SELECT ?rec (MIN(STR(?g)) AS ?graph) (MIN(STR(?d)) AS ?date) WHERE {
            GRAPH ?g { ?rec a rico:Record ; dcterms:title ?t }
            OPTIONAL { GRAPH ?g { ?rec dcterms:date ?d } } } GROUP BY ?rec""")))
    db.execute("""INSERT INTO record SELECT row_number() OVER (ORDER BY dated, date, uri, graph) - 1, uri, graph
                  FROM listed""")
    db.execute("CREATE TEMP TABLE ranked (uri TEXT PRIMARY KEY, rank INTEGER NOT NULL) WITHOUT ROWID")
    db.execute("INSERT INTO ranked SELECT uri, rank FROM record ORDER BY uri")


def _resources(db: sqlite3.Connection) -> Iterator[tuple[int, str, str, int]]:
    """Yield the resource rows: each URI described or pointed at, in order, its graphs (one a line), its backlinks."""
    # A URI's count of records (its graph NULL) sorts before its graphs, which come in order.
    rows = db.execute("""SELECT DISTINCT uri, graph, NULL FROM described UNION ALL
                         SELECT uri, NULL, COUNT(DISTINCT rec) FROM pointing GROUP BY uri ORDER BY 1, 2""")
    n, current, graphs, backlinks = -1, None, [], 0
    for uri, graph, count in rows:
        if uri != current:
            if current is not None:
                yield n, current, "\n".join(graphs), backlinks
            n, current, graphs, backlinks = n + 1, uri, [], 0
        if graph is None:
            backlinks = count
        else:
            graphs.append(graph)
    if current is not None:
        yield n, current, "\n".join(graphs), backlinks


class ResourceIndex:
    """Read ``resources.sqlite``; ``lookup`` answers None when the build has no index (older builds)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.available = self.path.is_file()

    def _connect(self) -> sqlite3.Connection:
        # One short-lived read-only connection per call: requests run on many threads.
        return sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)

    def lookup(self, uri: str) -> ResourceEntry | None:
        """Return the entry of ``uri``; an indexed build that never mentions it answers an empty one."""
        if not self.available:
            return None
        db = self._connect()
        try:
            row = db.execute("SELECT id, graphs, backlinks FROM resource WHERE uri = ?", (uri,)).fetchone()
        finally:
            db.close()
        if row is None:
            return ResourceEntry((), 0)
        return ResourceEntry(tuple(g for g in row[1].split("\n") if g), int(row[2]), int(row[0]))

    def backlink_page(self, entry: ResourceEntry, page: int, size: int) -> list[tuple[str, str]]:
        """Return (record, its graph) of page ``page`` (1-based) of the records pointing at the resource."""
        offset = (max(1, page) - 1) * int(size)
        # Past the last page (a ?page= of any size) there is nothing to ask SQLite, whose integers are 64-bit.
        if entry.key is None or offset >= entry.backlinks:
            return []
        db = self._connect()
        try:
            rows = db.execute("SELECT r.uri, r.graph FROM backlink b JOIN record r ON r.rank = b.rank"
                              " WHERE b.resource = ? ORDER BY b.rank LIMIT ? OFFSET ?",
                              (entry.key, int(size), offset)).fetchall()
        finally:
            db.close()
        return [(uri, graph) for uri, graph in rows]
