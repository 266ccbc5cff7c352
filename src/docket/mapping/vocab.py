"""Name the vocabularies the mapping uses, and the project's own terms.

Established vocabularies come from rdflib where it ships them (schema.org, PROV, DCMI, FOAF, SKOS,
VoID, DCAT); RiC-O, SEM and EDM are declared here. The project's terms live under the configured base
(``{base}ontology#``), so they cannot be one fixed ``DefinedNamespace``: ``project_terms(minter)``
builds one per base from the same list of names, and like every ``DefinedNamespace`` with
``_fail = True`` it raises ``AttributeError`` on a name that ``ontology/docket.ttl`` does not define.
"""

from __future__ import annotations

from functools import lru_cache

from rdflib import Literal, Namespace, URIRef
from rdflib.namespace import (
    DCAT,
    DCMITYPE,
    DCTERMS,
    FOAF,
    OWL,
    PROV,
    RDF,
    RDFS,
    SDO,
    SKOS,
    VOID,
    XSD,
    DefinedNamespace,
)

from docket.uris import Minter

RICO = Namespace("https://www.ica.org/standards/RiC/ontology#")
SEM = Namespace("http://semanticweb.cs.vu.nl/2009/11/sem/")
EDM = Namespace("http://www.europeana.eu/schemas/edm/")
SCHEMA = SDO  # https://schema.org/, as the vocabulary contract fixes
ISO639_1 = Namespace("http://id.loc.gov/vocabulary/iso639-1/")
WIKIDATA = Namespace("http://www.wikidata.org/entity/")
VIAF = Namespace("http://viaf.org/viaf/")
GEONAMES = "https://sws.geonames.org/{}/"

# Every term ontology/docket.ttl defines; tests hold the two together.
PROJECT_TERMS: tuple[str, ...] = (
    # classes
    "Communication",
    "Translation",
    # properties
    "salutation",
    "signature",
    "subtitle",
    "otherStatedDate",
    "nameAsWritten",
    "matchMethod",
    "matchScore",
    "unreconciled",
    # role types
    "RoleTypes",
    "Sender",
    "Addressee",
    "Intermediary",
    "Participant",
    "Author",
    "Translator",
    "Commissioner",
    # validation reports and build metadata (docs/publishing.md)
    "ReaderCheck",
    "field",
    "record",
    "sourceFile",
    "code",
    "withdrawn",
    "sourceFingerprint",
    "recordCount",
    "withdrawnCount",
    "heldBackCount",
    "tripleCount",
)

PREFIXES: dict[str, Namespace | str] = {
    "dcterms": DCTERMS,
    "dcmitype": DCMITYPE,
    "rico": RICO,
    "sem": SEM,
    "prov": PROV,
    "foaf": FOAF,
    "skos": SKOS,
    "schema": SCHEMA,
    "edm": EDM,
    "void": VOID,
    "dcat": DCAT,
    "owl": OWL,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
}


@lru_cache(maxsize=16)
def _project_namespace(namespace: str) -> type[DefinedNamespace]:
    annotations = {name: URIRef for name in PROJECT_TERMS}
    return type(
        "DOCKET",
        (DefinedNamespace,),
        {"__annotations__": annotations, "_NS": Namespace(namespace), "_fail": True},
    )


def project_terms(minter: Minter) -> type[DefinedNamespace]:
    """Return the project's terms under ``minter``'s base; an undefined name raises AttributeError."""
    return _project_namespace(str(minter.ontology))


def bind_prefixes(graph, minter: Minter) -> None:
    """Bind the usual prefixes (and ``docket:`` for the project terms) on ``graph``."""
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns, override=True, replace=True)
    graph.bind("docket", minter.ontology, override=True, replace=True)


_DATATYPES = {4: XSD.gYear, 7: XSD.gYearMonth, 10: XSD.date}


def date_literal(iso: str) -> Literal:
    """Type an ISO date as precisely as it is written: xsd:gYear, xsd:gYearMonth or xsd:date."""
    datatype = _DATATYPES.get(len(iso))
    if datatype is None:
        raise ValueError(f"{iso!r} is not an ISO date (YYYY, YYYY-MM or YYYY-MM-DD)")
    return Literal(iso, datatype=datatype)
