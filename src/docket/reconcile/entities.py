"""Read the entities a reconciliation service can match from the published build.

Persons, organizations, places, events and topics are read from the store, not from the authority
files: the service then offers exactly what the build published, the authority entries and the
agents and places that came only from records (flagged ``docket:unreconciled`` there), and nothing
withdrawn or merged away. Each becomes an ``Authority`` so that the mapping's ``Reconciler`` scores
names here as it does during mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import URIRef

from docket.store.base import is_true
from docket.mapping.authorities import Authorities, Authority
from docket.mapping.reconcile import guess_agent_kind
from docket.store.base import TripleStore
from docket.uris import Minter, iri

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
FOAF = "http://xmlns.com/foaf/0.1/"
OWL = "http://www.w3.org/2002/07/owl#"
DCTERMS = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"
SEM = "http://semanticweb.cs.vu.nl/2009/11/sem/"


@dataclass(frozen=True)
class EntityType:
    """A type entities are reconciled against: its id in the service, its name and its RDF class."""

    id: str
    name: str
    rdf_class: str
    description: str


TYPES: tuple[EntityType, ...] = (
    EntityType("person", "Person", FOAF + "Person", "A person: writer, recipient or someone named in a record."),
    EntityType("organization", "Organization", FOAF + "Organization",
               "An organization: a party, ministry, committee, embassy, archive ..."),
    EntityType("place", "Place", SCHEMA + "Place", "A place: a city, province, country or region."),
    EntityType("event", "Event", SEM + "Event", "An event such as a conference."),
    EntityType("topic", "Topic", SKOS + "Concept", "A subject heading of the topics scheme."),
)
TYPE_BY_ID = {t.id: t for t in TYPES}
KIND_OF_URI_SPACE = {"place": "place", "event": "event", "topic": "topic"}  # agents: by class
ENTITY_SPACES = ("agent", *KIND_OF_URI_SPACE)
ENTITY_GRAPHS = ("authorities", "unreconciled")  # where entities are described (``Minter.graph``)


@dataclass
class Entity:
    """One entity as the service shows it: the ``Authority`` the reconciler scores, and what else it knows."""

    authority: Authority
    description: str | None = None
    from_records: bool = False  # published from records only, not in the authority files

    @property
    def id(self) -> str:
        return str(self.authority.uri)

    @property
    def type(self) -> EntityType:
        return TYPE_BY_ID[self.authority.kind]


@dataclass
class EntityIndex:
    """Every entity of one build, by URI, and the same entries as ``Authorities`` for the reconciler."""

    entities: dict[str, Entity] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.authorities = Authorities([e.authority for e in self.entities.values()])

    def get(self, uri: str) -> Entity | None:
        return self.entities.get(uri)

    def __len__(self) -> int:
        return len(self.entities)


def load_entities(store: TripleStore, minter: Minter) -> EntityIndex:
    """Read every person, organization, place, event and topic published in ``store``.

    Only the graphs that describe them are read: the authorities, and the names no authority entry
    matched (``{base}graph/unreconciled``, each described once). Record graphs restate the type
    and label of every agent they name, and every record has its own event: reading the union
    would pass millions of repeats through this process (6 s and 100 MB at 20,000 records).
    """
    graphs = " ".join(f"<{minter.graph(name)}>" for name in ENTITY_GRAPHS)
    # Only the entity URI spaces: resources of other kinds live in the same graphs (schemes, types).
    spaces = " || ".join(f'STRSTARTS(STR(?s), "{minter.base}id/{space}/")' for space in ENTITY_SPACES)
    classes: dict[str, set[str]] = {}
    query = f"""SELECT DISTINCT ?s ?t WHERE {{
  VALUES ?g {{ {graphs} }}
  GRAPH ?g {{ ?s a ?t }}
  VALUES ?t {{ <{FOAF}Agent> <{FOAF}Person> <{FOAF}Organization> <{SCHEMA}Place> <{SEM}Event> <{SKOS}Concept> }}
  FILTER({spaces})
  FILTER NOT EXISTS {{ ?s <{DCTERMS}isReplacedBy> ?survivor }}
}}"""
    for row in store.query(query, union_default_graph=True):
        classes.setdefault(row["s"].value, set()).add(row["t"].value)
    values: dict[str, dict[str, list[ox.Literal | ox.NamedNode]]] = {}
    query = f"""SELECT DISTINCT ?s ?p ?o WHERE {{
  VALUES ?g {{ {graphs} }}
  GRAPH ?g {{ ?s ?p ?o }}
  VALUES ?p {{ <{RDFS}label> <{SKOS}prefLabel> <{SKOS}altLabel> <{RDFS}comment> <{OWL}sameAs>
              <{SKOS}exactMatch> <http://purl.org/dc/terms/description> <{minter.ontology}unreconciled> }}
  FILTER({spaces})
}}"""
    for row in store.query(query, union_default_graph=True):
        if row["s"].value in classes:
            values.setdefault(row["s"].value, {}).setdefault(row["p"].value, []).append(row["o"])
    entities: dict[str, Entity] = {}
    for uri in sorted(classes):
        entity = _entity(uri, classes[uri], values.get(uri, {}), minter)
        if entity is not None:
            entities[uri] = entity
    return EntityIndex(entities)


def _entity(uri: str, classes: set[str], values: dict[str, list], minter: Minter) -> Entity | None:
    split = minter.split(uri)
    if split is None:
        return None
    space, slug = split
    labels = [v for v in values.get(RDFS + "label", []) if isinstance(v, ox.Literal)]
    preferred = [v for v in values.get(SKOS + "prefLabel", []) if isinstance(v, ox.Literal)]
    main = _pick_label(labels + preferred)
    if main is None:
        return None
    if space == "agent":
        if FOAF + "Person" in classes:
            kind = "person"
        elif FOAF + "Organization" in classes:
            kind = "organization"
        else:
            kind = guess_agent_kind(main.value)
    elif space in KIND_OF_URI_SPACE:
        kind = KIND_OF_URI_SPACE[space]
    else:
        return None  # document types, collections, schemes: not reconciled against
    other_preferred = tuple(dict.fromkeys(
        (v.language or "", v.value) for v in preferred if v.value != main.value and v.language))
    alt = tuple(dict.fromkeys(
        v.value for v in [*values.get(SKOS + "altLabel", []), *labels, *preferred]
        if isinstance(v, ox.Literal) and v.value != main.value and (v.language or "", v.value) not in other_preferred))
    notes = [v for v in [*values.get(RDFS + "comment", []), *values.get(DCTERMS + "description", [])]
             if isinstance(v, ox.Literal)]
    same_as = tuple(sorted(v.value for p in (OWL + "sameAs", SKOS + "exactMatch") for v in values.get(p, [])
                           if isinstance(v, ox.NamedNode)))
    from_records = any(is_true(v) for v in values.get(str(minter.ontology) + "unreconciled", []))
    note = _pick_label(notes)
    authority = Authority(kind=kind, slug=slug, label=main.value, uri=URIRef(uri), lang=main.language or "en",
                          labels=other_preferred, alt=alt, same_as=same_as, note=note.value if note else None,
                          where=uri)
    return Entity(authority, note.value if note else None, from_records)


def _pick_label(literals: list[ox.Literal]) -> ox.Literal | None:
    """Prefer English, then no language, then any; stable for equal candidates."""
    for wanted in ("en", None):
        for lit in sorted(literals, key=lambda x: x.value):
            if (lit.language or None) == wanted or (wanted == "en" and (lit.language or "").startswith("en-")):
                return lit
    return sorted(literals, key=lambda x: (x.language or "", x.value))[0] if literals else None


def mentions(store: TripleStore, minter: Minter, uri: str, limit: int = 5) -> tuple[int, list[tuple[str, str]]]:
    """Count the records whose graphs link to ``uri`` and name the first ``limit`` (URI, title), by ID.

    This reads every such graph: a build's resource index (``titled`` on its first backlink page)
    answers the same from one row, and the server uses it when the build has one.
    """
    try:
        target = iri(uri)
    except ValueError:
        return 0, []
    graphs = minter.base + "graph/record/"
    query = f"""SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?x ?p {target} }} FILTER(STRSTARTS(STR(?g), "{graphs}")) }}"""
    ids = sorted(row["g"].value[len(graphs):] for row in store.query(query))
    records = [(str(minter.record(i)), graphs + i) for i in ids[:limit] if _is_slug(i)]
    return len(ids), titled(store, records)


def titled(store: TripleStore, records: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Return (record URI, its title) for each (record URI, its graph); the ID stands in for a missing title."""
    out = []
    for record, graph in records:
        try:
            query = f"""SELECT ?t WHERE {{ GRAPH {iri(graph)} {{ {iri(record)} <{DCTERMS}title> ?t }} }} LIMIT 1"""
        except ValueError:
            continue
        rows = list(store.query(query))
        out.append((record, rows[0]["t"].value if rows else record.rsplit("/", 1)[-1]))
    return out


def _is_slug(text: str) -> bool:
    from docket.uris import is_slug

    return is_slug(text)
