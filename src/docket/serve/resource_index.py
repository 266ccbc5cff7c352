"""Index, once per build, which graphs describe each resource and how many records point at it.

A topic or an unreconciled agent is said again in every record graph that mentions it (its label,
types, ``docket:unreconciled``), so asking the union of graphs what is said of it reads thousands
of copies at 10,000 records, and counting the records that point at it reads every one of them.
``build_resource_index(store, path)`` runs when the build is made (``write_site_files``) and writes
``resources.sqlite`` into the build folder: per resource the few graphs that together hold every
distinct triple about it (the smallest graph IRI holding each triple, so copies share one graph)
and its number of backlinks. The server reads one row per request.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from docket.serve.describe import PREFIXES, run_query

FORMAT = 1


@dataclass(frozen=True)
class ResourceEntry:
    """What the index knows of one resource: the graphs describing it, the records pointing at it."""

    graphs: tuple[str, ...]
    backlinks: int
    key: int | None = None  # row of the resource, to page its backlinks; None when nothing points at it


def _rows(store, sparql: str):
    return run_query(store, PREFIXES + sparql, False)


def build_resource_index(store, path: Path) -> int:
    """Write the index of ``store`` to ``path`` (``<build>/resources.sqlite``); return its resource count.

    ``store`` may be a build in progress (a bare ``pyoxigraph.Store``) or a ``TripleStore``. Records
    are ranked once in the order a backlink page lists them (undated first, then by date, then by
    URI, as ``describe.backlinks`` orders them), so a page of any resource's backlinks is a range of
    one SQLite index.
    """
    graphs: dict[str, set[str]] = {}
    # Every subject that is not a record or one of its parts: what a resource page describes.
    for row in _rows(store, """SELECT ?s (MIN(STR(?g)) AS ?graph) WHERE {
        GRAPH ?g { ?s ?p ?o } FILTER(isIRI(?s) && !CONTAINS(STR(?s), "/id/record/")) } GROUP BY ?s ?p ?o"""):
        graphs.setdefault(row["s"].value, set()).add(row["graph"].value)
    records: list[tuple[int, str, str, str]] = []  # (dated, date, uri, graph), listable ones only (titled)
    for row in _rows(store, """SELECT ?rec (MIN(STR(?g)) AS ?graph) (MIN(STR(?d)) AS ?date) WHERE {
        GRAPH ?g { ?rec a rico:Record ; dcterms:title ?t }
        OPTIONAL { GRAPH ?g { ?rec dcterms:date ?d } } } GROUP BY ?rec"""):
        date = row["date"]
        records.append((0 if date is None else 1, date.value if date is not None else "", row["rec"].value,
                        row["graph"].value))
    records.sort()
    rank = {uri: n for n, (_, _, uri, _) in enumerate(records)}
    pointing: dict[str, set[str]] = {}
    for row in _rows(store, """SELECT DISTINCT ?o ?rec WHERE {
        GRAPH ?g { ?x ?p ?o . ?rec a rico:Record
            FILTER(?x = ?rec || STRSTARTS(STR(?x), CONCAT(STR(?rec), "#"))) }
        FILTER(isIRI(?o)) }"""):
        pointing.setdefault(row["o"].value, set()).add(row["rec"].value)
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    uris = sorted(graphs.keys() | pointing.keys())
    db = sqlite3.connect(tmp)
    with db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('format', ?)", (str(FORMAT),))
        db.execute("CREATE TABLE resource (id INTEGER PRIMARY KEY, uri TEXT NOT NULL UNIQUE, graphs TEXT NOT NULL,"
                   " backlinks INTEGER NOT NULL)")
        db.execute("CREATE TABLE record (rank INTEGER PRIMARY KEY, uri TEXT NOT NULL, graph TEXT NOT NULL)")
        db.execute("CREATE TABLE backlink (resource INTEGER NOT NULL, rank INTEGER NOT NULL,"
                   " PRIMARY KEY (resource, rank)) WITHOUT ROWID")
        db.executemany("INSERT INTO resource VALUES (?, ?, ?, ?)",
                       ((n, uri, "\n".join(sorted(graphs.get(uri, ()))), len(pointing.get(uri, ())))
                        for n, uri in enumerate(uris)))
        db.executemany("INSERT INTO record VALUES (?, ?, ?)",
                       ((n, uri, graph) for n, (_, _, uri, graph) in enumerate(records)))
        db.executemany("INSERT INTO backlink VALUES (?, ?)",
                       ((n, rank[rec]) for n, uri in enumerate(uris) for rec in pointing.get(uri, ()) if rec in rank))
    db.close()
    os.replace(tmp, path)
    return len(uris)


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
