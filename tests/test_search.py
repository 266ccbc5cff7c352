"""Full-text search: the FTS5 index built with the store, ranking, paging, HTML and JSON, odd input."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings, strategies as st

from docket.serve.published import SEARCH_INDEX
from docket.serve.search import MARK_END, MARK_START, SearchIndex, SearchUnavailable, build_search_index, fts_query
from docket.store import StoreLayout, current_manifest, open_current
from site_helpers import BASE, SEED_ID, WITHDRAWN, client, site_app, site_settings_built  # noqa: F401

SEED_URI = f"{BASE}id/record/{SEED_ID}"


@pytest.fixture(scope="module")
def index(site_settings_built) -> SearchIndex:
    return SearchIndex(StoreLayout(site_settings_built.store_dir).current() / SEARCH_INDEX)


def test_index_holds_exactly_the_published_records(index, site_settings_built):
    manifest = current_manifest(site_settings_built)
    assert index.count() == manifest.counts["records"]
    db = sqlite3.connect(index.path)
    try:
        ids = {row[0] for row in db.execute("SELECT id FROM facts")}
    finally:
        db.close()
    assert ids == set(manifest.records) and WITHDRAWN not in ids


@pytest.mark.parametrize("query", ["Geneva", "geneva", "GENEVA", "Génèva", "armistice", "Genev*",
                                   '"Red River delta"', "Zhou Enlai", "big operations Vietnamese"])
def test_finds_the_seed_by_title_summary_or_body(index, query):
    results = index.search(query)
    assert SEED_URI in [h.uri for h in results.hits], query


def test_all_words_must_match_and_phrases_keep_their_order(index):
    assert index.search("Geneva xylophone").total == 0
    assert index.search('"delta River Red"').total == 0
    assert index.search("Geneva").total >= 1


def test_title_outranks_body(index):
    # "Zhou" is in the seed's title; synthetic records that only mention him in the body rank lower.
    results = index.search("Zhou", size=50)
    assert results.hits and results.hits[0].uri == SEED_URI


def test_snippets_mark_the_matches(index):
    hit = index.search("armistice").hits[0]
    assert f"{MARK_START}armistice{MARK_END}" in hit.snippet.lower()
    assert hit.to_json()["highlights"] and MARK_START not in hit.to_json()["snippet"]


def test_paging_covers_every_hit_once(index):
    full = index.search("synthetic", size=100)
    assert full.total > 10
    seen = []
    for page in range(1, full.total // 7 + 2):
        results = index.search("synthetic", page=page, size=7)
        assert results.total == full.total and len(results.hits) <= 7
        seen += [h.id for h in results.hits]
    assert sorted(seen) == sorted(h.id for h in full.hits) and len(seen) == len(set(seen))


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_any_typed_text_is_a_valid_query(index, text):
    query = fts_query(text)
    results = index.search(text)  # must not raise, whatever the person typed
    assert results.total >= 0
    if not query:
        assert results.total == 0


@pytest.mark.parametrize("typed,expected", [
    ("Zhou Enlai", '"Zhou" "Enlai"'),
    ('"Red River" delta', '"Red River" "delta"'),
    ("Genev*", '"Genev"*'),
    ("NOT AND OR", '"NOT" "AND" "OR"'),
    ('say "hi', '"say" """hi"'),
    ("* - ( )", ""),
])
def test_fts_query_quotes_everything(typed, expected):
    assert fts_query(typed) == expected


def test_by_year_lists_a_years_records_in_date_order(index):
    results = index.by_year("1954", size=100)
    assert results.total >= 1 and SEED_URI in [h.uri for h in results.hits]
    assert [h.date for h in results.hits] == sorted(h.date for h in results.hits)
    assert all(h.date.startswith("1954") for h in results.hits)


def test_building_the_index_replaces_it_atomically(site_settings_built, tmp_path):
    target = tmp_path / "search.sqlite"
    target.write_text("not a database")
    with open_current(site_settings_built) as store:
        count = build_search_index(store, target)
    assert count == SearchIndex(target).count()
    assert not (tmp_path / "search.sqlite.tmp").exists()


def test_missing_index_is_reported(tmp_path):
    with pytest.raises(SearchUnavailable, match="no search index"):
        SearchIndex(tmp_path / "missing.sqlite")


# --- over HTTP -----------------------------------------------------------------------------------------

def test_json_api_pages_with_links(client):
    first = client.get("/api/search?q=synthetic&size=5")
    assert first.status_code == 200 and first.mimetype == "application/json"
    data = first.json
    assert data["total"] > 5 and data["page"] == 1 and data["size"] == 5 and len(data["results"]) == 5
    assert data["previous"] is None and data["next"] == f"{BASE}api/search?q=synthetic&page=2&size=5"
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert f'<{data["next"]}>; rel="next"' in first.headers.getlist("Link")
    second = client.get("/api/search?q=synthetic&page=2&size=5").json
    assert second["previous"] == f"{BASE}api/search?q=synthetic&page=1&size=5"
    assert not {r["id"] for r in data["results"]} & {r["id"] for r in second["results"]}
    hit = client.get("/api/search?q=armistice").json["results"][0]
    assert set(hit) == {"id", "uri", "title", "date", "type", "snippet", "highlights"}


def test_json_api_refuses_an_empty_query_and_caps_the_page_size(client):
    empty = client.get("/api/search?q=")
    assert empty.status_code == 400 and "q=" in empty.json["detail"]
    assert client.get("/api/search?q=synthetic&size=100000").json["size"] == 100
    assert client.get("/api/search?q=synthetic&page=banana").json["page"] == 1


def test_html_search_pages(client):
    response = client.get("/search?q=synthetic")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'rel="next"' in body and "<mark>" in body
    assert client.get("/search").status_code == 200


def test_search_without_an_index_answers_503(site_settings_built, tmp_path):
    import shutil

    from docket.serve import create_app

    # A copy of the build without its index, as a build made before indexing existed.
    settings = site_settings_built.replace(store_dir=tmp_path / "store")
    layout = StoreLayout(site_settings_built.store_dir)
    build = layout.current()
    copy = tmp_path / "store" / "builds" / build.name
    shutil.copytree(build, copy)
    (copy / SEARCH_INDEX).unlink()
    (tmp_path / "store" / "current").symlink_to(copy.relative_to(tmp_path / "store"))
    client = create_app(settings).test_client()
    assert client.get("/api/search?q=Geneva").status_code == 503
    assert client.get("/search?q=Geneva").status_code == 503
    assert client.get(f"/doc/record/{SEED_ID}.ttl").status_code == 200


@pytest.mark.parametrize("words", ["telegram", "Zhou", "conference Geneva", "the"])
def test_pages_follow_the_score_then_date_then_id(index, words):
    # The index ranks in one pass, breaking ties by rowid; rowids follow date then ID, so pages must
    # list exactly what sorting every match by (score, date, ID) gives.
    import docket.serve.search as search

    db = sqlite3.connect(index.path)
    try:
        scored = db.execute(f"SELECT {search._WEIGHTS}, f.date, f.id FROM records r JOIN facts f ON f.id = r.id "
                            "WHERE records MATCH ?", (fts_query(words),)).fetchall()
    finally:
        db.close()
    expected = [rid for _, _, rid in sorted(scored)]
    listed = [h.id for page in range(1, len(expected) // 3 + 2) for h in index.search(words, page, size=3).hits]
    assert listed == expected


def test_equal_scores_are_listed_by_date_then_id(tmp_path):
    import pyoxigraph as ox

    rico, dcterms = "https://www.ica.org/standards/RiC/ontology#", "http://purl.org/dc/terms/"
    store = ox.Store()
    # The same words in every record: equal scores, listed by date, then ID, however stored.
    dated = [("r-9", "1950-01-02"), ("r-1", "1950-01-03"), ("r-5", "1949-12-31"), ("r-2", "1950-01-02"),
             ("r-7", "")]
    for rid, date in dated:
        graph, record = ox.NamedNode(f"{BASE}graph/record/{rid}"), ox.NamedNode(f"{BASE}id/record/{rid}")
        store.add(ox.Quad(record, ox.NamedNode(str(__import__("rdflib").RDF.type)), ox.NamedNode(rico + "Record"), graph))
        store.add(ox.Quad(record, ox.NamedNode(dcterms + "identifier"), ox.Literal(rid), graph))
        store.add(ox.Quad(record, ox.NamedNode(dcterms + "title"), ox.Literal("Cable on the armistice"), graph))
        if date:
            store.add(ox.Quad(record, ox.NamedNode(dcterms + "date"),
                              ox.Literal(date, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")), graph))
    assert build_search_index(store, tmp_path / "search.sqlite") == 5
    index = SearchIndex(tmp_path / "search.sqlite")
    expected = ["r-7", "r-5", "r-2", "r-9", "r-1"]  # no date first, as in ``by_year``'s order of facts
    assert [h.id for h in index.search("armistice").hits] == expected
    assert [h.id for p in (1, 2, 3) for h in index.search("cable", page=p, size=2).hits] == expected


def test_an_index_of_format_1_is_still_searched(tmp_path):
    # A build made before format 2 (rowids in the order records were indexed, facts without ``n``)
    # may be rolled back to; its ties then follow that order.
    path = tmp_path / "search.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute("CREATE VIRTUAL TABLE records USING fts5(id UNINDEXED, title, summary, body)")
    db.execute("CREATE TABLE facts (id TEXT PRIMARY KEY, uri TEXT, title TEXT, date TEXT, type TEXT)")
    for rid, date in (("b", "1950-01-02"), ("a", "1950-01-01")):
        db.execute("INSERT INTO records (id, title, summary, body) VALUES (?, 'Cable', '', '')", (rid,))
        db.execute("INSERT INTO facts VALUES (?, ?, 'Cable', ?, '')", (rid, f"{BASE}id/record/{rid}", date))
    db.execute("INSERT INTO meta VALUES ('format', '1'), ('records', '2')")
    db.commit()
    db.close()
    hits = SearchIndex(path).search("cable").hits
    assert [(h.id, h.uri, h.date) for h in hits] == [("b", f"{BASE}id/record/b", "1950-01-02"),
                                                     ("a", f"{BASE}id/record/a", "1950-01-01")]


def test_rowids_follow_date_then_id(index):
    db = sqlite3.connect(index.path)
    try:
        facts = db.execute("SELECT date, id FROM facts ORDER BY n").fetchall()
        linked = db.execute("SELECT COUNT(*) FROM records r JOIN facts f ON f.n = r.rowid AND f.id = r.id").fetchone()[0]
        fmt = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()[0]
    finally:
        db.close()
    assert facts == sorted(facts) and linked == len(facts) == index.count() and fmt == "2"
    assert not list(index.path.parent.glob("*.staging"))
