"""Check a build before it is published, and describe it in its own graph.

``BuildWriter.commit`` calls these in order: resources of unreconciled names that no record links any
more are dropped (``prune_unlinked``), the record graphs are exactly the records given
(``verify_record_graphs``), not markedly fewer than the current build's (``guard_record_count``),
the build's metadata is written (``metadata_quads``), and the closed store reads back what was
counted (``verify_on_disk``). Each raises ``BuildError`` (or ``RecordCountDrop``) with what is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Collection, Iterable, Iterator

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, PROV, RDF, VOID, XSD

from docket.store.base import StoreError
from docket.store.manifest import Manifest
from docket.uris import Minter



class BuildError(StoreError):
    """The build is inconsistent and was not published."""


class RecordCountDrop(BuildError):
    """The build would publish markedly fewer records than the current one; commit(force=True) overrides."""


def verify_record_graphs(store: ox.Store, minter: Minter, records: Collection[str], build: str) -> None:
    """Raise ``BuildError`` unless the store has a graph for each of ``records`` and for no other record."""
    prefix = str(minter.record_graph(""))
    in_store = {g.value[len(prefix):] for g in store.named_graphs()
                if isinstance(g, ox.NamedNode) and g.value.startswith(prefix)}
    expected = set(records)
    missing, extra = sorted(expected - in_store), sorted(in_store - expected)
    # A record whose mapping produced no triples has no graph; that is a mapping bug worth stopping on.
    if missing or extra:
        raise BuildError(
            f"build {build} is inconsistent: {len(missing)} records have no graph "
            f"({', '.join(missing[:5])}) and {len(extra)} graphs belong to no record ({', '.join(extra[:5])})"
        )


def prune_unlinked(store: ox.Store, graph: ox.NamedNode) -> int:
    """Remove from ``graph`` each resource that no other graph links to; return the quads it keeps.

    The graph describes the resources published for unreconciled names; one whose records were
    withdrawn, held back or changed since an incremental build's copy was made is linked by none.
    """
    kept = 0
    for subject in {quad.subject for quad in store.quads_for_pattern(None, None, None, graph)}:
        # No graph besides this one holds an unreconciled resource as subject or links one from it.
        if any(quad.graph_name != graph for quad in store.quads_for_pattern(None, None, subject, None)):
            kept += sum(1 for _ in store.quads_for_pattern(subject, None, None, graph))
        else:
            for quad in list(store.quads_for_pattern(subject, None, None, graph)):
                store.remove(quad)
    return kept


def guard_record_count(previous: Iterable[str], withdrawn: Collection[str], published: Collection[str],
                       held: Collection[str], min_ratio: float) -> None:
    """Raise ``RecordCountDrop`` when fewer than ``min_ratio`` of the ``previous`` build's records remain.

    Records withdrawn or merged on purpose (``withdrawn``) are not missing; the message counts the
    missing ones gone from the sources apart from those ``held`` back by validation.
    """
    expected = set(previous) - set(withdrawn)
    before, after = len(expected), len(published)
    if before == 0 or after >= min_ratio * before:
        return
    missing = sorted(expected - set(published))
    held_back = [rid for rid in missing if rid in held]
    sample = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
    raise RecordCountDrop(
        f"this build would publish {after} records where the current build publishes {before}, "
        f"not counting deliberate withdrawals ({after / before:.0%}, below the minimum of "
        f"{min_ratio:.0%}): {len(missing)} records "
        f"are missing ({len(missing) - len(held_back)} gone from the sources, {len(held_back)} held back by "
        f"validation): {sample}. Nothing was switched; check the sources, or force the build."
    )


def metadata_quads(minter: Minter, manifest: Manifest, graph: ox.NamedNode) -> Iterator[ox.Quad]:
    """Describe the build, every record's modification time and every tombstone, in ``graph``."""
    docket = str(minter.ontology)
    build = ox.NamedNode(str(minter.fragment(minter.graph("build"), "build")))
    dataset = ox.NamedNode(str(minter.dataset()))
    date_time = ox.NamedNode(XSD.dateTime)
    created = ox.Literal(manifest.created, datatype=date_time)

    def q(s: Any, p: str, o: Any) -> ox.Quad:
        return ox.Quad(s, ox.NamedNode(p), o, graph)

    def integer(n: int) -> ox.Literal:
        return ox.Literal(str(n), datatype=ox.NamedNode(XSD.integer))

    yield q(build, RDF.type, ox.NamedNode(PROV.Activity))
    yield q(build, DCTERMS.identifier, ox.Literal(manifest.build_id))
    yield q(build, PROV.endedAtTime, created)
    yield q(build, PROV.generated, dataset)
    yield q(build, docket + "sourceFingerprint", ox.Literal(manifest.source_fingerprint))
    for name, term in (("records", "recordCount"), ("withdrawn", "withdrawnCount"),
                       ("held_back", "heldBackCount"), ("triples", "tripleCount")):
        yield q(build, docket + term, integer(manifest.counts[name]))
    yield q(dataset, DCTERMS.modified, created)
    yield q(dataset, VOID.triples, integer(manifest.counts["triples"]))
    for rid, entry in manifest.records.items():
        record = ox.NamedNode(str(minter.record(rid)))
        yield q(record, DCTERMS.modified, ox.Literal(entry.modified, datatype=date_time))
    for rid, stone in manifest.tombstones.items():
        record = ox.NamedNode(str(minter.record(rid)))
        yield q(record, docket + "withdrawn", ox.Literal(stone.withdrawn, datatype=ox.NamedNode(XSD.date)))
        yield q(record, DCTERMS.identifier, ox.Literal(rid))
        if stone.replaced_by:
            yield q(record, DCTERMS.isReplacedBy, ox.NamedNode(str(minter.record(stone.replaced_by))))


def verify_on_disk(store_path: Path, triples: int, graphs: int, build: str) -> None:
    """Raise ``BuildError`` unless the closed store at ``store_path`` reads back ``triples`` in ``graphs``."""
    store = ox.Store.read_only(str(store_path))
    found_triples = len(store)
    found_graphs = sum(1 for _ in store.named_graphs())
    del store
    if (found_triples, found_graphs) != (triples, graphs):
        raise BuildError(
            f"build {build} reads back {found_triples} triples in {found_graphs} graphs, "
            f"expected {triples} in {graphs}; it was not published"
        )
