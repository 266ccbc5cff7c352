"""The record graphs file: every record's graph and findings kept beside the store, served from there."""

from __future__ import annotations

import sqlite3
import zlib

import pyoxigraph as ox
import pytest
from hypothesis import given, settings as hsettings, strategies as st
from lxml import etree
from rdflib import Graph
from rdflib.compare import isomorphic

from docket.config import Settings

from docket.harvest.oai import Repository
from docket.harvest.index import IndexReader
from docket.record_graphs import FILE, GraphWriter, RecordGraphs, open_record_graphs
from docket.serve import create_app
from docket.serve import describe
from docket.store import OxigraphStore, current_manifest
from docket.store.layout import OXIGRAPH
from docket.uris import Minter
from harvest_helpers import ALL_IDS, SEED_ID, store_path

PREFIX = "http://example.org/graph/record/"


def quads(graph: str, n: int) -> bytes:
    return b"".join(f'<http://example.org/s{i}> <http://example.org/p> "v {i} <x> .\\n" <{graph}> .\n'.encode()
                    for i in range(n))


SAMPLE = (quads("http://example.org/graph/authorities", 3) + quads(PREFIX + "a", 5) + quads(PREFIX + "b", 1)
          + quads("http://example.org/graph/validation", 4) + quads(PREFIX + "c", 7))


def written(tmp_path, pieces: list[bytes]) -> dict[str, list[ox.Triple]]:
    path = tmp_path / FILE
    path.unlink(missing_ok=True)
    with GraphWriter(path, PREFIX, "build-1") as writer:
        for piece in pieces:
            writer.write(piece)
    graphs = RecordGraphs(path)
    db = sqlite3.connect(path)
    return {iri: graphs.triples(iri) for (iri,) in db.execute("SELECT iri FROM graph")}


def expected() -> dict[str, list[ox.Triple]]:
    found: dict[str, list[ox.Triple]] = {}
    for quad in ox.parse(SAMPLE, format=ox.RdfFormat.N_QUADS):
        if quad.graph_name.value.startswith(PREFIX):
            found.setdefault(quad.graph_name.value, []).append(quad.triple)
    return found


@hsettings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(SAMPLE)), max_size=12))
def test_the_record_graphs_are_kept_whole_however_the_quads_arrive(tmp_path_factory, cuts):
    bounds = sorted(set(cuts) | {0, len(SAMPLE)})
    pieces = [SAMPLE[a:b] for a, b in zip(bounds, bounds[1:])]
    tmp = tmp_path_factory.mktemp("graphs")
    assert written(tmp, pieces) == expected()


def test_a_piece_of_a_record_graph_held_back_across_large_writes_is_not_lost(tmp_path, monkeypatch):
    monkeypatch.setattr("docket.record_graphs._BUFFER", 64)  # cut after nearly every piece
    pieces = [SAMPLE[i:i + 50] for i in range(0, len(SAMPLE), 50)]
    assert written(tmp_path, pieces) == expected()


def test_a_graph_whose_statements_come_apart_is_refused_and_no_file_is_left(tmp_path):
    path = tmp_path / FILE
    with pytest.raises(sqlite3.IntegrityError):
        with GraphWriter(path, PREFIX, "build-1") as writer:
            writer.write(quads(PREFIX + "a", 2) + quads(PREFIX + "b", 2) + quads(PREFIX + "a", 1))
    assert not path.exists()


def test_quads_ending_inside_a_line_are_refused(tmp_path):
    with pytest.raises(ValueError, match="ended inside a line"):
        with GraphWriter(tmp_path / FILE, PREFIX, "build-1") as writer:
            writer.write(quads(PREFIX + "a", 2)[:-5])
    assert not (tmp_path / FILE).exists()


# --- a build's file -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def build(built_settings):
    folder = store_path(built_settings)
    manifest = current_manifest(built_settings)
    graphs = open_record_graphs(folder, manifest.build_id)
    assert graphs is not None, "a build writes its record graphs file"
    with OxigraphStore.open(folder / OXIGRAPH) as store:
        yield folder, manifest, graphs, store, Minter.from_settings(built_settings)


def test_every_record_graph_of_the_store_is_in_the_file_and_nothing_else(build):
    folder, manifest, graphs, store, minter = build
    assert sorted(manifest.records) == sorted(ALL_IDS)
    for rid in manifest.records:
        graph = ox.NamedNode(str(minter.record_graph(rid)))
        stored = {q.triple for q in store.raw.quads_for_pattern(None, None, None, graph)}
        assert stored and set(graphs.triples(graph.value)) == stored, rid
    rows = sqlite3.connect(folder / FILE).execute("SELECT iri FROM graph").fetchall()
    assert sorted(iri for (iri,) in rows) == sorted(str(minter.record_graph(rid)) for rid in manifest.records)
    assert graphs.triples(str(minter.graph("authorities"))) is None


def test_a_record_is_described_alike_from_the_file_and_from_the_store(build):
    folder, manifest, graphs, store, minter = build
    for rid, entry in manifest.records.items():
        from_store = describe.describe_record(store, minter, rid)
        from_file = describe.describe_record(store, minter, rid, graphs, entry.modified)
        assert from_store.triples and set(from_file.triples) == set(from_store.triples), rid
        assert from_file.modified() == entry.modified
        queried = set(store.query(describe.record_query(minter, rid), union_default_graph=True))
        assert set(from_file.triples) == queried, rid


def test_the_findings_of_each_record_are_the_reports(build):
    folder, manifest, graphs, store, minter = build
    assert graphs.report
    said = 0
    for rid in [*manifest.records, "no-such-record"]:
        from_store = describe.validation_status(store, minter, rid)
        from_file = describe.validation_status(store, minter, rid, graphs)
        assert from_file == from_store, rid
        said += len(from_file.findings)
    assert said, "the seed record has warnings"


def test_oai_metadata_is_the_same_from_the_file(build):
    folder, manifest, graphs, store, minter = build
    settings = Settings.load(env={}, base_uri=minter.base)
    index = IndexReader(folder / "oai-index.sqlite")
    items = [index.get(rid) for rid in ALL_IDS]
    for prefix in ("oai_dc", "rdf"):
        plain = Repository(index, store, settings, minter).metadata(items, prefix)
        filed = Repository(index, store, settings, minter, graphs).metadata(items, prefix)
        assert plain.keys() == filed.keys() == set(ALL_IDS)
        for rid in plain:
            if prefix == "rdf":  # the statements may come in another order: compare the graphs
                a = Graph().parse(data=etree.tostring(plain[rid]), format="xml")
                b = Graph().parse(data=etree.tostring(filed[rid]), format="xml")
                assert len(a) and isomorphic(a, b), rid
            else:
                assert texts(plain[rid]) == texts(filed[rid]) and texts(plain[rid]), rid


def texts(element) -> list[tuple[str, str]]:
    return sorted((str(child.tag), child.text or "") for child in element.iter())


def test_pages_are_served_from_the_file_without_reading_record_graphs_from_the_store(built_settings, monkeypatch):
    client = create_app(built_settings).test_client()
    before = {ext: client.get(f"/doc/record/{SEED_ID}.{ext}").data for ext in ("ttl", "html")}
    real = ox.Store.quads_for_pattern
    record_graph = str(Minter.from_settings(built_settings).record_graph(""))

    def watched(self, s=None, p=None, o=None, g=None):
        assert not (isinstance(g, ox.NamedNode) and g.value.startswith(record_graph)), "a record graph read from the store"
        return real(self, s, p, o, g)

    monkeypatch.setattr(ox.Store, "quads_for_pattern", watched)
    for ext in ("ttl", "html"):
        response = client.get(f"/doc/record/{SEED_ID}.{ext}")
        assert response.status_code == 200 and response.data == before[ext]
    oai = client.get("/oai", query_string={"verb": "GetRecord", "metadataPrefix": "oai_dc",
                                           "identifier": f"oai:example.org:{SEED_ID}"})
    assert oai.status_code == 200 and b"<dc:title>" in oai.data


def test_a_file_of_another_build_or_none_at_all_leaves_the_store_to_answer(tmp_path, build):
    folder, manifest, graphs, store, minter = build
    assert open_record_graphs(tmp_path, manifest.build_id) is None
    copy = tmp_path / FILE
    copy.write_bytes((folder / FILE).read_bytes())
    assert open_record_graphs(tmp_path, manifest.build_id) is not None
    assert open_record_graphs(tmp_path, "another-build") is None
    copy.write_bytes(b"not a database")
    assert open_record_graphs(tmp_path, manifest.build_id) is None


def test_the_file_is_compressed_against_a_dictionary_from_the_first_records(build, tmp_path):
    folder, manifest, graphs, store, minter = build
    db = sqlite3.connect(folder / FILE)
    (zdict,) = db.execute("SELECT value FROM meta WHERE key = 'zdict'").fetchone()
    assert isinstance(zdict, bytes) and zdict
    for iri, blob in db.execute("SELECT iri, ntriples FROM graph"):
        text = zlib.decompressobj(zdict=zdict).decompress(blob)
        assert len(blob) < len(text) / 3 and text.endswith(b" .\n") and iri.encode() not in text
    # More records than make the dictionary: each is read back whole, with or after the sample.
    many = b"".join(quads(f"{PREFIX}r{i}", 3) for i in range(450))
    assert written(tmp_path, [many[i:i + 4096] for i in range(0, len(many), 4096)]) == {
        f"{PREFIX}r{i}": [q.triple for q in ox.parse(quads(f"{PREFIX}r{i}", 3), format=ox.RdfFormat.N_QUADS)]
        for i in range(450)}


def test_without_sort_the_dumps_are_written_and_records_are_read_from_the_store(build, tmp_path, monkeypatch):
    folder, manifest, graphs, store, minter = build
    from docket.harvest import dumps

    monkeypatch.setattr(dumps.shutil, "which", lambda name: None)
    dumps.write_dumps(store, tmp_path, manifest, minter)
    assert (tmp_path / "dumps" / "docket.nq.gz").exists() and not (tmp_path / FILE).exists()
    assert open_record_graphs(tmp_path, manifest.build_id) is None


def test_oai_labels_from_the_records_and_the_naming_graphs_are_those_of_the_union(build):
    folder, manifest, graphs, store, minter = build
    from docket.harvest.index import labels
    from docket.harvest.oai_dc import linked_entities

    settings = Settings.load(env={}, base_uri=minter.base)
    repo = Repository(IndexReader(folder / "oai-index.sqlite"), store, settings, minter, graphs)
    own = {rid: graphs.triples(str(minter.record_graph(rid))) for rid in ALL_IDS}
    linked = sorted({u for rid, t in own.items() for u in linked_entities(str(minter.record(rid)), t)})
    assert len(linked) > 5
    found = repo._labels(linked, [t for triples in own.values() for t in triples])
    assert found == labels(store, linked)


def test_a_damaged_file_leaves_the_store_to_answer(build, tmp_path, caplog):
    folder, manifest, graphs, store, minter = build
    copy = tmp_path / FILE
    copy.write_bytes((folder / FILE).read_bytes())
    damaged = RecordGraphs(copy)
    db = sqlite3.connect(copy)
    db.execute("UPDATE graph SET ntriples = x'00112233'")
    db.execute("UPDATE finding SET messages = 'not numbers'")
    db.commit()
    db.close()
    for rid, entry in manifest.records.items():
        assert damaged.triples(str(minter.record_graph(rid))) is None
        described = describe.describe_record(store, minter, rid, damaged, entry.modified)
        assert set(described.triples) == set(describe.describe_record(store, minter, rid).triples)
        assert describe.validation_status(store, minter, rid, damaged) == describe.validation_status(store, minter, rid)
    assert "could not be read" in caplog.text
