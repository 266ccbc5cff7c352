"""Describe the dataset in VoID and DCAT: what it is, who publishes it, how big, where to get it.

``describe_dataset`` counts the build (distinct triples, entities, classes and properties, with
a partition per class and per property; from the build's sorted union dump when it has one), names the vocabularies its classes and properties come
from, and lists its distributions: each dump (with size, SHA-256 and media type inside the gzip),
the SPARQL endpoint and the OAI-PMH interface as DCAT data services. ``docket build`` writes it as
``void.ttl`` into the build; ``/.well-known/void`` serves it.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from docket.config import Settings
from docket.harvest.dumps import GZIP_MEDIA_TYPE, SORT_BUFFER, DumpFile
from docket.index_files import write_durably
from docket.mapping import DATASET_DESCRIPTION, DATASET_TITLE
from docket.mapping.vocab import bind_prefixes
from docket.store import Manifest
from docket.uris import Minter

VOID = Namespace("http://rdfs.org/ns/void#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
FORMATS_NS = Namespace("http://www.w3.org/ns/formats/")
IANA = "http://www.iana.org/assignments/media-types/"
VOID_FILE = "void.ttl"
_W3C_FORMAT = {"ntriples": "N-Triples", "turtle": "Turtle", "nquads": "N-Quads", "rdfxml": "RDF_XML",
               "jsonld": "JSON-LD"}


def statistics(store: Any, minter: Minter) -> dict[str, Any]:
    """Count the dataset over the union of its named graphs, each triple once.

    Four passes: the distinct triples are counted once, per property (their sum is the total);
    the entities are counted among the distinct subjects, so their test on the IRI's text runs
    once per subject rather than once per quad.
    """
    space = minter.base + "id/"
    classes = {row["c"].value: int(row["n"].value) for row in store.query(
        "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?c } FILTER(ISIRI(?c)) } GROUP BY ?c")}
    properties = {row["p"].value: int(row["n"].value) for row in store.query(
        "SELECT ?p (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } } GROUP BY ?p")}
    # Entities: the resources minted here (``{base}id/...``), not the parts of their descriptions (``#...``).
    subjects = next(iter(store.query(
        "SELECT (COUNT(*) AS ?n) (SUM(IF(ISIRI(?s) && STRSTARTS(STR(?s), \"" + space + "\") && !CONTAINS(STR(?s), "
        "\"#\"), 1, 0)) AS ?entities) WHERE { SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o } } }")))
    objects = next(iter(store.query("SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")))
    return {
        "triples": sum(properties.values()),
        "entities": int(subjects["entities"].value),
        "subjects": int(subjects["n"].value),
        "objects": int(objects["n"].value),
        "classes": dict(sorted(classes.items())),
        "properties": dict(sorted(properties.items())),
    }


_RDF_TYPE = f"<{RDF.type}>".encode()


def statistics_from_dump(path: Path, minter: Minter) -> dict[str, Any] | None:
    """Count the same as ``statistics`` from the build's sorted union dump, in one pass of bounded memory.

    The dump (``docket.nt.gz``, written by ``sort -u``) holds every distinct triple once, in byte
    order, so a subject's lines are together and counting needs no set of triples or subjects;
    distinct objects are counted by ``sort -u`` too. Returns None (count with the store instead)
    when there is no ``sort`` or the lines are not in order (a dump made without ``sort``).
    """
    sort = shutil.which("sort")
    if sort is None:
        return None
    space = f"<{minter.base}id/".encode()
    properties: Counter[bytes] = Counter()
    classes: Counter[bytes] = Counter()
    subjects = entities = 0
    previous_line, previous_subject = b"", None
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        objects_path = Path(tmp) / "objects"
        with gzip.open(path, "rb") as lines, open(objects_path, "wb", buffering=1 << 20) as objects_out:
            for line in lines:
                if line < previous_line:
                    return None
                previous_line = line
                # Subject and predicate hold no space (IRIs, blank nodes); the object is the rest but " .".
                subject, predicate, rest = line.split(b" ", 2)
                obj = rest[:-3] if rest.endswith(b" .\n") else rest.rstrip(b" .\n")
                properties[predicate] += 1
                if subject != previous_subject:
                    previous_subject = subject
                    subjects += 1
                    # Entities: the resources minted here, not the parts of their descriptions (``#...``).
                    entities += subject.startswith(space) and b"#" not in subject
                if predicate == _RDF_TYPE and obj[:1] == b"<":
                    classes[obj] += 1  # lines are distinct: one per (subject, class)
                objects_out.write(obj + b"\n")
        objects = _count_unique_lines(sort, objects_path, tmp)

    def iri(term: bytes) -> str:
        return term.decode("utf-8")[1:-1]

    return {
        "triples": sum(properties.values()),
        "entities": entities,
        "subjects": subjects,
        "objects": objects,
        "classes": dict(sorted((iri(c), n) for c, n in classes.items())),
        "properties": dict(sorted((iri(p), n) for p, n in properties.items())),
    }


def _count_unique_lines(sort: str, path: Path, tmp: str) -> int:
    """Count the distinct lines of ``path`` with ``sort -u``, reading its output as it comes."""
    command = [sort, "-u", f"--buffer-size={SORT_BUFFER}", f"--temporary-directory={tmp}", str(path)]
    with subprocess.Popen(command, env=dict(os.environ, LC_ALL="C"), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        count = sum(block.count(b"\n") for block in iter(lambda: proc.stdout.read(1 << 20), b""))
        error = proc.stderr.read()
    if proc.returncode:
        raise OSError(f"counting the distinct objects failed: {error.decode(errors='replace').strip()}")
    return count


def namespace_of(iri: str) -> str:
    """Return the namespace of a term: up to its last ``#``, else its last ``/``."""
    cut = iri.rfind("#")
    if cut < 0:
        cut = iri.rfind("/")
    return iri[:cut + 1]


def describe_dataset(store: Any, manifest: Manifest, settings: Settings, dumps: list[DumpFile],
                     minter: Minter | None = None, union_dump: Path | None = None) -> Graph:
    """Return the VoID + DCAT description of the build (see the module docstring).

    ``union_dump``: the build's ``docket.nt.gz``, counted instead of the store when it can be
    (``statistics_from_dump``): one pass over a file instead of four over the store, in bounded memory.
    """
    minter = minter or Minter.from_settings(settings)
    stats = statistics_from_dump(union_dump, minter) if union_dump is not None else None
    if stats is None:
        stats = statistics(store, minter)
    g = Graph()
    bind_prefixes(g, minter)
    for prefix, ns in (("void", VOID), ("dcat", DCAT), ("spdx", SPDX), ("vcard", VCARD), ("foaf", FOAF),
                       ("formats", FORMATS_NS)):
        g.bind(prefix, ns, override=True, replace=True)
    ds = URIRef(str(minter.dataset()))
    created = Literal(manifest.created, datatype=XSD.dateTime)
    license = URIRef(settings.dataset_license) if settings.dataset_license else None
    publisher = URIRef(str(minter.fragment(minter.dataset(), "publisher")))

    g.add((ds, RDF.type, VOID.Dataset))
    g.add((ds, RDF.type, DCAT.Dataset))
    g.add((ds, DCTERMS.title, Literal(DATASET_TITLE, lang="en")))
    g.add((ds, DCTERMS.description, Literal(DATASET_DESCRIPTION, lang="en")))
    g.add((ds, DCTERMS.identifier, Literal(manifest.build_id)))
    g.add((ds, DCTERMS.modified, created))
    g.add((ds, DCTERMS.publisher, publisher))
    g.add((publisher, RDF.type, FOAF.Agent))
    g.add((publisher, FOAF.name, Literal(settings.publisher)))
    contact = BNode()
    g.add((ds, DCAT.contactPoint, contact))
    g.add((contact, RDF.type, VCARD.Kind))
    g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{settings.admin_email}")))
    if license is not None:
        g.add((ds, DCTERMS.license, license))
    g.add((ds, DCAT.landingPage, URIRef(minter.base)))
    g.add((ds, VOID.uriSpace, Literal(minter.base + "id/")))
    g.add((ds, VOID.sparqlEndpoint, URIRef(minter.service("sparql"))))
    g.add((ds, VOID.rootResource, ds))
    for rid in list(manifest.records)[:3]:
        g.add((ds, VOID.exampleResource, URIRef(str(minter.record(rid)))))

    g.add((ds, VOID.triples, Literal(stats["triples"], datatype=XSD.integer)))
    g.add((ds, VOID.entities, Literal(stats["entities"], datatype=XSD.integer)))
    g.add((ds, VOID.distinctSubjects, Literal(stats["subjects"], datatype=XSD.integer)))
    g.add((ds, VOID.distinctObjects, Literal(stats["objects"], datatype=XSD.integer)))
    g.add((ds, VOID.classes, Literal(len(stats["classes"]), datatype=XSD.integer)))
    g.add((ds, VOID.properties, Literal(len(stats["properties"]), datatype=XSD.integer)))
    for cls, n in stats["classes"].items():
        part = URIRef(f"{ds}#class-{_slug(cls)}")
        g.add((ds, VOID.classPartition, part))
        g.add((part, VOID["class"], URIRef(cls)))
        g.add((part, VOID.entities, Literal(n, datatype=XSD.integer)))
    for prop, n in stats["properties"].items():
        part = URIRef(f"{ds}#property-{_slug(prop)}")
        g.add((ds, VOID.propertyPartition, part))
        g.add((part, VOID.property, URIRef(prop)))
        g.add((part, VOID.triples, Literal(n, datatype=XSD.integer)))
    for ns in sorted({namespace_of(t) for t in (*stats["classes"], *stats["properties"])} - {""}):
        g.add((ds, VOID.vocabulary, URIRef(ns)))

    for dump in dumps:
        url = URIRef(minter.service(f"dumps/{dump.name}"))
        g.add((ds, VOID.dataDump, url))
        g.add((ds, DCAT.distribution, url))
        g.add((url, RDF.type, DCAT.Distribution))
        g.add((url, DCTERMS.title, Literal(f"{_W3C_FORMAT[dump.format]} dump, gzipped", lang="en")))
        g.add((url, DCAT.downloadURL, url))
        g.add((url, DCAT.accessURL, url))
        g.add((url, DCAT.mediaType, URIRef(IANA + dump.media_type)))
        g.add((url, DCAT.compressFormat, URIRef(IANA + GZIP_MEDIA_TYPE)))
        g.add((url, DCAT.byteSize, Literal(dump.bytes, datatype=XSD.nonNegativeInteger)))
        g.add((url, DCTERMS.modified, created))
        g.add((url, DCTERMS.conformsTo, FORMATS_NS[_W3C_FORMAT[dump.format]]))
        if license is not None:
            g.add((url, DCTERMS.license, license))
        checksum = BNode()
        g.add((url, SPDX.checksum, checksum))
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((checksum, SPDX.checksumValue, Literal(dump.sha256, datatype=XSD.hexBinary)))
        g.add((ds, VOID.feature, FORMATS_NS[_W3C_FORMAT[dump.format]]))

    for name, title, conforms in (("sparql", "SPARQL 1.1 endpoint", "https://www.w3.org/TR/sparql11-protocol/"),
                                  ("oai", "OAI-PMH 2.0 interface",
                                   "http://www.openarchives.org/OAI/2.0/openarchivesprotocol.htm")):
        service = URIRef(minter.service(name))
        g.add((ds, DCAT.distribution, URIRef(f"{service}#distribution")))
        dist = URIRef(f"{service}#distribution")
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCTERMS.title, Literal(title, lang="en")))
        g.add((dist, DCAT.accessURL, service))
        g.add((dist, DCAT.accessService, service))
        g.add((service, RDF.type, DCAT.DataService))
        g.add((service, DCTERMS.title, Literal(title, lang="en")))
        g.add((service, DCAT.endpointURL, service))
        g.add((service, DCAT.servesDataset, ds))
        g.add((service, DCTERMS.conformsTo, URIRef(conforms)))
        if license is not None:
            g.add((dist, DCTERMS.license, license))
    return g


def _slug(iri: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", iri.split("://", 1)[-1]).strip("-").lower()


def write_void(graph: Graph, folder: Path) -> Path:
    path = Path(folder) / VOID_FILE
    write_durably(path, graph.serialize(format="turtle", encoding="utf-8"))
    return path
