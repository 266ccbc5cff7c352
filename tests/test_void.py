"""The VoID and DCAT description at /.well-known/void: counts, links, distributions, negotiation."""

from __future__ import annotations

import gzip

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from docket.harvest.dumps import read_dumps
from docket.harvest.void import namespace_of, statistics
from docket.serve import create_app
from docket.store import Manifest, OxigraphStore, open_current
from docket.uris import Minter
from harvest_helpers import store_path

VOID = Namespace("http://rdfs.org/ns/void#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
RICO = Namespace("https://www.ica.org/standards/RiC/ontology#")
IANA = "http://www.iana.org/assignments/media-types/"
DATASET = URIRef("http://example.org/id/dataset/docket")


@pytest.fixture(scope="module")
def client(built_settings):
    return create_app(built_settings).test_client()


@pytest.fixture(scope="module")
def void(client) -> Graph:
    response = client.get("/.well-known/void")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
    return Graph().parse(data=response.data, format="turtle")


def value(graph: Graph, subject, predicate):
    found = list(graph.objects(subject, predicate))
    assert len(found) == 1, (subject, predicate, found)
    return found[0]


def test_describes_the_dataset(void, built_settings):
    manifest = Manifest.read(store_path(built_settings) / "manifest.json")
    assert (DATASET, RDF.type, VOID.Dataset) in void
    assert (DATASET, RDF.type, DCAT.Dataset) in void
    assert str(value(void, DATASET, DCTERMS.title)).startswith("Docket")
    assert value(void, DATASET, DCTERMS.license) == URIRef("http://creativecommons.org/publicdomain/zero/1.0/")
    assert value(void, DATASET, DCTERMS.modified) == Literal(manifest.created, datatype=XSD.dateTime)
    publisher = value(void, DATASET, DCTERMS.publisher)
    assert value(void, publisher, FOAF.name) == Literal("Docket")
    contact = value(void, DATASET, DCAT.contactPoint)
    assert str(value(void, contact, URIRef("http://www.w3.org/2006/vcard/ns#hasEmail"))) == "mailto:docket@example.org"
    assert value(void, DATASET, VOID.uriSpace) == Literal("http://example.org/id/")
    assert value(void, DATASET, VOID.sparqlEndpoint) == URIRef("http://example.org/sparql")
    examples = set(void.objects(DATASET, VOID.exampleResource))
    assert URIRef("http://example.org/id/record/1954-06-20-telegram-ccp-central-committee-to-zhou-enlai") in examples


def test_counts_match_the_store(void, built_settings):
    with open_current(built_settings) as store:
        union = "{ SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
        triples = int(next(iter(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {union}")))["n"].value)
        titles = int(next(iter(store.query(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ {union} FILTER(?p = <{DCTERMS.title}>) }}")))["n"].value)
    assert value(void, DATASET, VOID.triples).toPython() == triples
    partitions = {value(void, p, VOID["class"]): value(void, p, VOID.entities).toPython()
                  for p in void.objects(DATASET, VOID.classPartition)}
    assert partitions[RICO.Record] == 4
    dump = Graph().parse(data=gzip.decompress((store_path(built_settings) / "dumps" / "docket.nt.gz").read_bytes()),
                         format="nt")
    for cls in (URIRef("http://www.w3.org/ns/prov#Agent"), URIRef("http://www.w3.org/2004/02/skos/core#Concept")):
        assert partitions[cls] == len(set(dump.subjects(RDF.type, cls))) > 0
    properties = {value(void, p, VOID.property): value(void, p, VOID.triples).toPython()
                  for p in void.objects(DATASET, VOID.propertyPartition)}
    assert properties[DCTERMS.title] == titles
    assert value(void, DATASET, VOID.classes).toPython() == len(partitions)
    assert value(void, DATASET, VOID.properties).toPython() == len(properties)
    assert value(void, DATASET, VOID.entities).toPython() > 4


def test_subject_and_object_counts_are_those_of_a_query_each(built_settings):
    def one(store, sparql: str) -> int:
        return int(next(iter(store.query(sparql)))["n"].value)

    with open_current(built_settings) as store:
        stats = statistics(store, Minter.from_settings(built_settings))
        assert stats["entities"] == one(store, """SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o }
            FILTER(ISIRI(?s) && STRSTARTS(STR(?s), "http://example.org/id/") && !CONTAINS(STR(?s), "#")) }""")
        assert stats["subjects"] == one(store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert stats["objects"] == one(store, "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert stats["triples"] == sum(stats["properties"].values()) == one(
            store, "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }")
    assert 4 < stats["entities"] < stats["subjects"]
    empty = statistics(OxigraphStore(ox.Store()), Minter("http://example.org/"))
    assert (empty["triples"], empty["entities"], empty["subjects"], empty["objects"]) == (0, 0, 0, 0)


def test_names_the_vocabularies_used(void):
    vocabularies = {str(v) for v in void.objects(DATASET, VOID.vocabulary)}
    assert {"http://purl.org/dc/terms/", str(RICO), "http://www.w3.org/2004/02/skos/core#",
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#"} <= vocabularies
    assert namespace_of("http://purl.org/dc/terms/title") == "http://purl.org/dc/terms/"
    assert namespace_of("https://www.ica.org/standards/RiC/ontology#Record") == str(RICO)


def test_lists_the_dumps_as_distributions(void, built_settings):
    dumps = read_dumps(store_path(built_settings))
    assert len(dumps) == 3
    for dump in dumps:
        url = URIRef(f"http://example.org/dumps/{dump.name}")
        assert (DATASET, VOID.dataDump, url) in void
        assert (DATASET, DCAT.distribution, url) in void
        assert value(void, url, DCAT.downloadURL) == url
        assert value(void, url, DCAT.byteSize).toPython() == dump.bytes
        assert value(void, url, DCAT.mediaType) == URIRef(IANA + dump.media_type)
        assert value(void, url, DCAT.compressFormat) == URIRef(IANA + "application/gzip")
        checksum = value(void, url, SPDX.checksum)
        assert str(value(void, checksum, SPDX.checksumValue)) == dump.sha256
        assert value(void, checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256


def test_lists_the_services(void):
    services = set(void.subjects(RDF.type, DCAT.DataService))
    assert services == {URIRef("http://example.org/sparql"), URIRef("http://example.org/oai")}
    for service in services:
        assert value(void, service, DCAT.servesDataset) == DATASET
        assert value(void, service, DCAT.endpointURL) == service


@pytest.mark.parametrize("accept, media_type, syntax", [
    ("application/ld+json", "application/ld+json", ox.RdfFormat.JSON_LD),
    ("application/rdf+xml", "application/rdf+xml", ox.RdfFormat.RDF_XML),
    ("application/n-triples", "application/n-triples", ox.RdfFormat.N_TRIPLES),
    ("text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", "text/plain", ox.RdfFormat.TURTLE),
])
def test_content_negotiation(client, void, accept, media_type, syntax):
    response = client.get("/.well-known/void", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == media_type
    assert response.headers["Vary"] == "Accept"
    assert len(set(ox.parse(response.data, format=syntax))) == len(void)


def test_format_parameter_and_errors(client):
    assert client.get("/.well-known/void?format=nt").headers["Content-Type"].startswith("application/n-triples")
    assert client.get("/.well-known/void?format=pdf").status_code == 400
    assert client.get("/.well-known/void", headers={"Accept": "image/png"}).status_code == 406


def test_conditional_get(client):
    first = client.get("/.well-known/void")
    again = client.get("/.well-known/void", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_counting_the_sorted_union_dump_gives_the_stores_figures(built_settings, tmp_path, monkeypatch):
    from docket.harvest import void

    dump = store_path(built_settings) / "dumps" / "docket.nt.gz"
    minter = Minter.from_settings(built_settings)
    with open_current(built_settings) as store:
        expected = statistics(store, minter)
    assert void.statistics_from_dump(dump, minter) == expected and expected["triples"] > 1000
    # Lines out of order (a dump made without sort): the store counts instead.
    lines = gzip.decompress(dump.read_bytes()).splitlines(keepends=True)
    shuffled = tmp_path / "shuffled.nt.gz"
    shuffled.write_bytes(gzip.compress(b"".join(lines[1:] + lines[:1])))
    assert void.statistics_from_dump(shuffled, minter) is None
    monkeypatch.setattr(void.shutil, "which", lambda name: None)
    assert void.statistics_from_dump(dump, minter) is None
