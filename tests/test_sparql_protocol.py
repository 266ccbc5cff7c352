"""/sparql speaks the SPARQL 1.1 Protocol: every way of asking, every result format parsed back."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from sparql_helpers import BASE, RECORDS, app_for, publish, settings_for, shutdown

TITLES = "PREFIX dcterms: <http://purl.org/dc/terms/> SELECT ?r ?t WHERE { ?r dcterms:title ?t } ORDER BY ?r"
CONSTRUCT = "PREFIX dcterms: <http://purl.org/dc/terms/> CONSTRUCT { ?r dcterms:title ?t } WHERE { ?r dcterms:title ?t }"
SD = "http://www.w3.org/ns/sparql-service-description#"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = settings_for(tmp_path_factory.mktemp("sparql-protocol"))
    publish(settings)
    app = app_for(settings)
    yield app
    shutdown(app)


@pytest.fixture
def client(app):
    return app.test_client()


def titles_from_json(data: bytes) -> dict[str, str]:
    doc = json.loads(data)
    assert doc["head"]["vars"] == ["r", "t"]
    return {b["r"]["value"]: b["t"]["value"] for b in doc["results"]["bindings"]}


EXPECTED = {f"{BASE}id/record/{rid}": title for rid, (title, _, _) in RECORDS.items()}


# --- the three ways of asking --------------------------------------------------------------------


def test_get_query_answers_sparql_json_without_accept(client):
    r = client.get("/sparql", query_string={"query": TITLES})
    assert r.status_code == 200
    assert r.mimetype == "application/sparql-results+json"
    assert titles_from_json(r.data) == EXPECTED
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Vary"] == "Accept"
    assert "SPARQL-Truncated" not in r.headers


def test_post_form_query(client):
    r = client.post("/sparql", data={"query": TITLES}, content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200
    assert titles_from_json(r.data) == EXPECTED


def test_post_direct_query(client):
    r = client.post("/sparql", data=TITLES.encode(), content_type="application/sparql-query; charset=utf-8")
    assert r.status_code == 200
    assert titles_from_json(r.data) == EXPECTED


def test_trailing_slash_is_the_same_endpoint(client):
    assert client.get("/sparql/", query_string={"query": "ASK {}"}).status_code == 200


def test_unknown_parameters_are_ignored(client):
    # SPARQLWrapper adds format, output and results; nothing changes because of them.
    r = client.get("/sparql", query_string={"query": TITLES, "format": "xml", "output": "xml", "results": "xml",
                                            "x-whatever": "1"})
    assert r.status_code == 200
    assert r.mimetype == "application/sparql-results+json"


def test_upgrade_h2c_header_is_ignored(client):
    r = client.get("/sparql", query_string={"query": "ASK {}"},
                   headers={"Upgrade": "h2c", "Connection": "Upgrade, HTTP2-Settings", "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA"})
    assert r.status_code == 200
    assert json.loads(r.data) == {"head": {}, "boolean": True}


def test_non_ascii_query_round_trips(client):
    r = client.get("/sparql", query_string={"query": 'SELECT ?x WHERE { BIND("周恩来 – Genève" AS ?x) }'})
    assert json.loads(r.data)["results"]["bindings"][0]["x"]["value"] == "周恩来 – Genève"


# --- result formats -------------------------------------------------------------------------------


@pytest.mark.parametrize("accept, mimetype", [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/json", "application/json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
])
def test_select_formats_parse_back(client, accept, mimetype):
    r = client.get("/sparql", query_string={"query": TITLES}, headers={"Accept": accept})
    assert r.status_code == 200, r.data
    assert r.mimetype == mimetype
    if mimetype == "text/csv":
        rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8"))))
        assert {row["r"]: row["t"] for row in rows} == EXPECTED
        return
    fmt = {"text/tab-separated-values": ox.QueryResultsFormat.TSV,
           "application/sparql-results+xml": ox.QueryResultsFormat.XML}.get(mimetype, ox.QueryResultsFormat.JSON)
    parsed = ox.parse_query_results(r.data, format=fmt)
    assert {s["r"].value: s["t"].value for s in parsed} == EXPECTED


def test_accept_q_values_choose(client):
    r = client.get("/sparql", query_string={"query": TITLES},
                   headers={"Accept": "application/sparql-results+json;q=0.5, text/csv;q=0.9, */*;q=0.1"})
    assert r.mimetype == "text/csv"
    r = client.get("/sparql", query_string={"query": TITLES}, headers={"Accept": "*/*"})
    assert r.mimetype == "application/sparql-results+json"


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                                    "text/tab-separated-values"])
def test_ask_formats(client, accept):
    r = client.get("/sparql", query_string={"query": "ASK { ?s a <https://www.ica.org/standards/RiC/ontology#Record> }"},
                   headers={"Accept": accept})
    assert r.status_code == 200
    if accept.startswith("text/"):
        assert r.data.strip().lower() == b"true"
    else:
        fmt = ox.QueryResultsFormat.XML if accept.endswith("xml") else ox.QueryResultsFormat.JSON
        assert bool(ox.parse_query_results(r.data, format=fmt)) is True


@pytest.mark.parametrize("accept, mimetype, ox_format", [
    (None, "text/turtle", ox.RdfFormat.TURTLE),
    ("text/turtle", "text/turtle", ox.RdfFormat.TURTLE),
    ("application/ld+json", "application/ld+json", ox.RdfFormat.JSON_LD),
    ("application/rdf+xml", "application/rdf+xml", ox.RdfFormat.RDF_XML),
    ("application/n-triples", "application/n-triples", ox.RdfFormat.N_TRIPLES),
    ("application/json", "application/json", ox.RdfFormat.JSON_LD),
])
def test_construct_formats_parse_back(client, accept, mimetype, ox_format):
    # Parsed with pyoxigraph: rdflib's JSON-LD parser warns about its own deprecations.
    headers = {"Accept": accept} if accept else {}
    r = client.get("/sparql", query_string={"query": CONSTRUCT}, headers=headers)
    assert r.status_code == 200, r.data
    assert r.mimetype == mimetype
    triples = list(ox.parse(r.data, format=ox_format))
    assert {t.subject.value: t.object.value for t in triples} == EXPECTED


def test_describe_answers_a_graph(client):
    record = f"{BASE}id/record/telegram-1954-06-20"
    r = client.get("/sparql", query_string={"query": f"DESCRIBE <{record}>"}, headers={"Accept": "text/turtle"})
    g = Graph().parse(data=r.data, format="turtle")
    assert (URIRef(record), RDF.type, URIRef("https://www.ica.org/standards/RiC/ontology#Record")) in g


def test_nothing_acceptable_is_406(client):
    r = client.get("/sparql", query_string={"query": TITLES}, headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert "text/csv" in r.get_json()["detail"]


# --- the dataset ----------------------------------------------------------------------------------


def test_default_graph_is_the_union_of_named_graphs(client):
    # Records live in their own graphs, agents in the authorities graph: one pattern joins them.
    q = ("PREFIX rico: <https://www.ica.org/standards/RiC/ontology#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>"
         " SELECT DISTINCT ?label WHERE { ?r rico:hasSender ?a . ?a skos:prefLabel ?label } ORDER BY ?label")
    rows = json.loads(client.get("/sparql", query_string={"query": q}).data)["results"]["bindings"]
    assert [b["label"]["value"] for b in rows] == ["Central Committee of the Chinese Communist Party", "Zhou Enlai"]


def test_default_graph_uri_restricts_the_dataset(client):
    graph = f"{BASE}graph/authorities"
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    r = client.get("/sparql?" + urlencode({"query": q, "default-graph-uri": graph}))
    assert json.loads(r.data)["results"]["bindings"][0]["n"]["value"] == "2"


def test_named_graph_uri_restricts_graph_patterns(client):
    graph = f"{BASE}graph/record/minutes-1954-07-01"
    q = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    r = client.post("/sparql?" + urlencode({"named-graph-uri": graph}), data=q, content_type="application/sparql-query")
    assert [b["g"]["value"] for b in json.loads(r.data)["results"]["bindings"]] == [graph]


def test_form_dataset_parameters_count(client):
    graph = f"{BASE}graph/authorities"
    r = client.post("/sparql", data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "default-graph-uri": graph})
    assert json.loads(r.data)["results"]["bindings"][0]["n"]["value"] == "2"


def test_from_a_graph_in_the_store_is_used(client):
    q = f"SELECT (COUNT(*) AS ?n) FROM <{BASE}graph/authorities> WHERE {{ ?s ?p ?o }}"
    assert json.loads(client.get("/sparql", query_string={"query": q}).data)["results"]["bindings"][0]["n"]["value"] == "2"


# --- refusals ------------------------------------------------------------------------------------


def test_update_by_get_is_400(client):
    r = client.get("/sparql", query_string={"update": "CLEAR ALL"})
    assert r.status_code == 400
    assert "Update" in r.get_json()["detail"]


@pytest.mark.parametrize("data, content_type", [
    ("CLEAR ALL", "application/sparql-update"),
    ("update=CLEAR+ALL", "application/x-www-form-urlencoded"),
    ("update=" + "LOAD+%3Chttp%3A%2F%2Fexample.com%2F%3E", "application/x-www-form-urlencoded"),
])
def test_update_by_post_is_refused_as_read_only(client, data, content_type):
    r = client.post("/sparql", data=data, content_type=content_type)
    assert r.status_code == 403
    assert "read-only" in r.get_json()["detail"]


def test_update_text_as_query_is_400(client):
    r = client.get("/sparql", query_string={"query": "INSERT DATA { <a:b> <a:c> <a:d> }"})
    assert r.status_code == 400
    assert "read-only" in r.get_json()["detail"]


def test_two_queries_are_400(client):
    r = client.get("/sparql?query=ASK%20%7B%7D&query=ASK%20%7B%7D")
    assert r.status_code == 400
    assert "exactly one" in r.get_json()["detail"]
    r = client.post("/sparql?query=ASK%20%7B%7D", data="ASK {}", content_type="application/sparql-query")
    assert r.status_code == 400


@pytest.mark.parametrize("content_type", ["text/plain", None, "application/json"])
def test_wrong_media_type_is_400(client, content_type):
    r = client.post("/sparql", data="ASK {}", content_type=content_type)
    assert r.status_code == 400
    assert "application/sparql-query" in r.get_json()["detail"]


def test_non_utf8_is_400(client):
    r = client.post("/sparql", data="ASK {}".encode("utf-16"), content_type="application/sparql-query; charset=UTF-16")
    assert r.status_code == 400
    r = client.post("/sparql", data=b"SELECT * WHERE { ?s ?p \"\xff\" }", content_type="application/sparql-query")
    assert r.status_code == 400
    assert "UTF-8" in r.get_json()["detail"]


def test_syntax_error_is_400_with_the_parsers_message(client):
    r = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p }"})
    assert r.status_code == 400
    detail = r.get_json()["detail"]
    assert "syntax error" in detail and "col" in detail


def test_undeclared_prefix_is_400(client):
    r = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s nope:p ?o }"})
    assert r.status_code == 400
    assert "Prefix not found" in r.get_json()["detail"]


def test_cors_preflight(client):
    r = client.options("/sparql", headers={"Origin": "https://editor.example", "Access-Control-Request-Method": "POST",
                                           "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in r.headers["Access-Control-Allow-Headers"]


def test_a_long_plain_query_runs(client):
    # rdflib's parser recurses per triple pattern: under Python's default limit this is "too deep".
    patterns = " . ".join(f"<urn:x:s{i}> <urn:x:p> ?o{i}" for i in range(150))
    r = client.post("/sparql", data=f"SELECT * WHERE {{ {patterns} }}", content_type="application/sparql-query")
    assert r.status_code == 200, r.data
    assert json.loads(r.data)["results"]["bindings"] == []


def test_head_answers_like_get(client):
    r = client.head("/sparql", query_string={"query": "ASK {}"})
    assert r.status_code == 200
    assert r.mimetype == "application/sparql-results+json"


def test_other_methods_are_405(client):
    assert client.put("/sparql", data="ASK {}", content_type="application/sparql-query").status_code == 405
    assert client.delete("/sparql").status_code == 405


# --- service description and query page ----------------------------------------------------------


@pytest.mark.parametrize("accept, ox_format", [(None, ox.RdfFormat.TURTLE), ("text/turtle", ox.RdfFormat.TURTLE),
                                              ("application/ld+json", ox.RdfFormat.JSON_LD),
                                              ("application/rdf+xml", ox.RdfFormat.RDF_XML)])
def test_service_description(client, accept, ox_format):
    r = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert r.status_code == 200
    nt = ox.serialize(ox.parse(r.data, format=ox_format), format=ox.RdfFormat.N_TRIPLES)
    g = Graph().parse(data=nt, format="nt")
    service = URIRef("http://localhost/sparql")
    assert (service, URIRef(SD + "endpoint"), service) in g
    assert (service, RDF.type, URIRef(SD + "Service")) in g
    assert (service, URIRef(SD + "feature"), URIRef(SD + "UnionDefaultGraph")) in g
    formats = set(g.objects(service, URIRef(SD + "resultFormat")))
    assert URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in formats
    assert URIRef("http://www.w3.org/ns/formats/Turtle") in formats
    assert int(g.value(service, URIRef(BASE + "ontology#rowCap"))) == 10_000
    names = {str(o) for o in g.objects(None, URIRef(SD + "name"))}
    assert f"{BASE}graph/authorities" in names


def test_query_page_for_browsers(client):
    r = client.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    page = r.data.decode()
    assert '<label for="query">' in page and 'id="query"' in page
    assert "rico:hasSender" in page
    # Scripts (the editor, when `make assets` installed it) only from this server: tests/test_sparql_page.py.
    assert "https://cdn" not in page and '<script src="http' not in page and '<script src="//' not in page


def test_query_page_examples_all_run(app, client):
    from docket.serve.sparql import examples

    for title, _, text in examples(app.extensions["docket.settings"]):
        r = client.get("/sparql", query_string={"query": text})
        assert r.status_code == 200, (title, r.data)


def test_examples_find_something_in_a_real_build(built_settings):
    from docket.serve.sparql import examples

    app = app_for(built_settings)
    client = app.test_client()
    try:
        for title, _, text in examples(built_settings):
            r = client.get("/sparql", query_string={"query": text},
                           headers={"Accept": "application/sparql-results+json, application/n-triples;q=0.9"})
            assert r.status_code == 200, (title, r.data)
            if r.mimetype == "application/n-triples":
                assert list(ox.parse(r.data, format=ox.RdfFormat.N_TRIPLES)), title
            else:
                assert json.loads(r.data)["results"]["bindings"], title
    finally:
        shutdown(app)


# --- the cut-and-reserialize path keeps every term exact ------------------------------------------

from hypothesis import given, settings as hsettings, strategies as st  # noqa: E402

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@hsettings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(
    _TEXT.map(ox.Literal),
    st.tuples(_TEXT, st.sampled_from(["en", "zh-Hans", "ru"])).map(lambda t: ox.Literal(t[0], language=t[1])),
    st.integers().map(ox.Literal),
    st.from_regex(r"[a-z]{1,8}", fullmatch=True).map(lambda s: ox.NamedNode(f"http://example.org/{s}?q=é")),
), min_size=1, max_size=8), fmt=st.sampled_from(["json", "xml", "tsv"]))
def test_rows_cut_by_the_runner_equal_the_engines_own_output(values, fmt):
    from docket import result_formats
    from docket.sparql.jobs import Job, execute

    store = ox.Store()
    for i, value in enumerate(values):
        store.add(ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), ox.NamedNode("http://example.org/p"), value,
                          ox.NamedNode("http://example.org/g")))
    query = "SELECT ?s ?o ?missing WHERE { ?s <http://example.org/p> ?o } ORDER BY ?s"
    outcome = execute(store, Job(query, "", fmt, row_cap=len(values)))
    assert outcome.error is None and not outcome.truncated
    expected = store.query(query, use_default_graph_as_union=True).serialize(format=result_formats.lookup(fmt).oxigraph)
    parse = result_formats.lookup(fmt).oxigraph
    got = [tuple(s) for s in ox.parse_query_results(outcome.body, format=parse)]
    want = [tuple(s) for s in ox.parse_query_results(expected, format=parse)]
    assert got == want
