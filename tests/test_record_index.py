"""The record index: a server looks records and tombstones up by key instead of reading the manifest."""

from __future__ import annotations

import json

import pytest

from docket.serve import create_app
from docket.serve.published import RECORD_INDEX
from docket.serve.record_index import RecordIndex
from docket.store import Manifest, current_manifest
from docket.store.layout import StoreLayout

from test_build import SEED_ID, folder, run  # noqa: F401  (the fixture)
from conftest import make_settings


@pytest.fixture
def built(tmp_path, folder):  # noqa: F811
    s = make_settings(tmp_path)
    assert run(s, "build", str(folder)).exit_code == 0
    examples = json.loads((folder / "examples.json").read_text(encoding="utf-8"))
    (folder / "examples.json").write_text(json.dumps(examples[:1]), encoding="utf-8")
    res = run(s, "build", str(folder), "--force")  # the other examples are withdrawn: tombstones
    assert res.exit_code == 0, res.output
    return s


def test_the_index_answers_what_the_manifest_says(built):
    manifest = current_manifest(built)
    index = RecordIndex(StoreLayout(built.store_dir).current() / RECORD_INDEX)
    assert (index.build_id, index.created) == (manifest.build_id, manifest.created)
    assert manifest.records and manifest.tombstones
    for rid, entry in manifest.records.items():
        assert rid in index and index.modified(rid) == entry.modified and index.tombstone(rid) is None
    for rid, stone in manifest.tombstones.items():
        assert rid not in index and index.tombstone(rid) == stone
    assert "no-such-record" not in index and index.tombstone("no-such-record") is None
    assert (index.graphs, index.counts) == (manifest.graphs, manifest.counts) and index.graphs


def test_a_server_answers_records_and_tombstones_without_reading_the_manifest(built, monkeypatch):
    manifest = current_manifest(built)
    gone = next(iter(manifest.tombstones))

    def refuse(*args, **kwargs):
        raise AssertionError("the manifest was read")

    monkeypatch.setattr(Manifest, "read", refuse)
    client = create_app(built).test_client()
    page = client.get(f"/doc/record/{SEED_ID}.ttl")
    assert page.status_code == 200 and page.headers["Last-Modified"]
    assert client.get(f"/doc/record/{gone}.ttl").status_code == 410
    assert client.get("/doc/record/no-such-record.ttl").status_code == 404
    assert client.get(f"/id/record/{SEED_ID}", headers={"Accept": "text/turtle"}).status_code == 303
    assert client.get("/dumps/").get_json()["build"] == manifest.build_id
    # The SPARQL service description names the dataset-wide graphs and the size from the index.
    description = client.get("/sparql", headers={"Accept": "application/n-triples"})
    assert description.status_code == 200
    triples = manifest.counts["triples"] + manifest.graphs.get("build", 0)
    assert f'"{triples}"^^<http://www.w3.org/2001/XMLSchema#integer>'.encode() in description.data
    for name in manifest.graphs:
        assert f"graph/{name}>".encode() in description.data


def test_a_build_without_the_index_is_served_from_its_manifest(built):
    folder = StoreLayout(built.store_dir).current()
    (folder / RECORD_INDEX).unlink()
    client = create_app(built).test_client()
    assert client.get(f"/doc/record/{SEED_ID}.ttl").status_code == 200
    gone = next(iter(current_manifest(built).tombstones))
    assert client.get(f"/doc/record/{gone}.ttl").status_code == 410
    assert b"graph/authorities>" in client.get("/sparql", headers={"Accept": "application/n-triples"}).data
