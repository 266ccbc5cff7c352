"""Fuzz the HTTP edges through the Flask test client: no request yields a 500 or hangs.

Three edges a crawler or a careless client reaches first: content negotiation (random Accept headers,
``?format=``, extensions and pages on the dereferencing routes), the SPARQL Protocol (random methods,
parameters, bodies and content types on ``/sparql``) and OAI-PMH (random verbs, arguments, dates and
resumption tokens). The property tests in test_negotiation.py and test_oai.py check the negotiation
and paging functions themselves; these check what the server makes of anything at all.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from lxml import etree

from docket.serve import create_app
from docket.serve.sparql import close_runner

SEED = "1954-06-20-telegram-ccp-central-committee-to-zhou-enlai"
SECONDS = 10.0  # a request that takes longer than this counts as a hang
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def app(built_settings):
    app = create_app(built_settings.replace(sparql_timeout=5.0, sparql_workers=1))
    yield app
    close_runner(app)


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def answered(client, method: str, path: str, **kwargs):
    """Send one request; fail on a 500 (or any 5xx but a 503 that says when to retry) or a hang."""
    started = time.monotonic()
    response = client.open(path, method=method, **kwargs)
    elapsed = time.monotonic() - started
    assert elapsed < SECONDS, f"{method} {path} took {elapsed:.1f} s"
    status = response.status_code
    assert status < 500 or (status == 503 and "Retry-After" in response.headers), \
        f"{method} {path} {kwargs} -> {status}: {response.get_data(as_text=True)[:500]}"
    return response


# Header text: latin-1 without line breaks, as a header can carry.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80)
MEDIA = ["text/html", "text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples",
         "application/json", "application/xml", "text/plain", "text/*", "application/*", "*/*", "image/png",
         "application/sparql-results+json", "text/csv", "application/xhtml+xml", "*/html", "text/", "/", ""]
Q = ["", ";q=0", ";q=0.5", ";q=1", ";q=1.0", ";q=2", ";q=-1", ";q=abc", ";q=nan", ";q=inf", ";q=", ";level=1",
     ";charset=utf-8", ";q=0.9;profile=\"x\"", ";;", ";q=1e400"]
structured_accept = st.lists(st.tuples(st.sampled_from(MEDIA), st.sampled_from(Q)), max_size=6).map(
    lambda items: ", ".join(m + q for m, q in items))
accept = st.one_of(structured_accept, header_text)
FORMATS = ["turtle", "ttl", "nt", "ntriples", "jsonld", "json-ld", "rdf", "xml", "html", "json", "csv", ""]
fmt = st.one_of(st.none(), st.sampled_from(FORMATS), st.text(max_size=20))
page = st.one_of(st.none(), st.sampled_from(["0", "-1", "1", "2", "999999999999999999999", "1.5", "x", ""]))


@FUZZ
@given(path=st.sampled_from([f"/id/record/{SEED}", f"/doc/record/{SEED}", "/doc/agent/zhou-enlai",
                             "/id/agent/zhou-enlai", "/ontology", "/", "/sparql", "/doc/record/no-such-record"]),
       extension=st.one_of(st.none(), st.sampled_from(FORMATS), st.text(max_size=12)),
       accept=accept, fmt=fmt, page=page)
def test_negotiation_never_fails(client, path, extension, accept, fmt, page):
    if extension is not None and path.startswith("/doc/"):
        path = f"{path}.{extension}"
    params = {k: v for k, v in (("format", fmt), ("page", page)) if v is not None}
    url = f"{path}?{urlencode(params)}" if params else path
    response = answered(client, "GET", url, headers={"Accept": accept})
    if response.status_code == 200 and path.startswith("/doc/"):
        assert "Accept" in response.headers.get("Vary", "")


# --- SPARQL -------------------------------------------------------------------------------------

QUERIES = ["SELECT * WHERE { ?s ?p ?o } LIMIT 3", "ASK {}", "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 2",
           "DESCRIBE <http://example.org/id/agent/zhou-enlai>", "INSERT DATA { <a:b> <a:c> <a:d> }",
           "SELECT * WHERE { SERVICE <http://example.com/> { ?s ?p ?o } }", "SELECT", "",
           "SELECT * FROM <http://nowhere.example/> WHERE { ?s ?p ?o }", "PREFIX : <x:> SELECT ?x { ?x :p 1 }",
           "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "SELECT * WHERE { ?s ?p ?o } LIMIT 1 ; SELECT 1"]
query_text = st.one_of(st.sampled_from(QUERIES), st.text(max_size=120))
PARAMS = ["query", "update", "default-graph-uri", "named-graph-uri", "format", "output", "results", "timeout", "x"]
params = st.lists(st.tuples(st.sampled_from(PARAMS), st.one_of(query_text, st.sampled_from(
    ["http://example.org/graph/authorities", "json", "", "http://nowhere.example/"]))), max_size=4)
CONTENT_TYPES = [None, "application/sparql-query", "application/x-www-form-urlencoded", "application/sparql-update",
                 "text/plain", "multipart/form-data", "application/json", "application/sparql-query; charset=latin-1",
                 "application/x-www-form-urlencoded; charset=utf-16", "application/sparql-query; charset=UTF-8"]
body = st.one_of(st.binary(max_size=200), query_text.map(lambda q: q.encode("utf-8")),
                 params.map(lambda items: urlencode(items).encode("ascii")))
sparql_accept = st.one_of(st.none(), accept, st.sampled_from([
    "application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values",
    "text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml", "image/png"]))


@FUZZ
@given(method=st.sampled_from(["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"]), url_params=params,
       content_type=st.one_of(st.sampled_from(CONTENT_TYPES), header_text), data=body, accept=sparql_accept)
def test_sparql_requests_never_fail(client, method, url_params, content_type, data, accept):
    url = "/sparql" + (f"?{urlencode(url_params)}" if url_params else "")
    headers = {"Accept": accept} if accept is not None else {}
    kwargs = {"headers": headers}
    if method in ("POST", "PUT"):
        kwargs["data"] = data
        if content_type is not None:
            kwargs["content_type"] = content_type
    answered(client, method, url, **kwargs)


# --- OAI-PMH ------------------------------------------------------------------------------------

VERBS = ["Identify", "ListMetadataFormats", "ListSets", "ListIdentifiers", "ListRecords", "GetRecord", "identify", ""]
ARGS = ["verb", "identifier", "metadataPrefix", "from", "until", "set", "resumptionToken", "x"]
values = st.one_of(
    st.sampled_from(["oai_dc", "rdf", "oai_dc ", f"oai:example.org:{SEED}", "oai:example.org:", "2026-01-01",
                     "2026-01-01T00:00:00Z", "1954-13-45", "0000-00-00", "9999-12-31T23:59:59Z", "2026-01-01T00:00Z",
                     "type:telegram", "decade:1950", "year:1954", "::", "", "AAAA", "eyJ9", "~" * 200]),
    st.text(max_size=60),
    st.binary(max_size=40).map(lambda b: __import__("base64").urlsafe_b64encode(b).decode()),
)


@FUZZ
@given(verb=st.one_of(st.sampled_from(VERBS), st.text(max_size=20)),
       args=st.lists(st.tuples(st.sampled_from(ARGS), values), max_size=5), method=st.sampled_from(["GET", "POST"]))
def test_oai_arguments_never_fail(client, verb, args, method):
    pairs = [("verb", verb), *args]
    if method == "GET":
        response = answered(client, "GET", f"/oai?{urlencode(pairs)}")
    else:
        response = answered(client, "POST", "/oai", data=urlencode(pairs),
                            content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    root = etree.fromstring(response.get_data())
    assert etree.QName(root).localname == "OAI-PMH"


@pytest.mark.parametrize("path", [
    "/doc/agent/zhou-enlai.ttl?page={n}", "/doc/agent/zhou-enlai.html?page={n}", "/search?q=geneva&page={n}",
    "/api/search?q=geneva&page={n}", "/browse/year/1954?page={n}", "/fragments?page={n}",
])
@pytest.mark.parametrize("n", ["99999999999999999999999", "-5", "1e9", "9223372036854775808"])
def test_huge_or_odd_page_numbers_never_fail(client, path, n):
    """Regression: a page number beyond SQLite's integers answered 500."""
    assert client.get(path.format(n=n)).status_code < 500
