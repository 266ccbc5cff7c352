"""Real clients query a running server: SPARQLWrapper (every result format, GET and POST) and rdflib's SPARQLStore.

The server is the app under werkzeug's threaded server on a free port of 127.0.0.1, started and
stopped by a fixture; nothing leaves the machine.
"""

from __future__ import annotations

import csv
import io
import socket
import threading
import urllib.error

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, POSTDIRECTLY, RDFXML, TSV, TURTLE, XML, SPARQLWrapper
from werkzeug.serving import make_server

from sparql_helpers import BASE, RECORDS, app_for, publish, settings_for, shutdown

pytestmark = pytest.mark.slow

TITLES = "PREFIX dcterms: <http://purl.org/dc/terms/> SELECT ?r ?t WHERE { ?r dcterms:title ?t } ORDER BY ?r"
CONSTRUCT = "PREFIX dcterms: <http://purl.org/dc/terms/> CONSTRUCT { ?r dcterms:title ?t } WHERE { ?r dcterms:title ?t }"
EXPECTED = {f"{BASE}id/record/{rid}": title for rid, (title, _, _) in RECORDS.items()}


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    settings = settings_for(tmp_path_factory.mktemp("sparql-clients"))
    publish(settings)
    app = app_for(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sparql"
    server.shutdown()
    server.server_close()
    thread.join(5)
    shutdown(app)


def wrapper(endpoint: str, query: str, fmt: str, method: str | None = None) -> SPARQLWrapper:
    sparql = SPARQLWrapper(endpoint)
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    if method == "post":
        sparql.setMethod(POST)
    elif method == "direct":
        sparql.setMethod(POST)
        sparql.setRequestMethod(POSTDIRECTLY)
    return sparql


@pytest.mark.parametrize("method", [None, "post", "direct"])
def test_sparqlwrapper_select_json(endpoint, method):
    result = wrapper(endpoint, TITLES, JSON, method).queryAndConvert()
    assert {b["r"]["value"]: b["t"]["value"] for b in result["results"]["bindings"]} == EXPECTED


def test_sparqlwrapper_select_xml(endpoint):
    doc = wrapper(endpoint, TITLES, XML).queryAndConvert()
    values = [n.firstChild.data for n in doc.getElementsByTagName("literal")]
    assert sorted(values) == sorted(EXPECTED.values())


@pytest.mark.parametrize("fmt, delimiter", [(CSV, ","), (TSV, "\t")])
def test_sparqlwrapper_select_csv_tsv(endpoint, fmt, delimiter):
    text = wrapper(endpoint, TITLES, fmt).queryAndConvert()
    text = text.decode("utf-8") if isinstance(text, bytes) else text
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    assert len(rows) == len(EXPECTED) + 1
    if fmt == TSV:
        assert rows[0] == ["?r", "?t"]
        parsed = ox.parse_query_results(text.encode(), format=ox.QueryResultsFormat.TSV)
        assert {s["r"].value: s["t"].value for s in parsed} == EXPECTED
    else:
        assert rows[0] == ["r", "t"]
        assert dict(rows[1:]) == EXPECTED


def test_sparqlwrapper_ask(endpoint):
    assert wrapper(endpoint, "ASK { ?s ?p ?o }", JSON).queryAndConvert()["boolean"] is True


@pytest.mark.parametrize("fmt, ox_format", [(TURTLE, ox.RdfFormat.TURTLE), (N3, ox.RdfFormat.TURTLE),
                                            (RDFXML, ox.RdfFormat.RDF_XML), (JSONLD, ox.RdfFormat.JSON_LD)])
def test_sparqlwrapper_construct(endpoint, fmt, ox_format):
    # The raw response is parsed here: SPARQLWrapper's own conversion goes through rdflib's
    # JSON-LD parser, which warns about its own deprecations.
    response = wrapper(endpoint, CONSTRUCT, fmt).query().response
    triples = list(ox.parse(response.read(), format=ox_format))
    assert {t.subject.value: t.object.value for t in triples} == EXPECTED


# SPARQLWrapper converts into an rdflib ConjunctiveGraph, which rdflib 7.6 deprecates: their warning, not ours.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_sparqlwrapper_construct_rdfxml_converts(endpoint):
    graph = wrapper(endpoint, CONSTRUCT, RDFXML).queryAndConvert()
    assert {str(s): str(o) for s, _, o in graph} == EXPECTED


def test_sparqlwrapper_sees_refusals(endpoint):
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    with pytest.raises(QueryBadFormed):
        wrapper(endpoint, "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", JSON).query()
    update = wrapper(endpoint, "INSERT DATA { <urn:a> <urn:b> <urn:c> }", JSON, "post")
    with pytest.raises(urllib.error.HTTPError) as info:
        update.query()
    assert info.value.code == 403
    info.value.close()


def test_upgrade_h2c_is_ignored_by_the_running_server(endpoint):
    # Jena's HTTP client offers an HTTP/2 upgrade on every request; the answer stays HTTP/1.1.
    import http.client
    from urllib.parse import quote, urlsplit

    url = urlsplit(endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request("GET", f"{url.path}?query={quote('ASK {}')}", headers={
            "Upgrade": "h2c", "Connection": "Upgrade, HTTP2-Settings", "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA",
            "Accept": "application/sparql-results+json"})
        response = conn.getresponse()
        assert response.status == 200
        assert response.read() == b'{"head":{},"boolean":true}'
    finally:
        conn.close()


def test_rdflib_sparqlstore(endpoint):
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    store = SPARQLStore(endpoint, returnFormat="json")
    graph = Graph(store=store)
    rows = graph.query(TITLES)
    assert {str(r): str(t) for r, t in rows} == EXPECTED
    record = URIRef(f"{BASE}id/record/telegram-1954-06-20")
    titles = set(graph.objects(record, URIRef("http://purl.org/dc/terms/title")))
    assert titles == {Literal(RECORDS["telegram-1954-06-20"][0], lang="en")}
    assert graph.query("ASK { ?s ?p ?o }").askAnswer is True
    store.close()


# --- a remote store behind /sparql ------------------------------------------------------------------


@pytest.fixture
def remote_app(tmp_path, endpoint):
    # The remote store is another Docket endpoint here: any SPARQL 1.1 server would do.
    settings = settings_for(tmp_path, store_backend="remote", remote_query_url=endpoint)
    app = app_for(settings)
    yield app
    shutdown(app)


def test_sparql_over_a_remote_store(remote_app):
    client = remote_app.test_client()
    r = client.get("/sparql", query_string={"query": TITLES}, headers={"Accept": "text/csv"})
    assert r.status_code == 200, r.data
    rows = list(csv.reader(io.StringIO(r.data.decode())))
    assert dict(rows[1:]) == EXPECTED
    r = client.get("/sparql", query_string={"query": CONSTRUCT}, headers={"Accept": "application/n-triples"})
    assert {t.subject.value: t.object.value for t in ox.parse(r.data, format=ox.RdfFormat.N_TRIPLES)} == EXPECTED
    # The guard still stands in front of it.
    r = client.get("/sparql", query_string={"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"})
    assert r.status_code == 400


def test_remote_store_refuses_protocol_datasets_clearly(remote_app):
    r = remote_app.test_client().get("/sparql", query_string={"query": "ASK {}", "default-graph-uri": "http://example.org/g"})
    assert r.status_code == 400
    assert "FROM" in r.get_json()["detail"]


def test_unreachable_remote_store_is_502(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = settings_for(tmp_path, store_backend="remote", remote_query_url=f"http://127.0.0.1:{port}/sparql")
    app = app_for(settings)
    try:
        r = app.test_client().get("/sparql", query_string={"query": "ASK {}"})
        assert r.status_code == 502
        assert f"127.0.0.1:{port}" in r.get_json()["detail"]
    finally:
        shutdown(app)
