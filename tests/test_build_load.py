"""A build loads records as N-Quads text through Oxigraph's bulk loader: same triples, same counts, same errors."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from docket.store import BuildWriter, open_current

NT = """<http://example.org/id/record/{id}> <http://purl.org/dc/terms/title> "A \\"title\\" # not a comment" .
<http://example.org/id/record/{id}> <http://purl.org/dc/terms/identifier> "{id}" .

<http://example.org/id/record/{id}#event> <http://www.w3.org/2000/01/rdf-schema#label> "Sent"@en .
"""

# The same triples with a comment line and a comment after a triple: read by the parser instead.
COMMENTED = "# a record\n" + NT.replace('"{id}" .', '"{id}" . # its ID')


def graph_triples(settings, record_id: str) -> set[str]:
    store = open_current(settings)
    graph = ox.NamedNode(f"http://example.org/graph/record/{record_id}")
    return {f"{q.subject} {q.predicate} {q.object}" for q in store.raw.quads_for_pattern(None, None, None, graph)}


def test_line_per_triple_and_commented_ntriples_load_alike(settings):
    with BuildWriter(settings, fingerprint="f") as writer:
        assert writer.add_record("r1", NT.format(id="r1"), "h1") == 3
        assert writer.add_record("r2", COMMENTED.format(id="r2"), "h2") == 3
        summary = writer.commit()
    assert summary.counts["records"] == 2
    one, two = graph_triples(settings, "r1"), graph_triples(settings, "r2")
    assert len(one) == 3 and {t.replace("r1", "r2") for t in one} == two


def test_unreadable_ntriples_name_the_record_and_publish_nothing(settings):
    with pytest.raises(ValueError, match=r"record r2 \(r2\.json\): its N-Triples cannot be read"):
        with BuildWriter(settings, fingerprint="f") as writer:
            writer.add_record("r1", NT.format(id="r1"), "h1", source="r1.json")
            writer.add_record("r2", '<http://example.org/a> <http://example.org/b> "open .\n', "h2",
                              source="r2.json")
            writer.commit()
    assert settings.store_dir.joinpath("current").exists() is False


def test_a_record_held_back_after_it_was_added_leaves_no_triples(settings):
    with BuildWriter(settings, fingerprint="f") as writer:
        writer.add_record("r1", NT.format(id="r1"), "h1")
        writer.add_record("r2", NT.format(id="r2"), "h2")
        writer.hold_back("r2", "violates the shapes")
        summary = writer.commit()
    assert summary.counts["records"] == 1
    assert graph_triples(settings, "r2") == set() and len(graph_triples(settings, "r1")) == 3


def test_records_with_blank_nodes_keep_them_apart(settings):
    bnode = ('<http://example.org/id/record/{id}> <http://purl.org/dc/terms/source> _:b0 .\n'
             '_:b0 <http://www.w3.org/2000/01/rdf-schema#label> "{id}" .\n')
    with BuildWriter(settings, fingerprint="f") as writer:
        writer.add_record("r1", NT.format(id="r1") + bnode.format(id="r1"), "h1")
        writer.add_record("r2", NT.format(id="r2") + bnode.format(id="r2"), "h2")
        writer.add_graph("validation", '_:b0 <http://www.w3.org/2000/01/rdf-schema#label> "report" .\n')
        writer.commit()
    store = open_current(settings).raw
    labels = {}
    for q in store.quads_for_pattern(None, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), None):
        if isinstance(q.subject, ox.BlankNode):
            labels.setdefault(q.subject, set()).add(q.object.value)
    assert sorted(map(sorted, labels.values())) == [["r1"], ["r2"], ["report"]]


def test_records_wait_in_a_spool_file_that_is_loaded_at_once_and_never_published(settings, monkeypatch):
    import pyoxigraph as ox

    loads = []
    real = ox.Store.bulk_load

    def counting(self, *args, **kwargs):
        loads.append(kwargs.get("path") or "bytes")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ox.Store, "bulk_load", counting)
    with BuildWriter(settings, fingerprint="f") as writer:
        for n in range(50):
            writer.add_record(f"r{n}", NT.format(id=f"r{n}"), f"h{n}")
        assert (writer.path / "records.nq.spool").stat().st_size > 0
        summary = writer.commit()
    assert [p for p in loads if str(p).endswith("records.nq.spool")] == [str(summary.path / "records.nq.spool")]
    assert summary.counts["records"] == 50 and len(graph_triples(settings, "r49")) == 3
    assert not (summary.path / "records.nq.spool").exists()
