"""The build's resource index: descriptions and backlink pages read through it say what the union says."""

from __future__ import annotations

import sqlite3

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from docket.serve import describe
from docket.serve.published import RESOURCE_INDEX, published
from docket.serve.resource_index import ResourceIndex, build_resource_index
from docket.store import StoreLayout
from site_helpers import BASE, site_app, site_settings_built  # noqa: F401  (fixtures)

KINDS = ("agent", "place", "event", "topic", "type")


@pytest.fixture(scope="module")
def built(site_app):  # noqa: F811
    with site_app.test_request_context():
        pub = published()
        return pub, site_app.extensions["docket.minter"]


def resources(pub) -> list[str]:
    rows = pub.store.query(f"""SELECT DISTINCT ?o WHERE {{ GRAPH ?g {{ ?x ?p ?o }}
        FILTER(isIRI(?o) && REGEX(STR(?o), "^{BASE}id/({'|'.join(KINDS)})/")) }}""")
    return sorted(row["o"].value for row in rows)


def test_the_build_writes_the_index_beside_the_store(site_settings_built):  # noqa: F811
    folder = StoreLayout(site_settings_built.store_dir).current()
    db = sqlite3.connect(folder / RESOURCE_INDEX)
    try:
        assert db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone() == ("1",)
        assert db.execute("SELECT COUNT(*) FROM backlink").fetchone()[0] > 0
    finally:
        db.close()


def test_descriptions_through_the_index_hold_what_the_union_holds(built):
    pub, m = built
    uris = resources(pub)
    assert len(uris) > 20
    for uri in uris:
        entry = pub.resource_index.lookup(uri)
        assert entry is not None
        fast = describe.describe_resource(pub.store, m, uri, entry.graphs)
        slow = describe.describe_resource(pub.store, m, uri, None)
        assert set(fast.triples) == set(slow.triples), uri


def test_an_unreconciled_agent_is_read_from_few_graphs_not_every_record(built):
    pub, m = built
    unreconciled = [row["a"].value for row in pub.store.query(
        f"SELECT DISTINCT ?a WHERE {{ GRAPH ?g {{ ?a <{m.ontology}unreconciled> true }} }}")]
    assert unreconciled
    most = max(unreconciled, key=lambda a: pub.resource_index.lookup(a).backlinks)
    entry = pub.resource_index.lookup(most)
    # Said again in each of its records' graphs; a copy or two (one per variant) is all the index keeps.
    assert entry.backlinks >= 5
    assert 1 <= len(entry.graphs) <= 3


@pytest.mark.parametrize("size", [1, 3, 50])
def test_backlink_pages_through_the_index_equal_those_asked_of_the_store(built, size):
    pub, m = built
    for uri in resources(pub):
        entry = pub.resource_index.lookup(uri)
        assert entry.backlinks == describe.count_backlinks(pub.store, uri), uri
        pages = max(1, -(-entry.backlinks // size))
        for page in (1, 2, pages, pages + 1) if size < 50 else (1,):
            fast = describe.backlinks(pub.store, uri, page, size, entry.backlinks,
                                      pub.resource_index.backlink_page(entry, page, size))
            slow = describe.backlinks(pub.store, uri, page, size)
            assert fast.total == slow.total
            assert [(i.record, i.title, i.date_text, sorted(i.links), sorted(i.roles)) for i in fast.items] == \
                   [(i.record, i.title, i.date_text, sorted(i.links), sorted(i.roles)) for i in slow.items], (uri, page)


def test_backlinks_are_ordered_undated_first_then_by_date_and_uri(built):
    pub, m = built
    uri = max(resources(pub), key=lambda u: pub.resource_index.lookup(u).backlinks)
    entry = pub.resource_index.lookup(uri)
    items = describe.backlinks(pub.store, uri, 1, entry.backlinks, entry.backlinks,
                               pub.resource_index.backlink_page(entry, 1, entry.backlinks)).items
    assert len(items) == entry.backlinks > 5
    keys = [(i.date is not None, i.date_text, i.record) for i in items]
    assert keys == sorted(keys)


def test_a_build_without_the_index_serves_the_same_answers(site_app, built, tmp_path):  # noqa: F811
    pub, m = built
    uri = max(resources(pub), key=lambda u: pub.resource_index.lookup(u).backlinks)
    kind, slug = m.split(uri)
    client = site_app.test_client()
    paths = [f"/doc/{kind}/{slug}.html", f"/doc/{kind}/{slug}.html?page=2", f"/doc/{kind}/{slug}.ttl?page=2"]
    before = site_app.config.get("DOCKET_PAGE_SIZE")
    site_app.config["DOCKET_PAGE_SIZE"] = 2
    try:
        indexed = [client.get(p) for p in paths]
        kept = pub.__dict__["resource_index"]
        pub.__dict__["resource_index"] = ResourceIndex(tmp_path / "none.sqlite")
        try:
            unindexed = [client.get(p) for p in paths]
        finally:
            pub.__dict__["resource_index"] = kept
    finally:
        if before is None:
            site_app.config.pop("DOCKET_PAGE_SIZE")
        else:
            site_app.config["DOCKET_PAGE_SIZE"] = before
    for path, a, b in zip(paths, indexed, unindexed):
        assert a.status_code == b.status_code == 200, path
        if path.endswith(".html") or ".html?" in path:
            assert a.get_data() == b.get_data(), path
        else:
            assert isomorphic(Graph().parse(data=a.get_data(), format="turtle"),
                              Graph().parse(data=b.get_data(), format="turtle")), path


def test_the_index_answers_resources_it_never_saw_and_builds_without_it(built, tmp_path):
    pub, m = built
    path = tmp_path / RESOURCE_INDEX
    count = build_resource_index(pub.store, path)
    assert count > 20
    index = ResourceIndex(path)
    assert index.lookup(f"{BASE}id/topic/never-mentioned").backlinks == 0
    assert ResourceIndex(tmp_path / "missing.sqlite").lookup(f"{BASE}id/topic/x") is None


def test_a_page_far_past_the_last_is_not_found(site_app, built):  # noqa: F811
    pub, m = built
    uri = max(resources(pub), key=lambda u: pub.resource_index.lookup(u).backlinks)
    entry = pub.resource_index.lookup(uri)
    assert pub.resource_index.backlink_page(entry, 10**30, 50) == []
    kind, slug = m.split(uri)
    assert site_app.test_client().get(f"/doc/{kind}/{slug}.ttl?page={10**30}").status_code == 404
