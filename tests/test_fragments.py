"""Triple Pattern Fragments: pattern syntax, matching, paging, counts, Hydra controls and formats.

Matching and paging are checked on small in-memory stores whose answers are known, and against
the published build of the seed and example records (fixture ``built_settings``), where every
page of ``?s ?p ?o`` is walked through its ``hydra:next`` links and compared with the store.
"""

from __future__ import annotations

import json
import warnings
from urllib.parse import quote

import pyoxigraph as ox
import pytest
from hypothesis import given, settings as hsettings, strategies as st
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, XSD

from docket.fragments import (
    PAGE_SIZE,
    Addresses,
    Pattern,
    PatternError,
    as_quads,
    count,
    metadata_graph_iri,
    parse_term,
    select,
    term_text,
)
from docket.serve import create_app
from docket.store import OxigraphStore, open_current
from docket.uris import Minter

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
VOID = Namespace("http://rdfs.org/ns/void#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
BASE = "http://example.org/"
ZHOU = f"{BASE}id/agent/zhou-enlai"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
COMUNICA = ("application/n-quads,application/trig;q=0.95,application/ld+json;q=0.9,application/n-triples;q=0.8,"
            "text/turtle;q=0.6,application/rdf+xml;q=0.5,text/n3;q=0.35,application/xml;q=0.3,"
            "text/html;q=0.2,application/json;q=0.135")


# --- fixtures -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(built_settings):
    return create_app(built_settings).test_client()


@pytest.fixture(scope="module")
def store(built_settings):
    with open_current(built_settings) as s:
        yield s


def distinct_triples(store: OxigraphStore, s=None, p=None, o=None) -> set[ox.Triple]:
    """The expected answer, computed the slow way: every quad, graphs dropped, duplicates merged."""
    return {q.triple for q in store.raw.quads_for_pattern(s, p, o, None)}


def memory_store(quads: list[ox.Quad]) -> OxigraphStore:
    raw = ox.Store()
    raw.extend(quads)
    return OxigraphStore(raw, None, read_only=False)


def n(i: int) -> ox.NamedNode:
    return ox.NamedNode(f"http://example.org/n{i}")


P = ox.NamedNode("http://example.org/p")
Q = ox.NamedNode("http://example.org/q")
G1, G2 = ox.NamedNode("http://example.org/g1"), ox.NamedNode("http://example.org/g2")


def addresses() -> Addresses:
    m = Minter(BASE)

    def link(pattern: Pattern, page: int | None) -> str:
        t = pattern.texts()
        return m.fragments(t.get("subject"), t.get("predicate"), t.get("object"), page)

    return Addresses(m.fragments_dataset(), m.fragments_template(), link)


def fetch(client, url: str, accept: str = "application/trig"):
    path = url[len(BASE) - 1:] if url.startswith(BASE) else url
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def parse_quads(response) -> Dataset:
    """Read a quad format with rdflib (a second implementation, not the one that wrote it)."""
    ds = Dataset()
    fmt = {"application/trig": "trig", "application/n-quads": "nquads", "application/ld+json": "json-ld"}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)  # rdflib 7.6's own parse code
        ds.parse(data=response.get_data(as_text=True), format=fmt[response.mimetype])
    return ds


# --- the pattern syntax ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    (None, None),
    ("", None),
    ("?s", None),
    ("http://example.org/x", ox.NamedNode("http://example.org/x")),
    ("<http://example.org/x>", ox.NamedNode("http://example.org/x")),
    ('"Geneva"', ox.Literal("Geneva")),
    ('"Geneva"@en', ox.Literal("Geneva", language="en")),
    ('"Zhou Enlai"@en-GB', ox.Literal("Zhou Enlai", language="en-GB")),
    ('"1954"^^http://www.w3.org/2001/XMLSchema#gYear', ox.Literal("1954", datatype=ox.NamedNode(str(XSD.gYear)))),
    ('"1954"^^<http://www.w3.org/2001/XMLSchema#gYear>', ox.Literal("1954", datatype=ox.NamedNode(str(XSD.gYear)))),
    ('"1954"^^<xsd:gYear>', ox.Literal("1954", datatype=ox.NamedNode(str(XSD.gYear)))),
    ('"1954"^^xsd:gYear', ox.Literal("1954", datatype=ox.NamedNode(str(XSD.gYear)))),
    ('"say "yes""', ox.Literal('say "yes"')),  # explicit representation: no escaping inside the quotes
    ("_:b0", ox.BlankNode("b0")),
])
def test_terms_are_read_in_hydras_explicit_representation(text, expected):
    assert parse_term(text) == expected


@pytest.mark.parametrize("text, words", [
    ("zhou-enlai", "not an absolute IRI"),
    ('"unclosed', "not a literal"),
    ("http://example.org/a b", "not a valid term"),
])
def test_a_malformed_term_is_refused_with_its_position(text, words):
    with pytest.raises(PatternError, match=words) as caught:
        Pattern.parse(None, text, None)
    assert str(caught.value).startswith("predicate:")


@hsettings(max_examples=60, deadline=None)
@given(value=st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
       kind=st.sampled_from(["plain", "lang", "typed"]))
def test_every_literal_survives_writing_and_reading(value, kind):
    literal = {"plain": ox.Literal(value), "lang": ox.Literal(value, language="en-gb"),
               "typed": ox.Literal(value, datatype=ox.NamedNode(str(XSD.token)))}[kind]
    assert parse_term(term_text(literal)) == literal


def test_links_are_encoded_as_the_search_template_expands_them():
    m = Minter(BASE)
    assert m.fragments_template() == "http://example.org/fragments{?subject,predicate,object}"
    url = m.fragments(ZHOU, None, '"Zhou Enlai"@en', 2)
    # RFC 6570 form-style expansion: every reserved character percent-encoded, space as %20.
    assert url == ("http://example.org/fragments?subject=http%3A%2F%2Fexample.org%2Fid%2Fagent%2Fzhou-enlai"
                   "&object=%22Zhou%20Enlai%22%40en&page=2")
    assert m.fragments() == "http://example.org/fragments"


# --- matching, counting, paging (known answers) ----------------------------------------------------------

def test_the_default_graph_is_the_union_and_a_triple_in_two_graphs_counts_once():
    s = memory_store([
        ox.Quad(n(1), P, n(2), G1), ox.Quad(n(1), P, n(2), G2), ox.Quad(n(1), P, n(2), ox.DefaultGraph()),
        ox.Quad(n(1), Q, ox.Literal("x", language="en"), G2),
        ox.Quad(n(3), P, n(1), G1),
    ])
    assert select(s, Pattern()).total == 3
    assert sorted(map(str, select(s, Pattern(subject=n(1))).triples)) == sorted(
        [str(ox.Triple(n(1), P, n(2))), str(ox.Triple(n(1), Q, ox.Literal("x", language="en")))])
    assert select(s, Pattern(predicate=P)).total == 2
    assert select(s, Pattern(object=n(1))).triples == [ox.Triple(n(3), P, n(1))]
    assert select(s, Pattern(object=ox.Literal("x", language="en"))).total == 1
    assert select(s, Pattern(object=ox.Literal("x"))).total == 0  # a plain literal is not a tagged one
    assert select(s, Pattern(n(1), P, n(2))).triples == [ox.Triple(n(1), P, n(2))]
    assert select(s, Pattern(n(2), P, n(1))).total == 0


def test_pages_hold_a_hundred_triples_and_together_every_match_once():
    s = memory_store([ox.Quad(n(i), P, ox.Literal(str(i)), G1 if i % 2 else G2) for i in range(250)]
                     + [ox.Quad(n(i), P, ox.Literal(str(i)), G1) for i in range(0, 250, 5)])  # repeats
    pages = [select(s, Pattern(predicate=P), page) for page in (1, 2, 3, 4)]
    assert [len(p.triples) for p in pages] == [PAGE_SIZE, PAGE_SIZE, 50, 0]
    assert all(p.total == 250 for p in pages)
    assert [p.has_next for p in pages] == [True, True, False, False]
    assert [p.has_previous for p in pages] == [False, True, True, True]
    assert pages[0].last_page == 3
    seen = [t for p in pages for t in p.triples]
    assert len(seen) == len(set(seen)) == 250
    assert select(s, Pattern(predicate=P), 2).triples == pages[1].triples  # the same page every time


def test_blank_nodes_can_be_asked_for():
    b = ox.BlankNode("x1")
    s = memory_store([ox.Quad(b, P, n(1), G1), ox.Quad(b, P, n(1), G2), ox.Quad(n(1), Q, b, G1)])
    assert select(s, Pattern.parse("_:x1")).triples == [ox.Triple(b, P, n(1))]
    assert select(s, Pattern.parse(None, None, "_:x1")).total == 1


def test_impossible_patterns_are_empty_not_errors():
    s = memory_store([ox.Quad(n(1), P, n(2), G1)])
    assert select(s, Pattern.parse('"a literal"')).total == 0
    assert select(s, Pattern.parse(None, "_:b")).total == 0
    with pytest.raises(ValueError):
        select(s, Pattern(), 0)


def test_counts_match_the_store_for_every_predicate(store):
    predicates = {t.predicate for t in distinct_triples(store)}
    for p in predicates:
        assert count(store, Pattern(predicate=p)) == len(distinct_triples(store, p=p)), p
    assert count(store, Pattern()) == len(distinct_triples(store))


def test_the_build_counted_the_widest_patterns_exactly(built_settings, store):
    from docket.fragments import known_counts
    from docket.harvest.void import VOID_FILE
    from docket.store import StoreLayout

    known = known_counts(StoreLayout(built_settings.store_dir).current() / VOID_FILE)
    rdf_type = ox.NamedNode(str(RDF.type))
    classes = {t.object for t in distinct_triples(store, p=rdf_type)}
    predicates = {t.predicate for t in distinct_triples(store)}
    expected = {Pattern().key(): len(distinct_triples(store))}
    expected |= {Pattern(predicate=p).key(): len(distinct_triples(store, p=p)) for p in predicates}
    expected |= {Pattern(predicate=rdf_type, object=c).key(): len(distinct_triples(store, p=rdf_type, o=c))
                 for c in classes}
    assert known == expected


def test_the_server_takes_the_widest_counts_from_the_build(client, store, monkeypatch):
    import docket.fragments as fragments

    def refuse(*args):
        raise AssertionError("counted at request time")

    monkeypatch.setattr(fragments, "count", refuse)
    for url in (f"{BASE}fragments", f"{BASE}fragments?predicate={quote(str(RDF.type), safe='')}"):
        meta = parse_quads(fetch(client, url)).graph(URIRef(metadata_graph_iri(url)))
        p = ox.NamedNode(str(RDF.type)) if "predicate" in url else None
        assert int(meta.value(URIRef(url), VOID.triples)) == len(distinct_triples(store, p=p))


def test_every_page_of_the_widest_pattern_comes_from_the_union_dump(client, store, built_settings, monkeypatch):
    # A query for page n reads and holds (DISTINCT) every triple before it; the sorted union dump
    # holds them once, in gzip members the server seeks to.
    import gzip

    import docket.fragments as fragments

    def refuse(*args):
        raise AssertionError("the store was queried for a page of every triple")

    monkeypatch.setattr(fragments, "_page_by_query", refuse)
    folder = built_settings.store_dir / "current"
    lines = gzip.decompress((folder / "dumps" / "docket.nt.gz").read_bytes()).splitlines(keepends=True)
    last = -(-len(lines) // PAGE_SIZE)
    for page in (1, 2, last // 2, last):
        url = f"{BASE}fragments?page={page}"
        body = fetch(client, url, "application/n-quads").data
        data = [q.triple for q in ox.parse(body, format=ox.RdfFormat.N_QUADS) if q.graph_name == ox.DefaultGraph()]
        expected = [q.triple for q in ox.parse(b"".join(lines[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]),
                                               format=ox.RdfFormat.N_TRIPLES)]
        assert data == expected, page


# --- the interface over HTTP ------------------------------------------------------------------------------

def test_walking_the_next_links_returns_the_whole_dataset_once(client, store):
    expected = distinct_triples(store)
    url, seen, pages = f"{BASE}fragments", [], 0
    while url:
        ds = parse_quads(fetch(client, url))
        meta = ds.graph(URIRef(metadata_graph_iri(url)))
        data = [t for t in ds.default_graph]  # rdflib's default graph holds only the data
        assert len(data) <= PAGE_SIZE
        assert int(meta.value(URIRef(url), VOID.triples)) == len(expected)
        assert int(meta.value(URIRef(url), HYDRA.totalItems)) == len(expected)
        seen += data
        pages += 1
        nxt = meta.value(URIRef(url), HYDRA.next)
        url = str(nxt) if nxt is not None else None
        assert pages < 1000
    assert pages == -(-len(expected) // PAGE_SIZE)
    assert len(seen) == len(set(seen)) == len(expected)  # every triple, none twice
    # Both sides read by rdflib, so that literals are compared in the same normal form.
    store_side = Graph().parse(data=ox.serialize(expected, format=ox.RdfFormat.N_TRIPLES).decode(), format="nt")
    assert {t for t in seen if not _has_blank(t)} == {t for t in store_side if not _has_blank(t)}


def _has_blank(t) -> bool:
    from rdflib import BNode

    return isinstance(t[0], BNode) or isinstance(t[2], BNode)


def test_the_hydra_controls_parse_back_and_lead_to_other_fragments(client):
    url = f"{BASE}fragments?subject={quote(ZHOU, safe='')}"
    ds = parse_quads(fetch(client, url))
    meta = ds.graph(URIRef(metadata_graph_iri(url)))
    assert meta.value(URIRef(metadata_graph_iri(url)), FOAF.primaryTopic) == URIRef(url)
    dataset = URIRef(f"{BASE}fragments#dataset")
    assert (dataset, RDF.type, VOID.Dataset) in meta and (dataset, RDF.type, HYDRA.Collection) in meta
    assert (dataset, VOID.subset, URIRef(url)) in meta
    search = meta.value(dataset, HYDRA.search)
    template = str(meta.value(search, HYDRA.template))
    assert template == f"{BASE}fragments{{?subject,predicate,object}}"
    assert meta.value(search, HYDRA.variableRepresentation) == HYDRA.ExplicitRepresentation
    mappings = {str(meta.value(m, HYDRA.variable)): meta.value(m, HYDRA.property)
                for m in meta.objects(search, HYDRA.mapping)}
    assert mappings == {"subject": RDF.subject, "predicate": RDF.predicate, "object": RDF.object}
    data = set(ds.default_graph)
    assert (URIRef(ZHOU), URIRef(LABEL), Literal("Zhou Enlai", lang="en")) in data
    assert not any(str(p).startswith(str(HYDRA)) for _, p, _ in data)  # controls stay out of the data
    assert int(meta.value(URIRef(url), VOID.triples)) == len(data)
    assert meta.value(URIRef(url), HYDRA.next) is None  # one page
    # A client fills in the template as RFC 6570 says; the page is about exactly that URL.
    filled = template.replace("{?subject,predicate,object}", "?object=" + quote('"Zhou Enlai"@en', safe=""))
    ds2 = parse_quads(fetch(client, filled))
    assert int(ds2.graph(URIRef(metadata_graph_iri(filled))).value(URIRef(filled), VOID.triples)) >= 2
    assert {s for s, _, _ in ds2.default_graph} == {URIRef(ZHOU)}


@pytest.mark.parametrize("value", [
    '"2020-01-15"^^http://www.w3.org/2001/XMLSchema#date',
    '"2020-01-15"^^<http://www.w3.org/2001/XMLSchema#date>',
    '"2020-01-15"^^xsd:date',
])
def test_typed_literal_objects_in_every_written_form(client, store, value):
    date = ox.Literal("2020-01-15", datatype=ox.NamedNode(str(XSD.date)))
    expected = len(distinct_triples(store, o=date))
    assert expected > 0
    url = f"{BASE}fragments?object={quote(value, safe='')}"
    graph = Graph().parse(data=fetch(client, url, "text/turtle").get_data(as_text=True), format="turtle")
    assert int(graph.value(URIRef(url), VOID.triples)) == expected
    assert len(list(graph.triples((None, None, Literal("2020-01-15", datatype=XSD.date))))) == expected


@pytest.mark.parametrize("accept, media_type, quads", [
    (None, "text/turtle", False),
    ("*/*", "text/turtle", False),
    ("text/turtle", "text/turtle", False),
    ("application/trig", "application/trig", True),
    ("application/n-quads", "application/n-quads", True),
    (COMUNICA, "application/n-quads", True),
    ("application/ld+json", "application/ld+json", True),
    ("application/n-triples", "application/n-triples", False),
    ("application/rdf+xml", "application/rdf+xml", False),
])
def test_each_format_carries_the_data_and_the_counts(client, accept, media_type, quads):
    url = f"{BASE}fragments?predicate={quote(LABEL, safe='')}"
    headers = {"Accept": accept} if accept else {}
    response = client.get(url[len(BASE) - 1:], headers=headers)
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    text = response.get_data(as_text=True)
    if quads:
        ds = parse_quads(response)
        data = set(ds.default_graph)
        meta = ds.graph(URIRef(metadata_graph_iri(url)))
    else:
        fmt = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml"}[media_type]
        meta = Graph().parse(data=text, format=fmt)
        data = {t for t in meta if t[1] == URIRef(LABEL)}
    total = int(meta.value(URIRef(url), VOID.triples))
    assert len(data) == min(total, PAGE_SIZE) and total > 0
    assert all(p == URIRef(LABEL) for _, p, _ in data)
    assert len(list(meta.triples((None, HYDRA.template, None)))) == 1


def test_the_html_page_has_a_form_and_links(client):
    response = client.get(f"/fragments?subject={quote(ZHOU, safe='')}", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for name in ("subject", "predicate", "object"):
        assert f'name="{name}"' in html
    assert f'value="{ZHOU}"' in html
    assert "Zhou Enlai" in html
    assert "format=trig" in html
    assert " matching triples" in html


def test_format_parameter_and_406(client):
    assert client.get("/fragments?format=trig").mimetype == "application/trig"
    assert client.get("/fragments?format=html").mimetype == "text/html"
    assert client.get("/fragments?format=pdf").status_code == 400
    response = client.get("/fragments", headers={"Accept": "image/png"})
    assert response.status_code == 406 and "text/turtle" in response.get_data(as_text=True)


@pytest.mark.parametrize("query, words", [
    ("subject=zhou-enlai", "subject: 'zhou-enlai' is not an absolute IRI"),
    ("object=%22open", "object:"),
    ("page=0", "page must be a whole number"),
    ("page=two", "page must be a whole number"),
])
def test_bad_requests_say_what_is_wrong(client, query, words):
    response = client.get(f"/fragments?{query}")
    assert response.status_code == 400
    assert words in response.get_data(as_text=True)


def test_a_page_past_the_end_is_empty_but_still_counts(client):
    url = f"{BASE}fragments?subject={quote(ZHOU, safe='')}&page=9"
    ds = parse_quads(fetch(client, url))
    meta = ds.graph(URIRef(metadata_graph_iri(url)))
    assert len(set(ds.default_graph)) == 0
    assert int(meta.value(URIRef(url), VOID.triples)) > 0
    assert meta.value(URIRef(url), HYDRA.previous) is not None


def test_conditional_requests_and_cors_preflight(client):
    first = client.get("/fragments")
    again = client.get("/fragments", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    preflight = client.options("/fragments", headers={"Origin": "https://example.net",
                                                      "Access-Control-Request-Method": "GET"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]


def test_metadata_sits_in_its_own_graph_in_quads():
    s = memory_store([ox.Quad(n(1), P, n(2), G1)])
    url = f"{BASE}fragments"
    quads = as_quads(select(s, Pattern()), url, addresses())
    data = [q for q in quads if q.graph_name == ox.DefaultGraph()]
    assert [q.triple for q in data] == [ox.Triple(n(1), P, n(2))]
    assert {q.graph_name for q in quads if q not in data} == {ox.NamedNode(url + "#metadata")}
    # JSON-LD keeps the graph apart too.
    doc = json.loads(ox.serialize(quads, format=ox.RdfFormat.JSON_LD))
    assert any(node.get("@id") == url + "#metadata" and "@graph" in node for node in doc)


def test_a_page_deeper_than_the_server_reads_is_refused_with_the_way_on(built_settings, store):
    app = create_app(built_settings.replace(fragments_max_offset=50))
    client = app.test_client()
    rdf_type = quote(str(RDF.type), safe="")
    total = len(distinct_triples(store, p=ox.NamedNode(str(RDF.type))))
    assert total > 200
    assert client.get(f"/fragments?predicate={rdf_type}&page=1").status_code == 200
    r = client.get(f"/fragments?predicate={rdf_type}&page=2")  # starts at 101, past 51
    assert r.status_code == 400
    text = r.get_data(as_text=True)
    assert "page 2 starts at match 101" in text and f"of {total:,}" in text and f"{BASE}dumps/" in text
    past = -(-total // PAGE_SIZE) + 1
    assert client.get(f"/fragments?predicate={rdf_type}&page={past}").status_code == 200  # past the end: empty
    assert client.get("/fragments?page=40").status_code == 200  # every triple: from the dump, any depth
