"""Index one build for harvesting: every record's datestamp, deletion and sets, in identifier order.

The index is computed once per build (``docket build`` writes ``oai-index.json`` into the build
folder, just before the switch) so OAI-PMH requests never aggregate over the store.

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
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from docket.store import Manifest
from docket.store.manifest import iso
from docket.uris import Minter

INDEX_FILE = "oai-index.json"
FORMAT = 1
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
    """Every record and set of one build; ``items`` sorted by record ID."""

    build_id: str
    created: str
    items: list[Item] = field(default_factory=list)
    sets: dict[str, str] = field(default_factory=dict)  # setSpec -> setName, sorted by setSpec

    def __post_init__(self) -> None:
        self.items.sort(key=lambda item: item.id)
        self.by_id = {item.id: item for item in self.items}

    @property
    def earliest(self) -> str:
        """Return the lowest datestamp (the build time of an empty repository)."""
        return min((item.datestamp for item in self.items), default=self.created)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "build_id": self.build_id,
            "created": self.created,
            "sets": self.sets,
            "items": [[i.id, i.datestamp, i.deleted, list(i.sets)] for i in self.items],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "HarvestIndex":
        if data.get("format") != FORMAT:
            raise ValueError(f"harvest index format {data.get('format')!r} is not {FORMAT}")
        items = [Item(rid, stamp, bool(deleted), tuple(sets)) for rid, stamp, deleted, sets in data["items"]]
        return cls(data["build_id"], data["created"], items, dict(data["sets"]))

    def write(self, path: Path) -> None:
        write_durably(path, json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")).encode())

    @classmethod
    def read(cls, path: Path) -> "HarvestIndex":
        try:
            return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a readable harvest index: {exc}") from exc


def write_durably(path: Path, data: bytes) -> None:
    """Write a file of a build: a temporary file, fsync, rename (the build's manifest syncs the folder)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


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


def compute_index(store: Any, manifest: Manifest, minter: Minter, previous: HarvestIndex | None = None,
                  published: str | None = None) -> HarvestIndex:
    """Index ``manifest``'s records and tombstones, with sets read from ``store`` (see the module docstring).

    ``published`` is when the build becomes visible (default: its creation time).
    """
    memberships, names = record_sets(store, minter)
    now = published or manifest.created
    before = previous.by_id if previous is not None else {}
    items: list[Item] = []
    for rid, entry in manifest.records.items():
        old = before.get(rid)
        if entry.modified == manifest.created:  # changed by this build
            stamp = now
        elif old is not None and not old.deleted:
            stamp = old.datestamp
        else:
            stamp = entry.modified
        items.append(Item(rid, stamp, False, _with_parents(memberships.get(rid, set()))))
    for rid, stone in manifest.tombstones.items():
        old = before.get(rid)
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
               minter: Minter) -> HarvestIndex:
    """Read the index of build ``build_id``, or compute it (from ``manifest()``) when the build has none."""
    path = Path(folder) / INDEX_FILE
    if path.exists():
        index = HarvestIndex.read(path)
        if index.build_id == build_id:
            return index
    return compute_index(store, manifest(), minter)
