"""Dereferencing: 303/304/406/410/301/404, HEAD, CORS, Link and caching headers, every RDF format
parsed back, descriptions with labels and paged backlinks, builds switched under a running app."""

from __future__ import annotations

import datetime as dt
import io
import warnings
from pathlib import Path

import pytest
from rdflib import RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, XSD
from werkzeug.http import http_date

from docket.serve import create_app
from docket.serve.once import get_once
from docket.store import BuildWriter, current_manifest
from site_helpers import (  # noqa: F401  (fixtures)
    BASE,
    MERGED,
    MERGED_AGENT,
    SEED_ID,
    WITHDRAWN,
    client,
    site_app,
    site_settings,
    site_settings_built,
)

GOLDEN = Path(__file__).parent / "golden" / "seed.ttl"
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SEED = URIRef(f"{BASE}id/record/{SEED_ID}")
DOC = f"/doc/record/{SEED_ID}"
RDF_FORMATS = [("ttl", "turtle"), ("jsonld", "json-ld"), ("rdf", "xml"), ("nt", "nt")]


def parse(data: bytes, fmt: str, base: str = BASE) -> Graph:
    with warnings.catch_warnings():
        # rdflib 7.6 warns about its own use of deprecated names while parsing JSON-LD.
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        return Graph().parse(data=data, format=fmt, publicID=base)


# --- every serialization parsed back ----------------------------------------------------------------

@pytest.mark.parametrize("ext,fmt", RDF_FORMATS)
def test_every_serialization_of_a_record_parses_and_holds_the_golden_graph(client, ext, fmt):
    response = client.get(f"{DOC}.{ext}")
    assert response.status_code == 200
    graph = parse(response.data, fmt)
    golden = Graph().parse(GOLDEN, format="turtle")
    missing = [t for t in golden if t not in graph]
    assert not missing, missing[:5]


def test_all_serializations_say_the_same(client):
    graphs = {ext: parse(client.get(f"{DOC}.{ext}").data, fmt) for ext, fmt in RDF_FORMATS}
    reference = set(graphs["nt"])
    for ext, graph in graphs.items():
        assert set(graph) == reference, ext


def test_record_description_labels_everything_it_links_and_gives_its_modification_time(client, site_settings_built):
    graph = parse(client.get(f"{DOC}.ttl").data, "turtle")
    linked = {o for s, p, o in graph if isinstance(o, URIRef) and str(o).startswith(BASE + "id/")
              and p != URIRef(f"{BASE}ontology#roleType")}
    assert linked
    unlabelled = [o for o in linked if (o, RDFS.label, None) not in graph]
    assert not unlabelled
    modified = current_manifest(site_settings_built).records[SEED_ID].modified
    assert (SEED, DCTERMS.modified, Literal(modified, datatype=XSD.dateTime)) in graph


def test_the_embedded_stores_pattern_reads_give_exactly_the_construct(site_settings_built):
    """``record_triples`` is what ``record_query`` constructs, for every record (and twice: memoized)."""
    from docket.serve.describe import record_query, record_triples
    from docket.store import open_current
    from docket.uris import Minter

    store, minter = open_current(site_settings_built), Minter.from_settings(site_settings_built)
    records = list(current_manifest(site_settings_built).records)
    assert len(records) >= 3
    for _ in range(2):
        for record_id in records:
            expected = set(store.query(record_query(minter, record_id), union_default_graph=True))
            assert set(record_triples(store, minter, record_id)) == expected and expected
    assert store.memo["linked-terms"]  # the authorities' labels were looked up and kept
    assert record_triples(store, minter, "no-such-record") == []


def test_agent_description_has_own_triples_labels_and_backlinks(client):
    graph = parse(client.get("/doc/agent/zhou-enlai.ttl").data, "turtle")
    zhou = URIRef(f"{BASE}id/agent/zhou-enlai")
    assert (zhou, RDFS.label, Literal("Zhou Enlai", lang="en")) in graph
    assert (SEED, URIRef("https://www.ica.org/standards/RiC/ontology#hasAddressee"), zhou) in graph
    assert (SEED, RDFS.label, Literal("Telegram, CCP Central Committee to Zhou Enlai")) in graph
    collection = URIRef(f"{BASE}doc/agent/zhou-enlai#records")
    assert (collection, HYDRA.member, SEED) in graph


def test_backlinks_are_paged_with_hydra_and_link_headers(site_settings_built):
    app = create_app(site_settings_built)
    app.config["DOCKET_PAGE_SIZE"] = 5
    client = app.test_client()
    telegram = URIRef(f"{BASE}id/type/telegram")
    collection = URIRef(f"{BASE}doc/type/telegram#records")
    url = "/doc/type/telegram.ttl?page=1"
    members, pages, total = [], 0, None
    while url:
        response = client.get(url)
        assert response.status_code == 200
        graph = parse(response.data, "turtle")
        total = int(graph.value(collection, HYDRA.totalItems))
        view = graph.value(collection, HYDRA.view)
        page_members = list(graph.objects(collection, HYDRA.member))
        assert 0 < len(page_members) <= 5
        for record in page_members:
            assert (record, DCTERMS.type, telegram) in graph and (record, RDFS.label, None) in graph
        members += page_members
        pages += 1
        if pages > 1:
            assert graph.value(view, HYDRA.previous) is not None
            assert 'rel="prev"' in ",".join(response.headers.getlist("Link"))
        nxt = graph.value(view, HYDRA.next)
        url = str(nxt).replace(BASE.rstrip("/"), "") if nxt else None
        if nxt:
            assert f'<{nxt}>; rel="next"' in response.headers.getlist("Link")
    assert total is not None and total > 5
    assert len(members) == len(set(members)) == total
    assert pages == -(-total // 5)
    dates = []
    for record in members:
        date = client.get(f"/doc/record/{str(record).rsplit('/', 1)[1]}.nt")
        dates.append(str(parse(date.data, "nt").value(record, DCTERMS.date)))
    assert dates == sorted(dates)


def test_a_page_past_the_last_is_not_found(client):
    assert client.get("/doc/type/telegram.ttl?page=1").status_code == 200
    assert client.get("/doc/type/telegram.ttl?page=999").status_code == 404
    assert client.get("/doc/type/telegram.ttl?page=banana").status_code == 200  # read as page 1


def test_ontology_served_at_its_namespace(client):
    response = client.get("/ontology")
    graph = parse(response.data, "turtle")
    assert (URIRef(f"{BASE}ontology#Communication"), RDFS.label, None) in graph
    assert any(f'<{BASE}ontology.rdf>; rel="alternate"' in link for link in response.headers.getlist("Link"))
    page = client.get(f"/ontology.html").get_data(as_text=True)
    assert 'id="Communication"' in page


# --- status codes ----------------------------------------------------------------------------------

def test_303_from_id_to_doc_for_every_kind(client):
    for path in ("/id/agent/zhou-enlai", "/id/place/red-river-delta", "/id/event/geneva-conference-1954",
                 "/id/type/telegram", "/id/dataset/docket"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"] == BASE + path.replace("/id/", "doc/", 1).lstrip("/") + ".ttl"
        assert client.get(response.headers["Location"].replace(BASE, "/")).status_code == 200


def test_410_for_a_withdrawn_record_with_a_tombstone_in_rdf_and_html(client):
    for path in (f"/id/record/{WITHDRAWN}", f"/doc/record/{WITHDRAWN}", f"/doc/record/{WITHDRAWN}.ttl"):
        response = client.get(path)
        assert response.status_code == 410, path
        graph = parse(response.data, "turtle")
        record = URIRef(f"{BASE}id/record/{WITHDRAWN}")
        assert graph.value(record, URIRef(f"{BASE}ontology#withdrawn")) == Literal("2026-02-01", datatype=XSD.date)
        assert "rights holder" in str(graph.value(record, DCTERMS.description))
    page = client.get(f"/doc/record/{WITHDRAWN}.html")
    assert page.status_code == 410 and page.mimetype == "text/html"
    assert "withdrawn" in page.get_data(as_text=True) and "rights holder asked for removal" in page.get_data(as_text=True)


def test_301_for_merged_records_and_agents(client):
    response = client.get(f"/id/record/{MERGED}")
    assert response.status_code == 301 and response.headers["Location"] == str(SEED)
    response = client.get(f"/doc/record/{MERGED}.jsonld")
    assert response.status_code == 301 and response.headers["Location"] == f"{BASE}doc/record/{SEED_ID}.jsonld"
    response = client.get(f"/id/agent/{MERGED_AGENT}")
    assert response.status_code == 301 and response.headers["Location"] == f"{BASE}id/agent/zhou-enlai"
    assert client.get(f"/doc/agent/{MERGED_AGENT}").headers["Location"] == f"{BASE}doc/agent/zhou-enlai"


@pytest.mark.parametrize("path", ["/id/record/no-such-record", "/doc/record/no-such-record.ttl",
                                  "/id/agent/nobody-at-all", "/id/unknownkind/x", "/doc/agent/Not%20A%20Slug",
                                  "/nothing/here"])
def test_404_helps_people_and_answers_programs_in_json(client, path):
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "/search" in page.get_data(as_text=True)
    data = client.get(path, headers={"Accept": "application/json"})
    assert data.status_code == 404 and data.json["status"] == 404
    assert data.headers["Access-Control-Allow-Origin"] == "*"


def test_404_page_suggests_records_matching_the_missing_address(client):
    page = client.get("/id/record/1954-telegram-geneva", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f"{BASE}id/record/{SEED_ID}" in page


def test_503_before_the_first_build(tmp_path):
    app = create_app(site_settings(tmp_path))
    response = app.test_client().get(f"/id/record/{SEED_ID}")
    assert response.status_code == 503 and "Retry-After" in response.headers


# --- caching -------------------------------------------------------------------------------------------

def test_etag_and_last_modified_give_304(client, site_settings_built):
    first = client.get(f"{DOC}.ttl")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    entry = current_manifest(site_settings_built).records[SEED_ID]
    assert modified == http_date(dt.datetime.fromisoformat(entry.modified.replace("Z", "+00:00")))
    again = client.get(f"{DOC}.ttl", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert client.get(f"{DOC}.ttl", headers={"If-None-Match": "W/" + etag}).status_code == 304
    assert client.get(f"{DOC}.ttl", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(f"{DOC}.ttl", headers={"If-Modified-Since": modified}).status_code == 304
    earlier = http_date(dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    assert client.get(f"{DOC}.ttl", headers={"If-Modified-Since": earlier}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    assert client.get(f"{DOC}.ttl", headers={"If-None-Match": '"other"', "If-Modified-Since": modified}).status_code == 200


def test_each_representation_has_its_own_etag_derived_from_content(client):
    etags = {ext: client.get(f"{DOC}.{ext}").headers["ETag"] for ext in ("ttl", "nt", "rdf", "jsonld", "html")}
    assert len(set(etags.values())) == len(etags)
    assert client.get(f"{DOC}.ttl").headers["ETag"] == etags["ttl"]


def test_cache_control_on_every_kind_of_answer(client):
    for path in (f"/id/record/{SEED_ID}", f"{DOC}.ttl", f"/id/record/{WITHDRAWN}", f"/id/record/{MERGED}",
                 "/id/record/no-such-record"):
        response = client.get(path)
        assert "max-age=" in response.headers.get("Cache-Control", ""), path


# --- HEAD, CORS, Vary, Link ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", [f"/id/record/{SEED_ID}", f"{DOC}.ttl", f"{DOC}.html", "/doc/agent/zhou-enlai",
                                  f"/id/record/{WITHDRAWN}", "/id/record/no-such-record", "/ontology"])
def test_head_answers_the_same_headers_as_get(client, path):
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code
    assert head.data == b""
    ignore = {"Date"}
    assert {k: v for k, v in head.headers.items() if k not in ignore} == \
        {k: v for k, v in get.headers.items() if k not in ignore}


@pytest.mark.parametrize("path,accept", [(f"/id/record/{SEED_ID}", None), (f"{DOC}.ttl", None),
                                         (DOC, "image/png"), (f"/id/record/{WITHDRAWN}", None),
                                         (f"/id/record/{MERGED}", None), ("/id/record/nope", None),
                                         ("/ontology", None)])
def test_cors_and_vary_on_every_answer(client, path, accept):
    response = client.get(path, headers={"Accept": accept} if accept else {})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Accept" in response.headers["Vary"]


def test_cors_preflight(client):
    response = client.options(f"{DOC}.ttl", headers={"Origin": "https://example.net",
                                                      "Access-Control-Request-Method": "GET",
                                                      "Access-Control-Request-Headers": "If-None-Match"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in response.headers["Access-Control-Allow-Headers"]


def test_link_headers_name_alternates_licence_and_dataset(client):
    links = client.get(f"{DOC}.ttl").headers.getlist("Link")
    for ext, media in (("ttl", "text/turtle"), ("html", "text/html"), ("jsonld", "application/ld+json"),
                       ("rdf", "application/rdf+xml"), ("nt", "application/n-triples")):
        assert f'<{BASE}doc/record/{SEED_ID}.{ext}>; rel="alternate"; type="{media}"' in links
    assert '<http://rightsstatements.org/vocab/InC-EDU/1.0/>; rel="license"' in links
    assert f'<{BASE}id/dataset/docket>; rel="http://rdfs.org/ns/void#inDataset"' in links
    assert f'<{BASE}id/record/{SEED_ID}>; rel="describes"' in links


# --- a base URI with a path; a build switched under a running app ----------------------------------

def test_base_uri_with_a_path(tmp_path):
    settings = site_settings(tmp_path, base="http://example.org/archive/")
    mapper_build(settings)
    client = create_app(settings).test_client()
    response = client.get(f"/archive/id/record/{SEED_ID}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"http://example.org/archive/doc/record/{SEED_ID}.ttl"
    graph = parse(client.get(f"/archive/doc/record/{SEED_ID}.ttl").data, "turtle", "http://example.org/archive/")
    assert (URIRef(f"http://example.org/archive/id/record/{SEED_ID}"), DCTERMS.title, None) in graph
    assert client.get(f"/id/record/{SEED_ID}").status_code == 404


def mapper_build(settings, extra: dict[str, str] | None = None) -> None:
    """Publish the seed record (and ``extra`` records given as N-Triples by ID)."""
    from site_helpers import SEED_FILE
    from docket.ingest import ingest
    from docket.mapping import Mapper
    from docket.store import content_hash

    mapper = Mapper(settings)
    with BuildWriter(settings, incremental=False) as writer:
        for record in ingest([SEED_FILE], settings).records:
            writer.add_record(record.id, mapper.map(record).graph, content_hash(record))
        for rid, data in (extra or {}).items():
            writer.add_record(rid, data, content_hash(data))
        writer.add_graph("authorities", mapper.authorities_graph())
        writer.commit()


def test_a_running_app_follows_a_new_build(tmp_path):
    settings = site_settings(tmp_path)
    mapper_build(settings)
    client = create_app(settings).test_client()
    assert client.get("/id/record/added-later").status_code == 404
    assert client.get(f"{DOC}.ttl").status_code == 200
    added = (f'<{BASE}id/record/added-later> a <https://www.ica.org/standards/RiC/ontology#Record> ; '
             f'<http://purl.org/dc/terms/title> "Added later" .\n')
    mapper_build(settings, {"added-later": Graph().parse(data=added, format="turtle").serialize(format="nt")})
    assert client.get("/doc/record/added-later.ttl").status_code == 200
    assert client.get(f"{DOC}.ttl").status_code == 200


# --- docket serve --get ----------------------------------------------------------------------------------

def test_get_once_prints_the_body_and_fails_on_errors(site_app):
    out, err = io.BytesIO(), io.StringIO()
    assert get_once(site_app, f"{DOC}.nt", {}, out=out, err=err) == 0
    assert err.getvalue().startswith("200") and "Content-Type: application/n-triples" in err.getvalue()
    assert (SEED, DCTERMS.title, None) in parse(out.getvalue(), "nt")
    out, err = io.BytesIO(), io.StringIO()
    assert get_once(site_app, f"id/record/{SEED_ID}", {"Accept": "text/html"}, out=out, err=err) == 0
    assert err.getvalue().startswith("303")
    assert get_once(site_app, "/id/record/nope", {}, out=io.BytesIO(), err=io.StringIO()) == 1
    assert get_once(site_app, f"/id/record/{WITHDRAWN}", {}, out=io.BytesIO(), err=io.StringIO()) == 1
