"""Sitemaps: an index of pages of at most 50,000 URLs, each a page people can read, with lastmod."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from lxml import etree

from docket.harvest.sitemap import MAX_URLS, SITEMAP_NS, iter_locs, render
from docket.serve import create_app
from docket.store import Manifest
from docket.uris import Minter
from harvest_helpers import ALL_IDS, empty_settings, rebuilt, store_path  # noqa: F401

NS = f"{{{SITEMAP_NS}}}"


@pytest.fixture(scope="module")
def client(built_settings):
    return create_app(built_settings).test_client()


def urls(data: bytes) -> dict[str, str | None]:
    root = etree.fromstring(data)
    assert root.tag == f"{NS}urlset"
    return {u.findtext(f"{NS}loc"): u.findtext(f"{NS}lastmod") for u in root.iter(f"{NS}url")}


def test_index_points_at_the_pages(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
    root = etree.fromstring(response.data)
    assert root.tag == f"{NS}sitemapindex"
    assert list(iter_locs(response.data)) == ["http://example.org/sitemap-1.xml"]
    assert client.get("/sitemap-2.xml").status_code == 404


def test_pages_list_records_with_their_modification_times(client, built_settings):
    manifest = Manifest.read(store_path(built_settings) / "manifest.json")
    listed = urls(client.get("/sitemap-1.xml").data)
    assert listed["http://example.org/"] == manifest.created
    for rid in ALL_IDS:
        assert listed[f"http://example.org/doc/record/{rid}"] == manifest.records[rid].modified
    assert "http://example.org/doc/agent/zhou-enlai" in listed
    assert listed["http://example.org/doc/agent/zhou-enlai"] is None
    assert "http://example.org/doc/place/red-river-delta" in listed
    assert not any("#" in loc or "/id/" in loc for loc in listed)
    # Every entity any graph says something of has its page listed, the unreconciled ones too.
    import pyoxigraph as ox

    from docket.harvest.sitemap import ENTITY_KINDS

    m = Minter("http://example.org/")
    store = ox.Store.read_only(str(store_path(built_settings) / "oxigraph"))
    subjects = {q.subject.value for q in store.quads_for_pattern(None, None, None)
                if isinstance(q.subject, ox.NamedNode)}
    entities = {m.description(m.resource(*m.split(s))) for s in subjects
                if m.split(s) and m.split(s)[0] in ENTITY_KINDS}
    assert entities == {loc for loc in listed if "/doc/" in loc and "/doc/record/" not in loc}
    assert any("/doc/agent/" in loc and loc.rsplit("/", 1)[1] not in ("zhou-enlai",) for loc in entities)
    unreconciled = {q.subject.value for q in store.quads_for_pattern(
        None, ox.NamedNode(str(m.ontology) + "unreconciled"), None, ox.NamedNode(str(m.graph("unreconciled"))))}
    assert unreconciled and {m.description(m.resource(*m.split(u))) for u in unreconciled} <= set(listed)


def test_every_listed_page_is_served(client):
    for loc in urls(client.get("/sitemap-1.xml").data):
        path = urlsplit(loc).path
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 200, loc
        assert response.headers["Content-Type"].startswith("text/html"), loc


def test_withdrawn_records_are_left_out(rebuilt):
    client = create_app(rebuilt.settings).test_client()
    listed = urls(client.get("/sitemap-1.xml").data)
    assert "http://example.org/doc/record/ex-0003" not in listed
    assert listed["http://example.org/doc/record/ex-0001"] == rebuilt.second_created
    assert listed["http://example.org/doc/record/ex-0002"] == rebuilt.first_created


def test_large_sites_split_into_pages():
    minter = Minter("http://example.org/")
    entries = [(f"http://example.org/doc/record/r{n:05d}", f"2026-01-{n % 28 + 1:02d}T00:00:00Z") for n in range(11)]
    files = render(entries, minter, "2026-02-01T00:00:00Z", per_page=4)
    assert sorted(files) == ["sitemap-1.xml", "sitemap-2.xml", "sitemap-3.xml", "sitemap.xml"]
    index = etree.fromstring(files["sitemap.xml"])
    pages = {s.findtext(f"{NS}loc"): s.findtext(f"{NS}lastmod") for s in index.iter(f"{NS}sitemap")}
    assert list(pages) == [f"http://example.org/sitemap-{n}.xml" for n in (1, 2, 3)]
    assert pages["http://example.org/sitemap-1.xml"] == "2026-01-04T00:00:00Z"  # the latest of its URLs
    seen = [loc for n in (1, 2, 3) for loc in urls(files[f"sitemap-{n}.xml"])]
    assert seen == [loc for loc, _ in entries]
    assert max(len(urls(files[f"sitemap-{n}.xml"])) for n in (1, 2, 3)) == 4
    with pytest.raises(ValueError):
        render(entries, minter, "2026-02-01T00:00:00Z", per_page=MAX_URLS + 1)


def test_a_sitemap_always_lists_the_home_page(empty_settings):
    client = create_app(empty_settings).test_client()
    assert urls(client.get("/sitemap-1.xml").data) == {"http://example.org/": "2026-01-02T03:04:05Z"}
    with pytest.raises(ValueError):
        render([], Minter("http://example.org/"), "2026-02-01T00:00:00Z")
