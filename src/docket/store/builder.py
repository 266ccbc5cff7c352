"""Build a new store beside the published one, check it, then switch to it atomically.

A build: new folder -> load (records reused from the current build where unchanged) -> tombstones ->
verify the record graphs and count -> record-count guard -> build metadata -> write ``manifest.json``
(fsync) -> switch ``current``. Until the switch nothing the server reads has changed; a build killed at
any moment leaves an unlinked folder that the next build removes.

Incremental: when the current build was made with the same base URI and ``fingerprint`` (code, shapes,
authorities -- whatever besides a record shapes its triples), its store is copied with hard links
(Oxigraph backup, cheap) and records whose content hash is unchanged are kept as they are. Dataset-wide
graphs (authorities, ontology, validation) not given to the new build are carried over from the copy.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import itertools
import shutil
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

import pyoxigraph as ox
from rdflib import Graph
from rdflib.namespace import DCTERMS

from docket.config import Settings
from docket.store.base import StoreError
from docket.store import space
from docket.store.checks import (BuildError, guard_record_count, metadata_quads, prune_unlinked, verify_on_disk,
                                 verify_record_graphs)
from docket.store.layout import StoreLayout
from docket.store.manifest import Manifest, RecordEntry, Tombstone, iso, utc_now
from docket.uris import Minter

NT = ox.RdfFormat.N_TRIPLES
# Records' N-Quads wait in a file in the build folder and are bulk-loaded in few, large loads: each
# load writes sorted files for every index, and thousands of small ones slow RocksDB down as the store
# grows (at 100,000 records, loads of 200,000 quads made the record phase 306 s instead of 243 s).
_FLUSH_QUADS = 20_000_000
_SPOOL = "records.nq.spool"
_FLUSH_REMOVED = 200_000  # quads removed from a large graph between flushes (``_drop_graph``)
# Written by the build itself: its metadata, and the resources published for unreconciled names.
UNRECONCILED_GRAPH = "unreconciled"
RESERVED_GRAPHS = ("build", UNRECONCILED_GRAPH)


@dataclass
class BuildSummary:
    """Tell what a committed build published and what changed since the previous one."""

    build_id: str
    path: Path
    created: str
    counts: dict[str, int]
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)  # withdrawn by this build
    held_back: list[str] = field(default_factory=list)
    previous_build: str | None = None
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase, in the order they ran

    def __str__(self) -> str:
        c = self.counts
        text = (f"build {self.build_id}: {c['records']} records published ({len(self.new)} new, "
                f"{len(self.changed)} changed, {len(self.unchanged)} unchanged), {len(self.withdrawn)} "
                f"withdrawn, {len(self.held_back)} held back, {c['triples']} triples, "
                f"{self.seconds:.1f} s")
        if self.phases:
            text += " (" + ", ".join(f"{name} {s:.1f} s" for name, s in self.phases.items()) + ")"
        return text


def triples_hash(ntriples: bytes) -> str:
    """Hash N-Triples independently of line order (serializers order triples as they like)."""
    lines = sorted(line.strip() for line in ntriples.splitlines() if line.strip() and not line.startswith(b"#"))
    return "sha256:" + hashlib.sha256(b"\n".join(lines)).hexdigest()


def _as_nquads(text: bytes, graph: ox.NamedNode, blank_nodes: bool = False) -> bytes | None:
    """Put every triple of line-per-triple N-Triples into ``graph`` as N-Quads; None if not that simple.

    Records are loaded many to one bulk load, in which equal blank node labels are one node: text with
    blank nodes is refused unless ``blank_nodes`` (the caller loads it on its own).
    """
    if not blank_nodes and b"_:" in text:
        return None
    suffix = b" <" + graph.value.encode() + b"> .\n"
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line[:1] == b"#" or line[-1:] != b".":
            return None
        out.append(line[:-1].rstrip() + suffix)
    return b"".join(out)


def _unreadable(record_id: str, source: str | None, exc: Exception) -> ValueError:
    return ValueError(f"record {record_id} ({source or 'unknown source'}): its N-Triples cannot be read: {exc}")


def _to_ntriples(data: str | bytes | Graph) -> bytes:
    if isinstance(data, Graph):
        return data.serialize(format="nt", encoding="utf-8")
    return data.encode("utf-8") if isinstance(data, str) else data


class BuildWriter:
    """Write one build; ``commit()`` publishes it, ``abort()`` (or an exception in ``with``) drops it.

    Typical use by the build command::

        with BuildWriter(settings, fingerprint=fp) as build:
            for record in records:
                h = content_hash(record)
                if build.is_unchanged(record.id, h):
                    build.reuse(record.id)
                else:
                    ... map, validate ...
                    build.add_record(record.id, ntriples, h, source=str(record.source))
            build.add_graph("authorities", authorities)
            summary = build.commit()
    """

    def __init__(
        self,
        settings: Settings,
        *,
        fingerprint: str = "",
        incremental: bool = True,
        min_record_ratio: float | None = None,
        now: _dt.datetime | None = None,
        expected_records: int | None = None,
        check_space: bool = True,
        on_phase: Callable[[str, float], None] | None = None,
    ):
        self.settings = settings
        self.minter = Minter.from_settings(settings)
        self.fingerprint = fingerprint
        self.min_record_ratio = settings.min_record_ratio if min_record_ratio is None else min_record_ratio
        self.now = (now or utc_now()).astimezone(_dt.timezone.utc).replace(microsecond=0)
        self.layout = StoreLayout(settings.store_dir)
        self._started = time.monotonic()
        self._phases: dict[str, float] = {}
        self._phase_began = self._started
        self._on_phase = on_phase
        self._lock: int | None = self.layout.acquire()
        try:
            self.layout.clean()
            current = self.layout.current()
            self.previous: Manifest | None = Manifest.read(self.layout.manifest_path(current)) if current else None
            self.reusing = bool(
                incremental and self.previous is not None and current is not None
                and self.previous.base_uri == self.minter.base and self.previous.fingerprint == fingerprint
            )
            if check_space and current is not None and self.previous is not None:
                # After ``clean``: unfinished builds it removed give their space back first.
                space.check_space(self.layout.root, current, self.layout.store_path(current),
                                  len(self.previous.records),
                                  len(self.previous.records) if expected_records is None else expected_records,
                                  self.reusing)
            self.path = self.layout.new_build(self.now)
            store_path = self.layout.store_path(self.path)
            if self.reusing:
                assert current is not None
                # Hard links to the current build's immutable files: cheap, and never writes to it.
                ox.Store.read_only(str(self.layout.store_path(current))).backup(str(store_path))
            self._store: ox.Store | None = ox.Store(str(store_path))
        except BaseException:
            self._release()
            raise
        # Graphs inherited from the copy that this build has not confirmed yet.
        self._inherited: set[str] = set(self.previous.records) if self.reusing and self.previous else set()
        self._records: dict[str, RecordEntry] = {}
        self._new: list[str] = []
        self._changed: list[str] = []
        self._unchanged: list[str] = []
        self._held: dict[str, dict[str, Any]] = {}
        self._withdrawals: dict[str, Tombstone] = {}
        self._graphs: dict[str, int] = {}
        self._buffer: list[ox.Quad] = []
        self._spool: BinaryIO | None = None  # records' N-Quads not loaded yet (``_SPOOL``)
        self._spooled = array("q")  # where each spooled record's N-Quads start, in spool order
        self._spooled_ids: list[str] = []
        self._buffered = 0
        self._shared: dict[bytes, None] = {}  # N-Triples lines of the unreconciled graph, each once
        self._finished = False
        self._tombstones: dict[str, Tombstone] | None = None

    # --- records ----------------------------------------------------------------------------------

    def is_unchanged(self, record_id: str, content_hash: str) -> bool:
        """Say whether ``record_id`` can be kept from the current build without mapping or validating."""
        if not self.reusing or self.previous is None or record_id in self._records:
            return False
        entry = self.previous.records.get(record_id)
        return entry is not None and entry.hash == content_hash

    def reuse(self, record_id: str) -> None:
        """Keep the current build's graph for ``record_id``, with its modification time."""
        self._check_open()
        if record_id in self._records or record_id in self._held:
            raise ValueError(f"record {record_id} was already given to this build")
        if not self.reusing or self.previous is None or record_id not in self.previous.records:
            raise ValueError(f"record {record_id} cannot be reused: the current build does not hold it "
                             f"or was made from other code, shapes or authorities")
        self._inherited.discard(record_id)
        self._records[record_id] = self.previous.records[record_id]
        self._unchanged.append(record_id)

    def add_record(
        self,
        record_id: str,
        data: str | bytes | Graph,
        content_hash: str,
        source: str | None = None,
        shared: bytes = b"",
    ) -> int:
        """Add one record's triples (N-Triples or a graph) as its own named graph; return the count.

        ``shared``: N-Triples describing the resources published for the record's unreconciled
        names, which every record naming them repeats; they go once into the graph
        ``{base}graph/unreconciled`` (see ``commit``). A record whose hash equals the current
        build's keeps its modification time.
        """
        self._check_open()
        if record_id in self._records or record_id in self._held:
            raise ValueError(f"record {record_id} was already given to this build")
        graph = ox.NamedNode(str(self.minter.record_graph(record_id)))
        text = _to_ntriples(data)
        nquads = _as_nquads(text, graph)
        if nquads is None:  # not one triple per line: let the parser read it
            try:
                quads = [ox.Quad(q.subject, q.predicate, q.object, graph)
                         for q in ox.parse(text, format=NT, rename_blank_nodes=True)]  # each record's own
            except SyntaxError as exc:
                raise _unreadable(record_id, source, exc) from exc
            count = len(quads)
        else:
            count = nquads.count(b"\n")
        if record_id in self._inherited:
            self._drop_graph(graph)
            self._inherited.discard(record_id)
        if nquads is None:
            self._buffer.extend(quads)
            self._buffered += count
        else:
            # As text, parsed once by Oxigraph's bulk loader: no Python object per triple.
            if self._spool is None:
                self._spool = open(self.path / _SPOOL, "w+b")
            self._spooled.append(self._spool.tell())
            self._spooled_ids.append(record_id)
            self._spool.write(nquads)
            self._buffered += count
        if self._buffered >= _FLUSH_QUADS:
            self._flush()
        if shared:
            self._shared.update(dict.fromkeys(shared.splitlines(keepends=True)))
        data_hash = triples_hash(text + shared)
        before = self.previous.records.get(record_id) if self.previous else None
        # Unchanged means the same source and the same published triples: new mapping code that
        # changes a record's triples changes its modification time, so no cache serves the old ones.
        if before is not None and before.hash == content_hash and before.data_hash == data_hash:
            modified = before.modified
            self._unchanged.append(record_id)
        else:
            modified = iso(self.now)
            (self._changed if before is not None else self._new).append(record_id)
        self._records[record_id] = RecordEntry(content_hash, modified, source, count, data_hash)
        return count

    def hold_back(self, record_id: str, reason: str, source: str | None = None) -> None:
        """Leave ``record_id`` out of this build (it failed validation); it is not withdrawn.

        Also undoes an earlier ``add_record`` or ``reuse`` of it, for the dataset-level checks that
        run after all records are in.
        """
        self._check_open()
        graph = ox.NamedNode(str(self.minter.record_graph(record_id)))
        entry = self._records.pop(record_id, None)
        if entry is not None or record_id in self._inherited:
            self._flush()
            self._drop_graph(graph)
            self._inherited.discard(record_id)
            for bucket in (self._new, self._changed, self._unchanged):
                if record_id in bucket:
                    bucket.remove(record_id)
        self._held[record_id] = {"reason": reason, "source": source or (entry.source if entry else None)}

    def withdraw(self, record_id: str, *, date: _dt.date | None = None, replaced_by: str | None = None,
                 reason: str = "withdrawn") -> None:
        """Withdraw a record on purpose (or merge it into ``replaced_by``); it leaves a tombstone."""
        self._check_open()
        if record_id in self._records:
            raise ValueError(f"record {record_id} is published by this build and cannot also be withdrawn")
        if replaced_by is not None and replaced_by == record_id:
            raise ValueError(f"record {record_id} cannot be replaced by itself")
        before = self.previous.records.get(record_id) if self.previous else None
        source = before.source if before else None
        day = (date or self.now.date()).isoformat()
        self._withdrawals[record_id] = Tombstone(day, replaced_by, source, reason)

    def merge(self, record_id: str, into: str, *, date: _dt.date | None = None) -> None:
        """Record that ``record_id`` was merged into ``into`` (``dcterms:isReplacedBy``)."""
        self.withdraw(record_id, date=date, replaced_by=into, reason="merged")

    def identifiers(self) -> Iterator[tuple[str, str]]:
        """Yield (record IRI, identifier) for every record in the build, for the dataset-level checks."""
        self._flush()
        prefix = str(self.minter.record_graph(""))
        rows = self._open_store().query(
            "SELECT ?r ?id WHERE { GRAPH ?g { ?r a <https://www.ica.org/standards/RiC/ontology#Record> ; "
            f"<{DCTERMS.identifier}> ?id }} FILTER(STRSTARTS(STR(?g), \"{prefix}\")) }}"
        )
        for row in rows:
            yield row["r"].value, row["id"].value

    def check_dataset(self, validator: Any, description: str | bytes | Graph) -> list[Any]:
        """Run ``validator.validate_dataset`` over the build; hold back every record it blocks.

        Returns the findings, to be added to the validation report.
        """
        findings = validator.validate_dataset(description, self.identifiers())
        for finding in findings:
            if finding.blocks and finding.record and finding.record in self._records:
                self.hold_back(finding.record, finding.message)
        return findings

    # --- dataset-wide graphs ----------------------------------------------------------------------

    def add_graph(self, name: str, data: str | bytes | Graph) -> int:
        """Replace the dataset-wide graph ``{base}graph/{name}`` (authorities, ontology, validation)."""
        self._check_open()
        if name in RESERVED_GRAPHS:
            raise ValueError(f"graph {name!r} is written by the build itself")
        graph = ox.NamedNode(str(self.minter.graph(name)))
        text = _to_ntriples(data)
        nquads = _as_nquads(text, graph, blank_nodes=True)
        self._flush()
        self._drop_graph(graph, large=True)
        if nquads is None:
            quads = [ox.Quad(q.subject, q.predicate, q.object, graph)
                     for q in ox.parse(text, format=NT, rename_blank_nodes=True)]
            self._buffer.extend(quads)
            count = len(quads)
        else:
            # Loaded alone, so its blank nodes are its own (the bulk loader renames them per load).
            # The validation report of 100,000 records is millions of triples: no Python object each.
            try:
                self._open_store().bulk_load(nquads, format=ox.RdfFormat.N_QUADS)
            except SyntaxError as exc:
                raise ValueError(f"graph {name}: its N-Triples cannot be read: {exc}") from exc
            count = nquads.count(b"\n")
        self._graphs[name] = count
        return count

    def add_graph_file(self, name: str, path: Path) -> int:
        """Replace the dataset-wide graph ``name`` with the N-Triples file ``path`` (one triple a line).

        For a graph too large to hold as bytes (the validation report: about ten million triples at a
        million records): Oxigraph loads the file itself, and the lines are counted as it is read.
        """
        self._check_open()
        if name in RESERVED_GRAPHS:
            raise ValueError(f"graph {name!r} is written by the build itself")
        graph = ox.NamedNode(str(self.minter.graph(name)))
        self._flush()
        self._drop_graph(graph, large=True)
        try:
            self._open_store().bulk_load(path=str(path), format=NT, to_graph=graph)
        except SyntaxError as exc:
            raise ValueError(f"graph {name}: {path.name} cannot be read as N-Triples: {exc}") from exc
        with open(path, "rb") as fh:
            count = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))
        self._graphs[name] = count
        return count

    def load_pending(self) -> None:
        """Load the records given so far that still wait in the spool (the next graph or commit would)."""
        self._check_open()
        self._flush()

    def phase(self, name: str) -> None:
        """End the phase that ran since the previous one (or since the build began), naming it ``name``.

        The summary lists the phases with their seconds, so a slow build says where its time went;
        ``on_phase(name, seconds)`` hears of each as it ends (the CLI shows the build's progress so).
        """
        now = time.monotonic()
        self._phases[name] = self._phases.get(name, 0.0) + now - self._phase_began
        self._phase_began = now
        if self._on_phase is not None:
            self._on_phase(name, self._phases[name])

    # --- publishing -------------------------------------------------------------------------------

    def commit(self, force: bool = False,
               before_switch: Callable[[Path, Manifest], None] | None = None) -> BuildSummary:
        """Check the build, write its manifest and make it current.

        ``before_switch(folder, manifest)`` runs once the store is complete and closed, before the
        manifest is written: files it writes into the folder (dumps, sitemaps) publish with the build,
        and an exception from it drops the build like any other.

        Raises ``RecordCountDrop`` (before anything is switched, the build still open) when fewer than
        ``min_record_ratio`` of the current build's records would be published and ``force`` is false;
        raises ``BuildError`` when the store does not hold exactly the records the build was given.
        """
        self._check_open()
        self._flush()
        self._close_spool()
        tombstones = self._settle_tombstones()
        self._write_unreconciled()
        verify_record_graphs(self._open_store(), self.minter, self._records, self.path.name)
        if not force and self.previous is not None:
            guard_record_count(self.previous.records, self._withdrawals, self._records, self._held,
                               self.min_record_ratio)

        store = self._open_store()
        build_graph = ox.NamedNode(str(self.minter.graph("build")))
        self._drop_graph(build_graph, large=True)  # the copy's old metadata; rewritten below
        data_triples = len(store)
        graphs = dict(self.previous.graphs) if self.reusing and self.previous else {}
        graphs.pop("build", None)
        graphs.update(self._graphs)
        graphs = {name: n for name, n in graphs.items() if n}  # an empty graph does not exist
        counts = {
            "records": len(self._records),
            "withdrawn": len(tombstones),
            "held_back": len(self._held),
            "new": len(self._new),
            "changed": len(self._changed),
            "unchanged": len(self._unchanged),
            "triples": data_triples,
            "graphs": len(self._records) + len(graphs),
        }
        manifest = Manifest(
            build_id=self.path.name,
            created=iso(self.now),
            base_uri=self.minter.base,
            fingerprint=self.fingerprint,
            previous_build=self.previous.build_id if self.previous else None,
            counts=counts,
            graphs=graphs,
            records=dict(sorted(self._records.items())),
            tombstones=dict(sorted(tombstones.items())),
            held_back=dict(sorted(self._held.items())),
        )
        manifest.source_fingerprint = manifest.fingerprint_records()
        written = itertools.count()  # counts the quads as they stream past
        store.bulk_extend(quad for quad, _ in zip(metadata_quads(self.minter, manifest, build_graph), written))
        metadata = next(written)
        manifest.graphs["build"] = metadata
        store.flush()
        store.optimize()
        # Drop every reference: pyoxigraph closes the database (and waits for its background work)
        # when the last one goes, and only a closed store may be reopened read-only and published.
        del store
        self._store = None
        verify_on_disk(self.layout.store_path(self.path), data_triples + metadata, counts["graphs"] + 1, self.path.name)
        self.phase("final load and checks")
        if before_switch is not None:
            before_switch(self.path, manifest)
            self.phase("derived files")

        manifest.write(self.layout.manifest_path(self.path))
        self.layout.switch(self.path)
        self._finished = True
        self.layout.clean()
        self._release()
        return BuildSummary(
            build_id=manifest.build_id, path=self.path, created=manifest.created, counts=counts,
            new=list(self._new), changed=list(self._changed), unchanged=list(self._unchanged),
            withdrawn=sorted(set(tombstones) - set(self.previous.tombstones if self.previous else {})),
            held_back=list(self._held), previous_build=manifest.previous_build,
            seconds=time.monotonic() - self._started, phases=dict(self._phases),
        )

    def abort(self) -> None:
        """Drop the build: nothing is switched, the folder is removed."""
        if self._finished:
            return
        self._finished = True
        self._store = None
        self._buffer.clear()
        if self._spool is not None:
            self._spool.close()
            self._spool = None
        shutil.rmtree(self.path, ignore_errors=True)
        self._release()

    def __enter__(self) -> "BuildWriter":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if not self._finished:
            self.abort()

    # --- inside -----------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._finished:
            raise StoreError(f"build {self.path.name} is already committed or aborted")

    def _open_store(self) -> ox.Store:
        if self._store is None:
            raise StoreError(f"build {self.path.name} has no open store")
        return self._store

    def _flush(self) -> None:
        store = self._open_store()
        spool = self._spool
        if spool is not None and self._spooled:
            spool.flush()
            try:
                store.bulk_load(path=str(self.path / _SPOOL), format=ox.RdfFormat.N_QUADS)
            except SyntaxError as exc:
                self._name_unreadable(spool)
                raise StoreError(f"build {self.path.name}: records cannot be loaded: {exc}") from exc
            spool.seek(0)
            spool.truncate()
            self._spooled = array("q")
            self._spooled_ids = []
        if self._buffer:
            store.bulk_extend(self._buffer)
            self._buffer = []
        self._buffered = 0

    def _name_unreadable(self, spool: BinaryIO) -> None:
        """Raise the error that names the first spooled record Oxigraph cannot read, if one is."""
        ends = [*self._spooled[1:], spool.seek(0, 2)]
        for record_id, start, end in zip(self._spooled_ids, self._spooled, ends):
            spool.seek(start)
            try:
                for _ in ox.parse(spool.read(end - start), format=ox.RdfFormat.N_QUADS):
                    pass
            except SyntaxError as bad:
                entry = self._records.get(record_id)
                raise _unreadable(record_id, entry.source if entry else None, bad) from bad

    def _close_spool(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None
            (self.path / _SPOOL).unlink(missing_ok=True)

    def _drop_graph(self, graph: ox.NamedNode, large: bool = False) -> None:
        """Remove ``graph`` from the build's store (an incremental build's copy holds the current one's).

        ``large``: a dataset-wide graph (the report, the build metadata), whose quads are removed one
        at a time first, the deletions written out every ``_FLUSH_REMOVED``. Measured on the copy of a
        100,000-record build, its report's 2,571,600 quads: ``remove_graph`` 99 s with a 3.6 GB peak (one
        transaction holds every deletion); a SPARQL ``DELETE WHERE`` 41 s, 3.1 GB; one at a time 51 s,
        1.6 GB (the deletions pile up in memory until written); one at a time with the flushes 44 s and
        356 MB, and the commit's ``optimize`` after it 12 s instead of 17. On a record's few dozen quads
        ``remove_graph`` alone is quicker.
        """
        store = self._open_store()
        if store.contains_named_graph(graph):
            if large:
                for n, quad in enumerate(store.quads_for_pattern(None, None, None, graph), 1):  # a snapshot
                    store.remove(quad)
                    if n % _FLUSH_REMOVED == 0:
                        store.flush()
            store.remove_graph(graph)  # the graph itself, and anything left in it

    def _release(self) -> None:
        if self._lock is not None:
            StoreLayout.release(self._lock)
            self._lock = None

    def _settle_tombstones(self) -> dict[str, Tombstone]:
        """Turn records that vanished since the current build into tombstones; keep the old ones.

        Idempotent, so ``commit(force=True)`` after a refused commit sees the same result.
        """
        if self._tombstones is not None:
            return self._tombstones
        published = set(self._records)
        tombstones = {
            rid: t for rid, t in (self.previous.tombstones.items() if self.previous else ())
            if rid not in published  # a record that came back is no longer withdrawn
        }
        tombstones.update(self._withdrawals)
        if self.previous is not None:
            day = self.now.date().isoformat()
            for rid, entry in self.previous.records.items():
                if rid not in published and rid not in self._held and rid not in tombstones:
                    tombstones[rid] = Tombstone(day, None, entry.source, "no longer in the sources")
        for rid in sorted(self._inherited):  # copied from the current build, neither kept nor replaced
            self._drop_graph(ox.NamedNode(str(self.minter.record_graph(rid))))
        self._inherited.clear()
        self._tombstones = tombstones
        return tombstones

    def _write_unreconciled(self) -> None:
        """Describe, in one graph, each resource published for an unreconciled name that a record links.

        An incremental build starts from the current build's graph (its reused records' names are
        there), adds the new records' and drops every resource no record graph points at any more
        (its records withdrawn, held back or changed). A full build writes only what it was given.
        """
        store = self._open_store()
        graph = ox.NamedNode(str(self.minter.graph(UNRECONCILED_GRAPH)))
        if self._shared:
            nquads = _as_nquads(b"".join(self._shared), graph)
            try:
                if nquads is None:
                    raise SyntaxError("not one triple a line")
                store.bulk_load(nquads, format=ox.RdfFormat.N_QUADS)
            except SyntaxError as exc:
                raise BuildError(f"build {self.path.name}: the unreconciled names' triples cannot be read: {exc}") from exc
            self._shared.clear()
        count = prune_unlinked(store, graph)
        if not count:
            self._drop_graph(graph)  # an empty graph does not exist, in the manifest as in the store
        self._graphs[UNRECONCILED_GRAPH] = count
