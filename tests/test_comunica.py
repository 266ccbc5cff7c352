"""Comunica, the JavaScript SPARQL engine, queries a running server three ways and agrees with /sparql.

(a) over the SPARQL endpoint (``sparql@…/sparql``), (b) over Triple Pattern Fragments (``…/fragments``:
Comunica fetches pages of triples by their Hydra controls and joins and filters them itself), and (c) by
dereferencing a record's URI (one document, followed through the 303). Results are compared as sets of
bindings in SPARQL JSON, so every term's type, datatype and language count.

Comunica comes from ``tests/js`` (``make js-clients``, run by ``make test``); without it the tests skip.
The site is built for the server's own address, so the Hydra controls and the URIs lead back to it.
"""

from __future__ import annotations

import json
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox
import pytest

from site_helpers import SEED_ID
from test_live_server import live  # noqa: F401  (the fixture: a site built for the server's own address)

pytestmark = pytest.mark.slow

COMUNICA = Path(__file__).resolve().parent / "js" / "node_modules" / ".bin" / "comunica-sparql"
if not COMUNICA.exists():
    pytest.skip(f"Comunica is not installed ({COMUNICA} is missing; run `make js-clients`, which needs npm)",
                allow_module_level=True)

PREFIXES = """PREFIX rico: <https://www.ica.org/standards/RiC/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

# Queries whose answers Comunica must find over TPF exactly as the endpoint finds them.
TPF_QUERIES = {
    # A join across records and authorities with a FILTER on the record's title.
    "telegrams-with-sender-label": PREFIXES + """SELECT DISTINCT ?record ?title ?label WHERE {
  ?record rico:hasSender ?sender ; dcterms:title ?title .
  ?sender skos:prefLabel ?label .
  FILTER(CONTAINS(LCASE(STR(?title)), "telegram"))
}""",
    # Over 600 triples: Comunica must follow the pages' next links to see them all.
    "every-preferred-label": PREFIXES + "SELECT DISTINCT ?concept ?label WHERE { ?concept skos:prefLabel ?label }",
    # A comparison of typed literals (full dates only: a year or a month is not comparable) and an OPTIONAL.
    "dated-records-before-1975": PREFIXES + """SELECT DISTINCT ?record ?date ?sender WHERE {
  ?record a rico:Record ; dcterms:date ?date .
  OPTIONAL { ?record rico:hasSender ?sender }
  FILTER(DATATYPE(?date) = xsd:date && ?date < "1975-01-01"^^xsd:date)
}""",
}


def comunica(*sources: str, query: str) -> list[dict]:
    """Run ``comunica-sparql`` over ``sources``; return its bindings as SPARQL JSON."""
    done = subprocess.run([str(COMUNICA), *sources, "-t", "application/sparql-results+json", "-q", query],
                          capture_output=True, timeout=120)
    log = done.stderr.decode(errors="replace")
    assert done.returncode == 0, log[-3000:]
    # Comunica logs what it could not read in our answers (bad metadata, failed pages) as warnings.
    assert "WARN" not in log and "ERROR" not in log, log[-3000:]
    return json.loads(done.stdout)["results"]["bindings"]


def endpoint(base: str, query: str) -> list[dict]:
    """Ask our own /sparql directly, as SPARQL JSON."""
    request = urllib.request.Request(f"{base}sparql", data=urllib.parse.urlencode({"query": query}).encode(),
                                     headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.headers.get("SPARQL-Truncated") is None
        return json.loads(response.read())["results"]["bindings"]


def term(value: dict) -> tuple[str, str, str | None, str | None]:
    """One term of SPARQL JSON, made comparable: ``typed-literal`` is a literal, ``xsd:string`` is no datatype."""
    kind = {"typed-literal": "literal"}.get(value["type"], value["type"])
    assert kind != "bnode", "the queries here return no blank nodes, so the comparison needs no mapping"
    datatype = value.get("datatype")
    language = value.get("xml:lang")
    return kind, value["value"], None if datatype == XSD_STRING else datatype, language.lower() if language else None


def solutions(bindings: list[dict]) -> set[frozenset]:
    found = {frozenset((name, term(value)) for name, value in row.items()) for row in bindings}
    assert len(found) == len(bindings), "the queries use DISTINCT, so no solution may repeat"
    return found


def test_comunica_over_the_sparql_endpoint(live):
    query = PREFIXES + """SELECT ?record ?title ?date WHERE {
  ?record a rico:Record ; dcterms:title ?title .
  OPTIONAL { ?record dcterms:date ?date }
} ORDER BY ?record"""
    direct = endpoint(live, query)
    via_comunica = comunica(f"sparql@{live}sparql", query=query)
    assert len(direct) >= 41  # the seed and the synthetic records
    assert solutions(via_comunica) == solutions(direct)
    assert [row["record"]["value"] for row in via_comunica] == [row["record"]["value"] for row in direct]


def test_comunica_over_the_sparql_endpoint_ask_and_count(live):
    query = PREFIXES + "SELECT (COUNT(DISTINCT ?record) AS ?n) WHERE { ?record a rico:Record }"
    assert solutions(comunica(f"sparql@{live}sparql", query=query)) == solutions(endpoint(live, query))


@pytest.mark.parametrize("name", sorted(TPF_QUERIES))
def test_comunica_over_triple_pattern_fragments(live, name):
    query = TPF_QUERIES[name]
    expected = solutions(endpoint(live, query))
    assert expected, f"{name}: the endpoint found nothing, so the comparison would prove nothing"
    assert solutions(comunica(f"{live}fragments", query=query)) == expected


def test_tpf_answers_a_query_that_reaches_the_seed(live):
    """The seed's sender and addressee come through the join with their labels as published."""
    record = f"{live}id/record/{SEED_ID}"
    query = PREFIXES + f"""SELECT DISTINCT ?title ?label WHERE {{
  <{record}> dcterms:title ?title ; rico:hasSender ?sender .
  ?sender skos:prefLabel ?label .
}}"""
    expected = solutions(endpoint(live, query))
    assert any(dict(row)["title"][1] == "Telegram, CCP Central Committee to Zhou Enlai" for row in expected)
    assert solutions(comunica(f"{live}fragments", query=query)) == expected


def test_comunica_follows_a_dereferenceable_record_uri(live):
    record = f"{live}id/record/{SEED_ID}"
    request = urllib.request.Request(record, headers={"Accept": "application/n-triples"})
    with urllib.request.urlopen(request, timeout=30) as response:  # follows the 303 to the document
        assert response.url != record
        document = list(ox.parse(response.read(), format=ox.RdfFormat.N_TRIPLES))
    expected = set()
    for t in document:
        if isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode):
            continue
        o = t.object
        if isinstance(o, ox.NamedNode):
            obj = ("uri", o.value, None, None)
        else:
            datatype = None if o.language or o.datatype.value == XSD_STRING else o.datatype.value
            obj = ("literal", o.value, datatype, o.language.lower() if o.language else None)
        expected.add(frozenset({("s", ("uri", t.subject.value, None, None)), ("p", ("uri", t.predicate.value, None, None)),
                                ("o", obj)}))
    query = "SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o FILTER(!isBlank(?s) && !isBlank(?o)) }"
    seen = solutions(comunica(record, query=query))
    assert seen == expected
    own = {row for row in seen if dict(row)["s"][1] == record}
    assert len(own) >= 20, "the record's own triples"
    assert frozenset({("s", ("uri", record, None, None)), ("p", ("uri", "http://purl.org/dc/terms/title", None, None)),
                      ("o", ("literal", "Telegram, CCP Central Committee to Zhou Enlai", None, None))}) in seen
