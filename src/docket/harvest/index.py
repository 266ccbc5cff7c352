"""Index one build for harvesting: every record's datestamp, deletion and sets, in identifier order.

The index is computed once per build (``docket build`` writes ``oai-index.sqlite`` into the build
folder, just before the switch) so OAI-PMH requests never aggregate over the store, and each request
reads just its page (``IndexReader``): a server answers for a million records without holding them.

A datestamp says when a change became visible to harvesters, which is what incremental harvesting
with ``from`` relies on. A record changed (or withdrawn) by a build is stamped with the moment that
build is published -- the second after its index is written, not the manifest's modification time,
which is the start of a build that may run for minutes while harvesters still see the old one. A
record the build left unchanged keeps the datestamp of the previous build's index; a withdrawn record
keeps the datestamp and sets it had when its withdrawal was published. Without an earlier index
(a build made without one) the manifest's modification times and, for withdrawals, the withdrawal
dates stand in.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import re
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from docket.index_files import new_index
from docket.store import Manifest
from docket.store.manifest import iso
from docket.uris import Minter

INDEX_FILE = "oai-index.sqlite"
FORMAT = 2
_RICO = "https://www.ica.org/standards/RiC/ontology#"
_DCT = "http://purl.org/dc/terms/"
_YEAR = re.compile(r"^-?(\d{4})")
# The top of each set hierarchy; a record in ``type:telegram`` is also in ``type``.
PARENT_SETS = {
    "collection": "Collections",
    "type": "Document types",
    "decade": "Decades",
    "year": "Years",
}


@dataclass(frozen=True)
class Item:
    """One record as OAI-PMH sees it."""

    id: str
    datestamp: str  # YYYY-MM-DDThh:mm:ssZ
    deleted: bool = False
    sets: tuple[str, ...] = ()


@dataclass
class HarvestIndex:
    """Every record and set of one build, as a build computes them; ``write`` stores them for serving."""

    build_id: str
    created: str
    items: list[Item] = field(default_factory=list)
    sets: dict[str, str] = field(default_factory=dict)  # setSpec -> setName, sorted by setSpec

    def write(self, path: Path) -> None:
        """Write the index as the SQLite file ``path`` (synced, then renamed into place)."""
        with new_index(Path(path)) as db, db:
            self._fill(db)

    def reader(self) -> "IndexReader":
        """Return a reader of this index held in memory (for a build written without an index file)."""
        name = f"file:oai-index-{next(_MEMORY_NAMES)}?mode=memory&cache=shared"
        keeper = sqlite3.connect(name, uri=True, check_same_thread=False)
        with keeper:
            self._fill(keeper)
        return IndexReader(name, keeper=keeper)

    def _fill(self, db: sqlite3.Connection) -> None:
        db.executescript(_SCHEMA)
        db.executemany("INSERT INTO meta VALUES (?, ?)", [
            ("format", str(FORMAT)), ("build_id", self.build_id), ("created", self.created)])
        db.executemany("INSERT INTO oai_set VALUES (?, ?)", sorted(self.sets.items()))
        items = sorted(self.items, key=lambda item: item.id)
        db.executemany("INSERT INTO item VALUES (?, ?, ?, ?)",
                       ((i.id, i.datestamp, int(i.deleted), " ".join(i.sets)) for i in items))
        db.executemany("INSERT INTO member VALUES (?, ?, ?)",
                       ((spec, i.id, i.datestamp) for i in items for spec in i.sets))
        db.executescript(_INDEXES)


# setSpecs have no spaces (OAI-PMH: unreserved characters and colons), so an item's sets are one
# space-separated text; ``member`` repeats them a row each, with the datestamp, to page through a set.
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE oai_set (spec TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE item (id TEXT PRIMARY KEY, datestamp TEXT NOT NULL, deleted INTEGER NOT NULL,
                   sets TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE member (spec TEXT NOT NULL, id TEXT NOT NULL, datestamp TEXT NOT NULL,
                     PRIMARY KEY (spec, id)) WITHOUT ROWID;
"""
_INDEXES = "CREATE INDEX item_datestamp ON item (datestamp);"
_MEMORY_NAMES = itertools.count()  # each in-memory index its own database
_COLUMNS = "item.id, item.datestamp, item.deleted, item.sets"


class IndexReader:
    """Answer OAI-PMH's questions from one build's harvest index, a query each, whatever its size.

    One read-only connection per thread (SQLite connections must not be shared between threads);
    the set names, a few hundred at most, are read once.
    """

    def __init__(self, location: str | Path, keeper: sqlite3.Connection | None = None):
        self.location = str(location)
        self._keeper = keeper  # keeps an in-memory index alive while readers connect to it
        self._local = threading.local()
        try:
            meta = dict(self._db().execute("SELECT key, value FROM meta").fetchall())
            sets = self._db().execute("SELECT spec, name FROM oai_set ORDER BY spec").fetchall()
        except sqlite3.Error as exc:
            raise ValueError(f"{location}: not a readable harvest index: {exc}") from exc
        if meta.get("format") != str(FORMAT):
            raise ValueError(f"{location}: harvest index format {meta.get('format')!r} is not {FORMAT}")
        self.build_id: str = meta["build_id"]
        self.created: str = meta["created"]
        self.sets: dict[str, str] = dict(sets)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            memory = self.location.startswith("file:")
            uri = self.location if memory else Path(self.location).resolve().as_uri() + "?mode=ro"
            db = self._local.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        return db

    @property
    def earliest(self) -> str:
        """Return the lowest datestamp (the build time of an empty repository)."""
        row = self._db().execute("SELECT MIN(datestamp) FROM item").fetchone()
        return row[0] if row and row[0] is not None else self.created

    def first_id(self) -> str | None:
        row = self._db().execute("SELECT id FROM item ORDER BY id LIMIT 1").fetchone()
        return row[0] if row else None

    def get(self, record_id: str) -> Item | None:
        row = self._db().execute(f"SELECT {_COLUMNS} FROM item WHERE id = ?", (record_id,)).fetchone()
        return _item(row) if row else None

    def count(self, spec: str | None = None, since: str | None = None, until: str | None = None) -> int:
        """Return how many items are in set ``spec`` (None: any) with a datestamp within the bounds."""
        table, where, args = _selection(spec, since, until)
        return self._db().execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", args).fetchone()[0]

    def page(self, after: str, limit: int, spec: str | None = None, since: str | None = None,
             until: str | None = None) -> list[Item]:
        """Return up to ``limit`` items after ID ``after`` (in ID order) of that selection."""
        table, where, args = _selection(spec, since, until)
        join = " JOIN item ON item.id = member.id" if table == "member" else ""
        rows = self._db().execute(
            f"SELECT {_COLUMNS} FROM {table}{join} WHERE {where} AND {table}.id > ? ORDER BY {table}.id LIMIT ?",
            (*args, after, limit))
        return [_item(row) for row in rows]


def _selection(spec: str | None, since: str | None, until: str | None) -> tuple[str, str, list[str]]:
    table = "member" if spec else "item"
    where, args = ["1"], []
    if spec:
        where.append("member.spec = ?")
        args.append(spec)
    if since is not None:
        where.append(f"{table}.datestamp >= ?")
        args.append(since)
    if until is not None:
        where.append(f"{table}.datestamp <= ?")
        args.append(until)
    return table, " AND ".join(where), args


def _item(row: tuple[str, str, int, str]) -> Item:
    return Item(row[0], row[1], bool(row[2]), tuple(row[3].split()))


def _rows(store: Any, sparql: str) -> list[dict[str, str]]:
    result = store.query(sparql, union_default_graph=True)
    names = [v.value for v in result.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in result]


def _label_query(uris: list[str]) -> str:
    values = " ".join(f"<{u}>" for u in uris)
    return ("SELECT ?s ?l WHERE { VALUES ?s { " + values + " } "
            "?s <http://www.w3.org/2004/02/skos/core#prefLabel>|<http://www.w3.org/2000/01/rdf-schema#label> ?l "
            "FILTER(LANG(?l) = '' || LANGMATCHES(LANG(?l), 'en')) }")


def labels(store: Any, uris: list[str]) -> dict[str, str]:
    """Return an English (or untagged) label for each URI that has one; the first in order wins."""
    found: dict[str, str] = {}
    for start in range(0, len(uris), 500):
        for row in sorted(_rows(store, _label_query(uris[start:start + 500])), key=lambda r: r.get("l", "")):
            if "l" in row:
                found.setdefault(row["s"], row["l"])
    return found


def record_sets(store: Any, minter: Minter) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Return each published record's setSpecs and every set's name, from the record graphs."""
    prefix = str(minter.record_graph(""))
    memberships: dict[str, set[str]] = {}
    names: dict[str, str] = {}
    kinds: dict[str, tuple[str, str]] = {}  # concept URI -> (set kind, slug)
    query = (f"SELECT ?g ?v WHERE {{ GRAPH ?g {{ ?r a <{_RICO}Record> ; <{_DCT}%s> ?v }} "
             f"FILTER(STRSTARTS(STR(?g), \"{prefix}\")) }}")
    for predicate, kind in (("type", "type"), ("isPartOf", "collection")):
        for row in _rows(store, query % predicate):
            split = minter.split(row["v"])
            if split is None or split[0] != kind:
                continue
            rid = row["g"][len(prefix):]
            memberships.setdefault(rid, set()).add(f"{kind}:{split[1]}")
            kinds[row["v"]] = (kind, split[1])
    for row in _rows(store, query % "date"):
        match = _YEAR.match(row["v"])
        if not match:
            continue
        year = int(match.group(1))
        rid = row["g"][len(prefix):]
        memberships.setdefault(rid, set()).update({f"year:{year:04d}", f"decade:{year // 10 * 10:04d}s"})
    found = labels(store, sorted(kinds))
    for uri, (kind, slug) in kinds.items():
        label = found.get(uri, slug.replace("-", " ").capitalize())
        names[f"{kind}:{slug}"] = f"{'Document type' if kind == 'type' else 'Collection'}: {label}"
    for specs in memberships.values():
        for spec in specs:
            kind, _, value = spec.partition(":")
            if kind == "year":
                names[spec] = f"Year {value}"
            elif kind == "decade":
                names[spec] = f"The {value}"
    return memberships, names


def _with_parents(specs: set[str]) -> tuple[str, ...]:
    return tuple(sorted(specs | {spec.split(":", 1)[0] for spec in specs}))


def _withdrawal_stamp(day: str, created: str) -> str:
    try:
        moment = _dt.datetime.fromisoformat(day).replace(tzinfo=_dt.timezone.utc)
    except ValueError:
        return created
    return min(iso(moment), created)  # ISO strings of one form order as the times do


def compute_index(store: Any, manifest: Manifest, minter: Minter, previous: IndexReader | None = None,
                  published: str | None = None) -> HarvestIndex:
    """Index ``manifest``'s records and tombstones, with sets read from ``store`` (see the module docstring).

    ``published`` is when the build becomes visible (default: its creation time).
    """
    memberships, names = record_sets(store, minter)
    now = published or manifest.created
    def before(rid: str) -> Item | None:
        return previous.get(rid) if previous is not None else None

    items: list[Item] = []
    for rid, entry in manifest.records.items():
        old = before(rid)
        if entry.modified == manifest.created:  # changed by this build
            stamp = now
        elif old is not None and not old.deleted:
            stamp = old.datestamp
        else:
            stamp = entry.modified
        items.append(Item(rid, stamp, False, _with_parents(memberships.get(rid, set()))))
    for rid, stone in manifest.tombstones.items():
        old = before(rid)
        if old is not None and old.deleted:
            items.append(old)
        elif old is not None:  # withdrawn by this build: the deletion is news as of its publication
            items.append(Item(rid, now, True, old.sets))
        else:
            items.append(Item(rid, _withdrawal_stamp(stone.withdrawn, manifest.created), True, ()))
    if previous is not None:  # sets that now hold only deletions keep their names
        for item in items:
            for spec in item.sets:
                if spec not in names and spec in previous.sets:
                    names[spec] = previous.sets[spec]
    for spec in {s for item in items for s in item.sets}:
        names.setdefault(spec, PARENT_SETS.get(spec, spec))
    return HarvestIndex(manifest.build_id, manifest.created, items, dict(sorted(names.items())))


def load_index(folder: Path, store: Any, build_id: str, manifest: Callable[[], Manifest],
               minter: Minter) -> IndexReader:
    """Open the index of build ``build_id``, or compute it (from ``manifest()``) when the build has none."""
    path = Path(folder) / INDEX_FILE
    if path.exists():
        try:
            index = IndexReader(path)
        except ValueError:
            pass  # unreadable: computed again below, as for a build without one
        else:
            if index.build_id == build_id:
                return index
    return compute_index(store, manifest(), minter).reader()
