"""Turn one record's graph into simple Dublin Core (``oai_dc``) or RDF/XML for OAI-PMH.

Mapping (the 15 DC elements, from the record's own triples; linked entities by their labels):
title <- dcterms:title; creator <- dcterms:creator; subject <- dcterms:subject and dcterms:spatial
labels; description <- dcterms:abstract, dcterms:description and "Addressed to: ..." from
rico:hasAddressee (DC has no element for a recipient); publisher <- the ``publisher`` setting;
contributor <- schema:translator; date <- dcterms:date; type <- "Text" and the document type's
label; identifier <- the record's URI; source <- dcterms:bibliographicCitation and dcterms:source;
language <- dcterms:language; relation <- the collections (dcterms:isPartOf); coverage <-
dcterms:spatial; rights <- edm:rights, dcterms:license and dcterms:rights.
"""

from __future__ import annotations

import re
from typing import Iterable

import pyoxigraph as ox
from lxml import etree

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_SCHEMA = "http://www.openarchives.org/OAI/2.0/rdf.xsd"

_DCT = "http://purl.org/dc/terms/"
_SCHEMA = "https://schema.org/"
_RICO = "https://www.ica.org/standards/RiC/ontology#"
_EDM = "http://www.europeana.eu/schemas/edm/"
_DCMITYPE = "http://purl.org/dc/dcmitype/"
_TYPE = RDF_NS + "type"
# Characters XML 1.0 cannot carry at all; a source text holding one must not break a harvest.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# (DC element, predicate, how the value is written); the publisher, identifier and DCMI type are added in order.
_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("title", _DCT + "title", "{}"),
    ("creator", _DCT + "creator", "{}"),
    ("subject", _DCT + "subject", "{}"),
    ("subject", _DCT + "spatial", "{}"),
    ("description", _DCT + "abstract", "{}"),
    ("description", _DCT + "description", "{}"),
    ("description", _RICO + "hasAddressee", "Addressed to: {}"),
    ("publisher", "", ""),
    ("contributor", _SCHEMA + "translator", "{}"),
    ("date", _DCT + "date", "{}"),
    ("type", _DCT + "type", "{}"),
    ("identifier", "", ""),
    ("source", _DCT + "bibliographicCitation", "{}"),
    ("source", _DCT + "source", "{}"),
    ("language", _DCT + "language", "{}"),
    ("relation", _DCT + "isPartOf", "{}"),
    ("coverage", _DCT + "spatial", "{}"),
    ("rights", _EDM + "rights", "{}"),
    ("rights", _DCT + "license", "{}"),
    ("rights", _DCT + "rights", "{}"),
)
# Linked entities written by their URI rather than a label: rights statements and licences are read by machines.
_AS_URI = {_EDM + "rights", _DCT + "license", _DCT + "source"}


def clean(text: str) -> str:
    """Drop the characters XML 1.0 forbids."""
    return _NOT_XML.sub("", text)


def linked_entities(record: str, triples: Iterable[ox.Triple]) -> list[str]:
    """Return the IRIs the record links to that ``oai_dc`` writes by label."""
    wanted = {predicate for _, predicate, _ in _FIELDS} - _AS_URI
    return sorted({t.object.value for t in triples
                   if t.subject.value == record and t.predicate.value in wanted and isinstance(t.object, ox.NamedNode)})


def oai_dc(record: str, triples: list[ox.Triple], labels: dict[str, str], publisher: str) -> etree._Element:
    """Build the ``oai_dc:dc`` element for the record ``record`` from its graph's ``triples``."""
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {OAI_DC_SCHEMA}")
    own: dict[str, list[ox.NamedNode | ox.Literal]] = {}
    for t in triples:
        if t.subject.value == record and isinstance(t.object, (ox.NamedNode, ox.Literal)):
            own.setdefault(t.predicate.value, []).append(t.object)

    def add(element: str, text: str, lang: str | None = None) -> None:
        text = clean(text).strip()
        if text:
            node = etree.SubElement(root, f"{{{DC_NS}}}{element}")
            node.text = text
            if lang:
                node.set(f"{{{XML_NS}}}lang", lang)

    for element, predicate, pattern in _FIELDS:
        if element == "publisher":
            add("publisher", publisher)
        elif element == "identifier":
            add("identifier", record)
        if element == "type" and any(t.value == _DCMITYPE + "Text" for t in own.get(_TYPE, [])):
            add("type", "Text")
        for term in sorted(own.get(predicate, []), key=lambda term: term.value) if predicate else ():
            if isinstance(term, ox.Literal):
                add(element, pattern.format(term.value), term.language)
            elif predicate in _AS_URI:
                add(element, term.value)
            else:
                add(element, pattern.format(labels.get(term.value, term.value)))
    return root


def rdf_xml(triples: list[ox.Triple], prefixes: dict[str, str] | None = None) -> etree._Element:
    """Return the triples as an ``rdf:RDF`` element."""
    data = ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=prefixes or {})
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(data, parser)
