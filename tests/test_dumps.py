"""Dumps: written with every build, complete, checksummed, served with ranges and conditional requests."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json

import pytest
import pyoxigraph as ox
from rdflib import Graph
from rdflib.compare import isomorphic

from docket.harvest.dumps import read_dumps, write_dumps
from docket.serve import create_app
from docket.store import Manifest, open_current
from docket.uris import Minter
from harvest_helpers import ALL_IDS, rebuilt, store_path  # noqa: F401


@pytest.fixture(scope="module")
def folder(built_settings):
    return store_path(built_settings)


@pytest.fixture(scope="module")
def client(built_settings):
    return create_app(built_settings).test_client()


def unzip(folder, name) -> bytes:
    return gzip.decompress((folder / "dumps" / name).read_bytes())


def test_every_build_writes_three_dumps_with_their_index(folder):
    dumps = {d.name: d for d in read_dumps(folder)}
    assert set(dumps) == {"docket.nt.gz", "docket.ttl.gz", "docket.nq.gz"}
    manifest = Manifest.read(folder / "manifest.json")
    for dump in dumps.values():
        data = (folder / "dumps" / dump.name).read_bytes()
        assert dump.bytes == len(data)
        assert dump.sha256 == hashlib.sha256(data).hexdigest()
        assert dump.modified == manifest.created
        assert (folder / "dumps" / dump.name).stat().st_mtime == pytest.approx(
            __import__("datetime").datetime.fromisoformat(manifest.created.replace("Z", "+00:00")).timestamp())


def test_nquads_hold_the_store_with_its_named_graphs(folder, built_settings):
    data = unzip(folder, "docket.nq.gz")
    parsed = ox.Store()
    parsed.load(data, format=ox.RdfFormat.N_QUADS)
    with open_current(built_settings) as store:
        assert len(parsed) == len(data.splitlines()) == store.count()
        # Blank nodes get new labels when parsed; every other quad is the store's.
        ground = [q for q in parsed if not isinstance(q.subject, ox.BlankNode)
                  and not isinstance(q.object, ox.BlankNode)]
        assert len(ground) > 1000 and all(quad in store.raw for quad in ground)
        graphs = set(store.named_graphs())
    parsed_graphs = {g.value for g in parsed.named_graphs()}
    assert parsed_graphs == graphs
    for rid in ALL_IDS:
        assert f"http://example.org/graph/record/{rid}" in parsed_graphs
    assert {"http://example.org/graph/authorities", "http://example.org/graph/build"} <= parsed_graphs
    entry = {d.name: d for d in read_dumps(folder)}["docket.nq.gz"]
    assert entry.statements == len(parsed)


def test_ntriples_and_turtle_hold_the_same_union_graph(folder, built_settings):
    nt = Graph().parse(data=unzip(folder, "docket.nt.gz"), format="nt")
    ttl = Graph().parse(data=unzip(folder, "docket.ttl.gz"), format="turtle")
    with open_current(built_settings) as store:
        distinct = int(next(iter(store.query(
            "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }")))["n"].value)
    assert len(nt) == len(ttl) == distinct
    assert isomorphic(nt, ttl)
    assert {d.name: d for d in read_dumps(folder)}["docket.nt.gz"].statements == distinct
    assert unzip(folder, "docket.ttl.gz").startswith(b"@prefix")


def test_the_union_is_sorted_and_unique_and_the_same_without_sort(folder, built_settings, tmp_path, monkeypatch):
    lines = unzip(folder, "docket.nt.gz").splitlines()
    assert lines == sorted(set(lines)) and len(lines) > 1000  # sort -u: every triple once, in byte order
    from docket.harvest import dumps

    monkeypatch.setattr(dumps.shutil, "which", lambda name: None)  # no sort program: DISTINCT in memory
    manifest = Manifest.read(folder / "manifest.json")
    with open_current(built_settings) as store:
        written = write_dumps(store, tmp_path, manifest, Minter.from_settings(built_settings))
    fallback = gzip.decompress((tmp_path / "dumps" / "docket.nt.gz").read_bytes()).splitlines()
    assert sorted(fallback) == lines
    assert {d.name: d.statements for d in written} == {d.name: d.statements for d in read_dumps(folder)}
    assert sorted(p.name for p in (folder / "dumps").iterdir()) == ["docket.nq.gz", "docket.nt.gz",
                                                                    "docket.ttl.gz", "index.json",
                                                                    "union-pages.json"]
    assert dumps.union_pages(tmp_path).total == len(fallback)  # mapped on this path too


def test_the_union_cut_from_the_nquads_is_the_union_oxigraph_writes(folder, built_settings, tmp_path, monkeypatch):
    from docket.harvest import dumps

    # The union is the N-Quads dump's lines without graph names; a second pass over the store
    # (CONSTRUCT through sort, the way for stores with a default graph) gives the same bytes.
    monkeypatch.setattr(dumps, "_graph_names_end_lines", lambda store: False)
    manifest = Manifest.read(folder / "manifest.json")
    with open_current(built_settings) as store:
        again = write_dumps(store, tmp_path, manifest, Minter.from_settings(built_settings))
    assert [(d.name, d.sha256, d.statements) for d in again] == [
        (d.name, d.sha256, d.statements) for d in read_dumps(folder)]


def test_a_store_with_a_default_graph_gets_the_union_of_its_named_graphs(folder, tmp_path):
    from docket.store import OxigraphStore

    ex = "http://example.org/"
    raw = ox.Store(str(tmp_path / "store"))
    quads = [ox.Quad(ox.NamedNode(ex + "s"), ox.NamedNode(ex + "p"), ox.NamedNode(ex + "o"), g)
             for g in (ox.NamedNode(ex + "g1"), ox.NamedNode(ex + "g2"))]  # the same triple twice
    raw.extend(quads + [
        ox.Quad(ox.NamedNode(ex + "s"), ox.NamedNode(ex + "p"), ox.Literal('a "line"\nend <x> .'), ox.NamedNode(ex + "g1")),
        ox.Quad(ox.NamedNode(ex + "d"), ox.NamedNode(ex + "p"), ox.NamedNode(ex + "o"), ox.DefaultGraph())])
    raw.flush()
    del raw
    manifest = Manifest.read(folder / "manifest.json")
    with OxigraphStore.open(tmp_path / "store") as store:
        written = {d.name: d for d in write_dumps(store, tmp_path, manifest, Minter("http://example.org/"))}
    union = gzip.decompress((tmp_path / "dumps" / "docket.nt.gz").read_bytes()).splitlines()
    assert union == [b'<http://example.org/s> <http://example.org/p> "a \\"line\\"\\nend <x> ." .',
                     b"<http://example.org/s> <http://example.org/p> <http://example.org/o> ."]
    assert written["docket.nq.gz"].statements == 4 and written["docket.nt.gz"].statements == 2


def test_nquads_are_cut_into_triples_and_a_line_without_a_graph_name_is_an_error():
    import io

    from docket.harvest.dumps import _Triples

    compressed, triples = io.BytesIO(), io.BytesIO()
    cut = _Triples(compressed, triples)
    try:
        cut.write(b'<urn:s> <urn:p> "x <urn:y> ." <urn:g> .\n<urn:s> <urn:p> <urn:o> <urn:g> .\n')
        cut.send_rest()
    finally:
        cut.close()
    assert triples.getvalue() == b'<urn:s> <urn:p> "x <urn:y> ." .\n<urn:s> <urn:p> <urn:o> .\n'
    assert cut.lines == 2 and compressed.getvalue().count(b"\n") == 2
    cut = _Triples(io.BytesIO(), io.BytesIO())
    try:
        # A line that ends in no IRI. (A default-graph triple whose object is an IRI would lose its
        # object: ``_graph_names_end_lines`` keeps stores with a default graph off this path.)
        cut.write(b'<urn:s> <urn:p> "o" .\n')
        with pytest.raises(ValueError, match="without a graph IRI"):
            cut.send_rest()
    finally:
        cut.close()


def test_any_line_of_the_union_is_read_by_number_from_its_map(folder):
    import random

    from docket.harvest import dumps

    lines = unzip(folder, "docket.nt.gz").splitlines(keepends=True)
    pages = dumps.union_pages(folder)
    assert pages is not None and pages.total == len(lines)
    rng = random.Random(3)
    for start in [0, len(lines) - 1, len(lines), len(lines) + 5] + rng.sample(range(len(lines)), 50):
        count = rng.choice([1, 7, 100, 1000])
        assert pages.lines(start, count) == b"".join(lines[start:start + count]), (start, count)


def test_the_union_is_written_in_members_any_gzip_reader_reads_as_one(tmp_path):
    import gzip as gz

    from docket.line_pages import BlockWriter, LinePages

    text = b"".join(b"<urn:x:%d> <urn:p> \"%s\" .\n" % (i, b"v" * (i % 90)) for i in range(30_000))
    with open(tmp_path / "u.nt.gz", "wb") as raw:
        out = BlockWriter(raw, "u.nt", 0, 6, block=50_000)
        for at in range(0, len(text), 65_536):
            out.write(text[at:at + 65_536])
        out.close()
        out.write_map(tmp_path / "map.json")
    assert len(out.offsets) > 20  # several members
    assert gz.decompress((tmp_path / "u.nt.gz").read_bytes()) == text
    with gz.open(tmp_path / "u.nt.gz") as fh:
        assert fh.read() == text
    pages = LinePages.open(tmp_path / "u.nt.gz", tmp_path / "map.json")
    assert pages.total == 30_000 and pages.lines(29_990, 100) == b"".join(text.splitlines(True)[29_990:])
    (tmp_path / "map.json").write_text("{not json")
    assert LinePages.open(tmp_path / "u.nt.gz", tmp_path / "map.json") is None  # a build from before: no map


def test_a_failing_sort_names_its_error_and_leaves_no_dump(folder, built_settings, tmp_path, monkeypatch):
    from docket.harvest import dumps

    monkeypatch.setattr(dumps, "SORT_BUFFER", "a lot")  # sort refuses the argument at once
    manifest = Manifest.read(folder / "manifest.json")
    with open_current(built_settings) as store, pytest.raises(OSError, match="sorting the union dump failed") as info:
        write_dumps(store, tmp_path, manifest, Minter.from_settings(built_settings))
    assert "a lot" in str(info.value)  # sort's own message
    assert not list((tmp_path / "dumps").glob("docket.nt.gz*"))


def test_dumps_are_reproducible(folder, built_settings, tmp_path):
    manifest = Manifest.read(folder / "manifest.json")
    with open_current(built_settings) as store:
        again = write_dumps(store, tmp_path, manifest, Minter.from_settings(built_settings))
    assert [d.sha256 for d in again] == [d.sha256 for d in read_dumps(folder)]


def test_download_a_dump(client, folder):
    entry = {d.name: d for d in read_dumps(folder)}["docket.nt.gz"]
    response = client.get("/dumps/docket.nt.gz", buffered=True)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/gzip"
    assert response.data == (folder / "dumps" / "docket.nt.gz").read_bytes()
    assert response.headers["ETag"] == f'"{entry.sha256}"'
    assert response.headers["Last-Modified"] == entry.last_modified
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Repr-Digest"] == f"sha-256=:{base64.b64encode(bytes.fromhex(entry.sha256)).decode()}:"
    assert "Content-Encoding" not in response.headers  # the gzip is the file, not a transfer coding


def test_range_requests(client, folder):
    data = (folder / "dumps" / "docket.nq.gz").read_bytes()
    response = client.get("/dumps/docket.nq.gz", buffered=True, headers={"Range": "bytes=10-99"})
    assert response.status_code == 206
    assert response.data == data[10:100]
    assert response.headers["Content-Range"] == f"bytes 10-99/{len(data)}"
    tail = client.get("/dumps/docket.nq.gz", buffered=True, headers={"Range": "bytes=-20"})
    assert tail.status_code == 206 and tail.data == data[-20:]
    beyond = client.get("/dumps/docket.nq.gz", buffered=True, headers={"Range": f"bytes={len(data) + 10}-"})
    assert beyond.status_code == 416


def test_conditional_requests(client, folder):
    entry = {d.name: d for d in read_dumps(folder)}["docket.ttl.gz"]

    def status(**headers) -> int:
        return client.get("/dumps/docket.ttl.gz", buffered=True, headers=headers).status_code

    assert status(**{"If-None-Match": f'"{entry.sha256}"'}) == 304
    assert status(**{"If-Modified-Since": entry.last_modified}) == 304
    assert status(**{"If-Range": '"other"', "Range": "bytes=0-1"}) == 200  # a stale If-Range gets the whole file
    assert status(**{"If-Range": f'"{entry.sha256}"', "Range": "bytes=0-1"}) == 206


def test_dump_listing(client, folder):
    response = client.get("/dumps/", buffered=True)
    assert response.status_code == 200
    listing = response.get_json()
    by_name = {f["name"]: f for f in listing["files"]}
    assert by_name["docket.nq.gz"]["media_type"] == "application/n-quads"
    assert by_name["docket.nt.gz"]["url"] == "http://example.org/dumps/docket.nt.gz"
    assert by_name["docket.ttl.gz"]["sha256"] == json.loads((folder / "dumps" / "index.json").read_text())[
        "files"][1]["sha256"]
    assert listing["license"] == "http://creativecommons.org/publicdomain/zero/1.0/"


def test_unknown_dumps_are_not_found(client):
    assert client.get("/dumps/index.json", buffered=True).status_code == 404
    assert client.get("/dumps/../manifest.json", buffered=True).status_code == 404
    assert client.get("/dumps/docket.rdf.gz", buffered=True).status_code == 404


def test_a_rebuild_dumps_without_the_withdrawn_record(rebuilt):
    folder = store_path(rebuilt.settings)
    nq = unzip(folder, "docket.nq.gz").decode()
    assert "<http://example.org/graph/record/ex-0003>" not in nq
    assert "<http://example.org/graph/record/ex-0001>" in nq
    assert "(revised)" in unzip(folder, "docket.nt.gz").decode()


def test_a_failure_writing_the_files_publishes_nothing(tmp_path):
    from conftest import make_settings
    from docket.store import BuildWriter, StoreLayout

    settings = make_settings(tmp_path)

    def fail(folder, manifest):
        (folder / "dumps").mkdir()
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        with BuildWriter(settings) as writer:
            writer.commit(before_switch=fail)
    layout = StoreLayout(settings.store_dir)
    assert layout.current() is None
    assert not any(layout.builds.iterdir())  # the unfinished build was removed
