"""Describe the SPARQL endpoint as an ``sd:Service``: what it speaks, what it holds, and its limits.

The description follows the SPARQL 1.1 Service Description vocabulary; the limits (time, rows,
query size, concurrency), which that vocabulary has no terms for, are given with the project's own
terms under ``{base}ontology#`` and repeated in prose in ``rdfs:comment``.
"""

from __future__ import annotations

from typing import Iterable

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS, VOID, XSD

from docket import result_formats
from docket.config import Settings
from docket.uris import Minter

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
ENT = Namespace("http://www.w3.org/ns/entailment/")
FORMATS_NS = Namespace("http://www.w3.org/ns/formats/")

# The RDF formats CONSTRUCT and DESCRIBE answer in, by docket.formats name, with their W3C format IRIs.
GRAPH_RESULT_FORMATS: dict[str, str] = {
    "turtle": FORMATS_NS + "Turtle",
    "jsonld": FORMATS_NS + "JSON-LD",
    "rdfxml": FORMATS_NS + "RDF_XML",
    "ntriples": FORMATS_NS + "N-Triples",
}


def describe(endpoint: str, settings: Settings, graphs: Iterable[str] = (), triples: int | None = None) -> Graph:
    """Return the service description of the endpoint at ``endpoint``.

    ``graphs`` are the dataset-wide named graphs to list (each record's own graph is not listed;
    there is one per record); ``triples`` the store's size, when known.
    """
    minter = Minter.from_settings(settings)
    docket = minter.ontology
    g = Graph()
    g.bind("sd", SD)
    g.bind("void", VOID)
    g.bind("docket", docket)
    service = URIRef(endpoint)
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, service))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    g.add((service, SD.defaultEntailmentRegime, ENT.Simple))
    for fmt in result_formats.RESULT_FORMATS:
        g.add((service, SD.resultFormat, URIRef(fmt.iri)))
    for iri in GRAPH_RESULT_FORMATS.values():
        g.add((service, SD.resultFormat, URIRef(iri)))
    g.add((service, RDFS.label, Literal("Docket SPARQL endpoint", lang="en")))
    g.add((service, RDFS.comment, Literal(_prose(settings), lang="en")))
    limits = {
        "queryTimeout": Literal(settings.sparql_timeout, datatype=XSD.decimal),
        "rowCap": Literal(settings.sparql_row_cap, datatype=XSD.integer),
        "maxQueryBytes": Literal(settings.sparql_max_query_bytes, datatype=XSD.integer),
        "maxConcurrentQueriesPerClient": Literal(settings.sparql_max_concurrent_per_client, datatype=XSD.integer),
    }
    for name, value in limits.items():
        g.add((service, URIRef(docket + name), value))

    dataset = BNode()
    default = BNode()
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, RDFS.seeAlso, URIRef(str(minter.dataset()))))
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, RDFS.comment, Literal(
        "The default graph is the union of all named graphs: one per record, plus the dataset-wide "
        "graphs (authorities, ontology, build metadata).", lang="en")))
    if triples is not None:
        g.add((default, VOID.triples, Literal(triples, datatype=XSD.integer)))
    for name in sorted(graphs):
        named = BNode()
        g.add((dataset, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, URIRef(name)))
    return g


def _prose(settings: Settings) -> str:
    return (
        "Read-only SPARQL 1.1 Query endpoint (GET, POST form, POST application/sparql-query). "
        "The default graph is the union of all named graphs (each record is its own named graph). "
        f"Limits: a query may run {settings.sparql_timeout:g} s (then 503 with Retry-After); results "
        f"are cut at {settings.sparql_row_cap} rows or triples (the response then carries "
        "'SPARQL-Truncated: true'); queries and request bodies may be "
        f"{settings.sparql_max_query_bytes} bytes (then 413); one client may run "
        f"{settings.sparql_max_concurrent_per_client} queries at once (then 429 with Retry-After). "
        "Not accepted: SPARQL Update and LOAD, SERVICE (no outbound requests, ever), and FROM/FROM "
        "NAMED naming graphs the store does not hold. SELECT and ASK answer in SPARQL JSON (the "
        "default), XML, CSV or TSV; CONSTRUCT and DESCRIBE in Turtle (the default), JSON-LD, RDF/XML "
        "or N-Triples, chosen by the Accept header."
    )
