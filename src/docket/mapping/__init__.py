"""Map records to linked data: one named graph per record, plus the authorities and the ontology.

Build a ``Mapper`` once from the settings (it loads the authority files, the rights table and the
ontology, and checks them), then call ``mapper.map(record)`` per record. ``dataset_graph`` puts
everything into one ``rdflib.Dataset``: each record's graph under ``{base}graph/record/{id}``, the
authorities (with the rights URIs and the dataset's own description) under ``{base}graph/authorities``
and the ontology under ``{base}graph/ontology``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Iterable

from rdflib import Dataset, Graph, Literal

from docket.config import Settings
from docket.formats import for_path
from docket.ingest.model import Record
from docket.mapping.authorities import AuthorityError, authorities_graph, load_authorities
from docket.mapping.graph import Context, MappingError, MappingResult, map_record
from docket.mapping.text import is_iri
from docket.mapping.mentions import MentionFinder
from docket.mapping.reconcile import Outcome, Reconciler
from docket.mapping.rights import RightsTable, RightsTableError
from docket.mapping.vocab import DCAT, DCTERMS, RDF, RDFS, VOID, bind_prefixes, project_terms
from docket.uris import Minter

DATASET_TITLE = "Docket: archival records as linked data"
DATASET_DESCRIPTION = (
    "Archival records (telegrams, cables, minutes, letters) with their senders, addressees, "
    "translations, and the people, places and events they name, reconciled to authority records."
)

__all__ = [
    "AuthorityError",
    "Mapper",
    "MappingError",
    "MappingResult",
    "OntologyError",
    "Outcome",
    "RightsTableError",
    "dataset_description",
    "dataset_from_results",
    "dataset_graph",
    "is_iri",
    "load_ontology",
    "map_records",
    "write_dataset",
]


class OntologyError(ValueError):
    """Say which ontology file cannot be read."""


def load_ontology(directory: Path, base: str) -> Graph:
    """Parse every ``*.ttl`` in ``directory`` with ``publicID=base``, so relative IRIs follow the base."""
    directory = Path(directory)
    files = sorted(directory.glob("*.ttl")) if directory.is_dir() else []
    if not files:
        raise OntologyError(f"no ontology (*.ttl) in {directory} (setting ontology_dir)")
    graph = Graph()
    for path in files:
        try:
            graph.parse(path, format="turtle", publicID=base)
        except Exception as exc:  # rdflib raises several unrelated types for bad Turtle
            raise OntologyError(f"{path}: cannot be parsed as Turtle: {exc}") from None
    return graph


class Mapper:
    """Map records with everything loaded once: authorities, rights table, ontology."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.minter = Minter.from_settings(settings)
        self.terms = project_terms(self.minter)
        self.authorities = load_authorities(settings.authorities_dir, self.minter)
        self.reconciler = Reconciler(self.authorities, settings.fuzzy_threshold)
        self.rights = RightsTable.load(settings.rights_table)
        self.ontology = load_ontology(settings.ontology_dir, self.minter.base)
        bind_prefixes(self.ontology, self.minter)
        self._context = Context(
            minter=self.minter,
            terms=self.terms,
            authorities=self.authorities,
            reconciler=self.reconciler,
            finder=MentionFinder(self.authorities, self.reconciler),
            rights=self.rights,
        )

    def map(self, record: Record) -> MappingResult:
        """Map one record (with its stable ID set) to its graph and reconciliation outcomes."""
        return map_record(record, self._context)

    def authorities_graph(self) -> Graph:
        """Return the authority entries, concept schemes, known rights URIs and the dataset's description.

        The dataset's description is here, not only in the build graph, because every record points
        to it (void:inDataset) and a record is validated with the authorities next to it.
        """
        graph = authorities_graph(self.authorities, self.minter)
        graph += self.rights.graph()
        graph += dataset_description(self.minter)
        return graph

    def ontology_graph(self) -> Graph:
        """Return the project ontology under the configured base."""
        return self.ontology


def dataset_description(minter: Minter) -> Graph:
    """Describe the dataset itself (void:Dataset, dcat:Dataset) at ``{base}id/dataset/docket``."""
    graph = Graph()
    bind_prefixes(graph, minter)
    ds = minter.dataset()
    graph.add((ds, RDF.type, VOID.Dataset))
    graph.add((ds, RDF.type, DCAT.Dataset))
    graph.add((ds, DCTERMS.title, Literal(DATASET_TITLE)))
    graph.add((ds, RDFS.label, Literal(DATASET_TITLE)))
    graph.add((ds, DCTERMS.description, Literal(DATASET_DESCRIPTION, lang="en")))
    graph.add((ds, VOID.uriSpace, Literal(minter.base + "id/")))
    return graph


def dataset_from_results(results: Iterable[MappingResult], mapper: Mapper) -> Dataset:
    """Assemble mapped records, the authorities, the ontology and the dataset description."""
    dataset = Dataset()
    bind_prefixes(dataset, mapper.minter)
    parts: list[tuple[str, Graph]] = [
        ("authorities", mapper.authorities_graph()),
        ("ontology", mapper.ontology_graph()),
    ]
    for name, graph in parts:
        target = dataset.graph(mapper.minter.graph(name))
        target += graph
    for result in results:
        target = dataset.graph(result.graph_uri)
        target += result.graph
    return dataset


def map_records(records: Iterable[Record], mapper: Mapper) -> list[MappingResult]:
    """Map every record; a record without a stable ID raises MappingError naming it."""
    return [mapper.map(record) for record in records]


def dataset_graph(records: Iterable[Record], mapper: Mapper) -> Dataset:
    """Map ``records`` and return the whole published dataset (see the module docstring)."""
    return dataset_from_results(map_records(records, mapper), mapper)


def union_graph(dataset: Dataset) -> Graph:
    """Return every named graph's triples in one graph, for syntaxes without named graphs."""
    union = Graph()
    for prefix, namespace in dataset.namespaces():
        union.bind(prefix, namespace, override=True, replace=True)
    for graph in dataset.graphs():
        union += graph
    return union


def write_dataset(dataset: Dataset, path: Path) -> str:
    """Write ``dataset`` in the format ``path``'s extension names; return that format's name.

    TriG and N-Quads keep the named graphs; Turtle, JSON-LD, RDF/XML and N-Triples get the union
    of all graphs (which graph a triple came from is then lost, the triples are not).
    """
    fmt = for_path(str(path))
    with warnings.catch_warnings():
        # rdflib 7.6 warns about its own internal use of deprecated Dataset methods when serializing.
        warnings.filterwarnings("ignore", message=r"(Dataset|ConjunctiveGraph)\b.* deprecated",
                                category=DeprecationWarning)
        if fmt.quads:
            dataset.serialize(destination=str(path), format=fmt.rdflib)
        else:
            union_graph(dataset).serialize(destination=str(path), format=fmt.rdflib)
    return fmt.name
