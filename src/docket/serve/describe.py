"""Query the store for what a description holds: own triples, labels of what they link, backlinks.

One CONSTRUCT per description (the benchmark compares a record's with a bare Oxigraph server
answering the same query; on the embedded store a record's triples are read by pattern instead,
the same set without a query to parse), one SELECT per page of backlinks for the page's records. Which graphs describe a
resource, how many records point at it and which are on a page come from the build's resource index
(``resource_index``); a build without one asks the store (a COUNT and a sort of every pointing
record). Results are pyoxigraph terms, turned into a serialization by pyoxigraph without a detour
through rdflib.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import pyoxigraph as ox

from docket.memo import Memo
from docket.record_graphs import RecordGraphs
from docket.serve.paging import Paged
from docket.store.base import TripleStore, is_true
from docket.store.oxigraph import OxigraphStore
from docket.uris import Minter, iri

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DCT = "http://purl.org/dc/terms/"
RICO = "https://www.ica.org/standards/RiC/ontology#"
HYDRA = "http://www.w3.org/ns/hydra/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"

PREFIXES = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <{DCT}>
PREFIX rico: <{RICO}>
PREFIX sem: <http://semanticweb.cs.vu.nl/2009/11/sem/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX sh: <http://www.w3.org/ns/shacl#>
"""


_LABEL = ox.NamedNode(RDFS_LABEL)
_TYPE = ox.NamedNode(RDF_TYPE)
_MODIFIED = ox.NamedNode(DCT + "modified")
_DATE_TIME = ox.NamedNode(XSD + "dateTime")
_LINKED_MEMO = 50_000  # linked IRIs whose labels and types a serving process remembers per build


def record_query(minter: Minter, record_id: str) -> str:
    """Return the CONSTRUCT for a record: its graph, its modification time, labels (and types) of
    what it links.

    The linked IRIs are collected in a DISTINCT sub-select first, and their labels and types are
    OPTIONAL: Oxigraph then looks each one up by index instead of hash-joining every label of the
    graphs (the unreconciled names' graph holds thousands: 7.5 against 1.7 ms at 100,000 records).
    Labels and types come from the record's own graph, the authorities, the resources published
    for unreconciled names and the ontology only: these graphs hold what the record needs, and
    asking all graphs would grow with the collection.
    """
    record = str(minter.record(record_id))
    graph = iri(str(minter.record_graph(record_id)))
    build = iri(str(minter.graph("build")))
    sources = "VALUES ?g { " + " ".join(iri(str(g)) for g in (minter.record_graph(record_id), *context_graphs(minter))) + " }"
    linked = (f'{{ SELECT DISTINCT ?t WHERE {{ GRAPH {graph} {{ ?x ?y ?t '
              f'FILTER(isIRI(?t) && !STRSTARTS(STR(?t), "{record}#")) }} }} }}')
    return PREFIXES + f"""CONSTRUCT {{ ?s ?p ?o . ?t rdfs:label ?l . ?t a ?ty . {iri(record)} dcterms:modified ?m }}
WHERE {{
  {{ GRAPH {graph} {{ ?s ?p ?o }} }}
  UNION {{ {linked} {sources} OPTIONAL {{ GRAPH ?g {{ ?t rdfs:label ?l }} }} }}
  UNION {{ {linked} {sources} OPTIONAL {{ GRAPH ?g {{ ?t a ?ty }} }} }}
  UNION {{ GRAPH {build} {{ {iri(record)} dcterms:modified ?m }} }}
}}"""


def context_graphs(minter: Minter) -> tuple[str, ...]:
    """Return the graphs that label and type what a record links (``Minter.context_graphs``)."""
    return minter.context_graphs()


def resource_query(uri: str, authorities: str, graphs: Iterable[str] | None = None,
                   ontology: str | None = None) -> str:
    """Return the CONSTRUCT for any other resource: what is said of it, labels of what it links, and
    the authority entries that point at it (narrower concepts, places within, members of a scheme).

    ``graphs`` are the graphs that hold what is said of it (the build's resource index knows them):
    the query then reads those, the authorities and the ontology only, never the union, where a
    topic or an unreconciled agent is repeated in every record graph that mentions it (thousands of
    copies at 10,000 records). Without ``graphs`` (a build made before the index) it asks the union.
    """
    r = iri(uri)
    incoming = f"GRAPH {iri(authorities)} {{ ?in ?q {r} . ?in rdfs:label ?il }}"
    construct = f"CONSTRUCT {{ {r} ?p ?o . ?t rdfs:label ?l . ?in ?q {r} . ?in rdfs:label ?il }}"
    if graphs is None:
        return PREFIXES + f"""{construct}
WHERE {{
  {{ {r} ?p ?o }}
  UNION {{ {{ SELECT DISTINCT ?t WHERE {{ {r} ?y ?t FILTER(isIRI(?t)) }} }} ?t rdfs:label ?l }}
  UNION {{ {incoming} }}
}}"""
    own = list(dict.fromkeys([authorities, *graphs]))
    own_values = "VALUES ?g { " + " ".join(iri(g) for g in own) + " }"
    labelled = dict.fromkeys([*own, *([ontology] if ontology else [])])
    label_values = "VALUES ?lg { " + " ".join(iri(g) for g in labelled) + " }"
    return PREFIXES + f"""{construct}
WHERE {{
  {{ {own_values} GRAPH ?g {{ {r} ?p ?o }} }}
  UNION {{ {{ SELECT DISTINCT ?t WHERE {{ {own_values} GRAPH ?g {{ {r} ?y ?t FILTER(isIRI(?t)) }} }} }}
          {label_values} GRAPH ?lg {{ ?t rdfs:label ?l }} }}
  UNION {{ {incoming} }}
}}"""


@dataclass
class Description:
    """Triples describing one resource, with lookups the HTML pages need."""

    resource: str
    triples: list[ox.Triple]

    def __post_init__(self) -> None:
        self.resource = str(self.resource)  # an rdflib URIRef never equals a str
        self.triples = list(dict.fromkeys(self.triples))  # CONSTRUCT may repeat a triple
        self._by_subject_predicate: dict[tuple[str, str], list] | None = None

    def __bool__(self) -> bool:
        return bool(self.triples)

    def objects(self, subject: str, predicate: str) -> list[ox.NamedNode | ox.Literal | ox.BlankNode]:
        # A record page asks some sixty of these; an index built on the first beats a scan each time.
        if self._by_subject_predicate is None:
            index: dict[tuple[str, str], list] = {}
            for t in self.triples:
                index.setdefault((t.subject.value, t.predicate.value), []).append(t.object)
            self._by_subject_predicate = index
        return list(self._by_subject_predicate.get((subject, predicate), ()))

    def value(self, subject: str, predicate: str) -> str | None:
        found = self.objects(subject, predicate)
        return found[0].value if found else None

    def subjects(self, predicate: str, obj: str) -> list[str]:
        return [t.subject.value for t in self.triples
                if t.predicate.value == predicate and t.object.value == obj and not isinstance(t.object, ox.Literal)]

    def label(self, uri: str, lang: str = "en") -> str | None:
        """Return the resource's label, preferring ``lang``, then an untagged one, then any."""
        labels = [o for o in self.objects(uri, RDFS_LABEL) if isinstance(o, ox.Literal)]
        for wanted in (lang, None):
            for literal in labels:
                if literal.language == wanted:
                    return literal.value
        return labels[0].value if labels else None

    def types(self, uri: str) -> list[str]:
        return [o.value for o in self.objects(uri, RDF_TYPE)]

    def modified(self) -> str | None:
        return self.value(self.resource, DCT + "modified")


def describe_record(store: TripleStore, minter: Minter, record_id: str,
                    graphs: RecordGraphs | None = None, modified: str | None = None) -> Description:
    """Describe a published record (empty when the store does not hold it).

    On the embedded store the triples ``record_query`` would construct are read by pattern instead
    (see ``record_triples``): the same set, without parsing and planning a query per request; the
    record's own graph from the build's record graphs file when there is one (``graphs``).
    """
    if isinstance(store, OxigraphStore):
        triples: Iterable[ox.Triple] = record_triples(store, minter, record_id, graphs, modified)
    else:
        triples = store.query(record_query(minter, record_id), union_default_graph=True)
    return Description(str(minter.record(record_id)), list(triples))


def record_triples(store: OxigraphStore, minter: Minter, record_id: str,
                   graphs: RecordGraphs | None = None, modified: str | None = None) -> list[ox.Triple]:
    """Return what ``record_query`` constructs, read by pattern from the embedded store.

    The record's graph (from ``graphs``, the build's record graphs file, when it holds it); for
    each IRI it links (not its own parts) the labels and types the authorities, the unreconciled
    names' graph and the ontology give it (its own graph's are among its triples already),
    remembered per store since a build never changes; its modification time from the build graph,
    or ``modified`` (the build's record index holds the same value the build graph was written from).
    """
    raw = store.raw
    record = str(minter.record(record_id))
    graph = ox.NamedNode(str(minter.record_graph(record_id)))
    own = graphs.triples(graph.value) if graphs is not None else None
    triples = own if own is not None else [quad.triple for quad in raw.quads_for_pattern(None, None, None, graph)]
    if not triples:
        return []
    parts = record + "#"
    linked = {t.object for t in triples if isinstance(t.object, ox.NamedNode) and not t.object.value.startswith(parts)}
    memo: Memo[tuple[ox.Triple, ...]] = store.memo.setdefault("linked-terms", Memo(_LINKED_MEMO))
    context = [ox.NamedNode(g) for g in context_graphs(minter)]
    for term in linked:
        triples.extend(memo.get_or(term.value, lambda: tuple(
            quad.triple for g in context for p in (_LABEL, _TYPE) for quad in raw.quads_for_pattern(term, p, None, g))))
    if own is not None and modified is not None:
        # Read from the store, a build graph of a million of these would fill its caches too.
        triples.append(ox.Triple(ox.NamedNode(record), _MODIFIED, ox.Literal(modified, datatype=_DATE_TIME)))
        return triples
    build = ox.NamedNode(str(minter.graph("build")))
    triples.extend(quad.triple for quad in raw.quads_for_pattern(ox.NamedNode(record), _MODIFIED, None, build))
    return triples


def describe_resource(store: TripleStore, minter: Minter, uri: str,
                      graphs: Iterable[str] | None = None) -> Description:
    """Describe an agent, place, event, topic, type, collection, scheme or the dataset.

    ``graphs``: the graphs holding what is said of ``uri`` (``ResourceIndex``), None to ask the union.
    """
    query = resource_query(uri, str(minter.graph("authorities")), graphs, str(minter.graph("ontology")))
    triples = store.query(query, union_default_graph=True)
    return Description(uri, list(triples))


def describe_graph(store: TripleStore, graph: str, resource: str) -> Description:
    """Describe with every triple of one named graph (the ontology)."""
    triples = store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {iri(graph)} {{ ?s ?p ?o }} }}")
    return Description(resource, list(triples))


def presence(store: TripleStore, uri: str) -> tuple[str | None, bool]:
    """Return (the resource ``uri`` was merged into or None, whether anything is said of or about it)."""
    r = iri(uri)
    rows = store.query(PREFIXES + f"""SELECT ?s ?present WHERE {{
  OPTIONAL {{ {r} dcterms:isReplacedBy ?s }}
  BIND(EXISTS {{ {{ {r} ?p ?o }} UNION {{ ?x ?q {r} }} }} AS ?present)
}} LIMIT 1""", union_default_graph=True)
    for row in rows:
        survivor = row["s"].value if row["s"] is not None else None
        return survivor, is_true(row["present"])
    return None, False


# --- backlinks --------------------------------------------------------------------------------------

@dataclass
class Backlink:
    """One record that points at the resource, and how."""

    record: str
    title: str
    date: ox.Literal | None
    links: list[tuple[str, str]]  # (subject, predicate): the record itself or one of its parts
    roles: list[str] = field(default_factory=list)  # role types of the parts (docket:Participant ...)

    @property
    def date_text(self) -> str:
        return self.date.value if self.date is not None else ""

    @property
    def predicates(self) -> list[str]:
        return [p for s, p in self.links if s == self.record]


@dataclass
class BacklinkPage(Paged):
    """One page of the records pointing at a resource, ordered by date."""

    resource: str
    total: int
    page: int
    size: int
    items: list[Backlink]

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.size + 1


_BACKLINK_PATTERN = """GRAPH ?g {{ ?x ?p {r} . ?rec a rico:Record .
    FILTER(?x = ?rec || STRSTARTS(STR(?x), CONCAT(STR(?rec), "#"))) }}"""


def count_backlinks(store: TripleStore, uri: str) -> int:
    """Count the records pointing at ``uri`` (reads every one: the build's resource index knows it cheaper)."""
    pattern = _BACKLINK_PATTERN.format(r=iri(uri))
    rows = store.query(PREFIXES + f"SELECT (COUNT(DISTINCT ?rec) AS ?n) WHERE {{ {pattern} }}")
    return int(next(iter(rows))["n"].value)


def backlinks(store: TripleStore, uri: str, page: int = 1, size: int = 50, total: int | None = None,
              ranked: list[tuple[str, str]] | None = None) -> BacklinkPage:
    """Return page ``page`` (1-based) of the records linking ``uri``, undated first, then by date and URI.

    ``total`` and ``ranked`` (the page's records and their graphs, in order) come from the build's
    resource index when it has one; without, they are asked of the store, which then sorts every
    record pointing at ``uri`` (near a second at 10,000 records for a popular agent). Title, date,
    links and roles are read for the page's records only, each in its own graph.
    """
    if total is None:
        total = count_backlinks(store, uri)
    page = max(1, page)
    if total == 0:
        return BacklinkPage(uri, total, page, size, [])
    pattern = _BACKLINK_PATTERN.format(r=iri(uri))
    if ranked is None:
        ranked = _rank_backlinks(store, pattern, page, size)
    if not ranked:
        return BacklinkPage(uri, total, page, size, [])
    values = " ".join(f"({iri(rec)} {iri(graph)})" for rec, graph in ranked)
    query = PREFIXES + f"""SELECT ?rec (SAMPLE(?t) AS ?title) (SAMPLE(?d) AS ?date)
  (GROUP_CONCAT(DISTINCT CONCAT(STR(?x), " ", STR(?p)); separator="\\n") AS ?links)
  (GROUP_CONCAT(DISTINCT COALESCE(STR(?role), ""); separator=" ") AS ?roles)
WHERE {{
  VALUES (?rec ?g) {{ {values} }}
  {pattern}
  GRAPH ?g {{ ?rec dcterms:title ?t }}
  OPTIONAL {{ GRAPH ?g {{ ?rec dcterms:date ?d }} }}
  OPTIONAL {{ GRAPH ?g {{ ?x sem:roleType|prov:hadRole ?role }} }}
}}
GROUP BY ?rec"""
    found = {}
    for row in store.query(query):
        links = [tuple(line.split(" ", 1)) for line in row["links"].value.split("\n") if " " in line]
        roles = row["roles"].value.split() if row["roles"] is not None else []
        rec = row["rec"].value
        found[rec] = Backlink(rec, row["title"].value, row["date"], links, roles)  # type: ignore[arg-type]
    return BacklinkPage(uri, total, page, size, [found[rec] for rec, _ in ranked if rec in found])


def _rank_backlinks(store: TripleStore, pattern: str, page: int, size: int) -> list[tuple[str, str]]:
    """Return (record, graph) of one page of the titled records matching ``pattern``, in page order."""
    query = PREFIXES + f"""SELECT ?rec (MIN(STR(?g)) AS ?graph) WHERE {{
  {pattern}
  FILTER EXISTS {{ GRAPH ?g {{ ?rec dcterms:title ?t }} }}
  OPTIONAL {{ GRAPH ?g {{ ?rec dcterms:date ?d }} }}
}}
GROUP BY ?rec ORDER BY MIN(STR(?d)) ?rec LIMIT {int(size)} OFFSET {(page - 1) * int(size)}"""
    return [(row["rec"].value, row["graph"].value) for row in store.query(query)]


def backlink_triples(page: BacklinkPage, collection: str, view: str, page_url) -> Iterable[ox.Triple]:
    """Say the page's links in RDF, with a Hydra collection and a partial view (first/next/previous/last).

    ``page_url(n)`` returns the URL of page ``n`` of the same representation.
    """
    target = ox.NamedNode(page.resource)
    col, viewnode = ox.NamedNode(collection), ox.NamedNode(view)

    def t(s, p: str, o) -> ox.Triple:
        return ox.Triple(s, ox.NamedNode(p), o)

    yield t(col, RDF_TYPE, ox.NamedNode(HYDRA + "Collection"))
    yield t(col, RDFS_LABEL, ox.Literal("Records that refer to this resource", language="en"))
    yield t(col, HYDRA + "totalItems", ox.Literal(str(page.total), datatype=ox.NamedNode(XSD + "integer")))
    yield t(col, HYDRA + "view", viewnode)
    yield t(viewnode, RDF_TYPE, ox.NamedNode(HYDRA + "PartialCollectionView"))
    yield t(viewnode, HYDRA + "first", ox.NamedNode(page_url(1)))
    yield t(viewnode, HYDRA + "last", ox.NamedNode(page_url(page.pages)))
    if page.next:
        yield t(viewnode, HYDRA + "next", ox.NamedNode(page_url(page.next)))
    if page.previous:
        yield t(viewnode, HYDRA + "previous", ox.NamedNode(page_url(page.previous)))
    for item in page.items:
        rec = ox.NamedNode(item.record)
        yield t(col, HYDRA + "member", rec)
        yield t(rec, RDFS_LABEL, ox.Literal(item.title))
        if item.date is not None:
            yield t(rec, DCT + "date", item.date)
        for subject, predicate in item.links:
            yield t(ox.NamedNode(subject), predicate, target)


# --- validation ------------------------------------------------------------------------------------

@dataclass
class ValidationStatus:
    """What the build's validation said about one record."""

    available: bool
    findings: list[tuple[str, str]] = field(default_factory=list)  # (severity, message)

    def count(self, severity: str) -> int:
        return sum(1 for s, _ in self.findings if s == severity)


def validation_status(store: TripleStore, minter: Minter, record_id: str,
                      graphs: RecordGraphs | None = None) -> ValidationStatus:
    """Return the findings the validation report graph holds for ``record_id`` (from ``graphs`` if given)."""
    found = graphs.findings(record_id) if graphs is not None else None
    if graphs is not None and found is not None:
        return ValidationStatus(graphs.report, [(severity.rsplit("#", 1)[-1], message) for severity, message in found])
    graph = str(minter.graph("validation"))
    if not store.contains_graph(graph):
        return ValidationStatus(False)
    docket = str(minter.ontology)
    literal = record_id.replace("\\", "\\\\").replace('"', '\\"')
    rows = store.query(PREFIXES + f"""SELECT ?severity ?message WHERE {{ GRAPH {iri(graph)} {{
  ?r <{docket}record> "{literal}" ; sh:resultSeverity ?severity ; sh:resultMessage ?message }} }}
ORDER BY ?severity ?message""")
    findings = [(row["severity"].value.rsplit("#", 1)[-1], row["message"].value) for row in rows]
    return ValidationStatus(True, findings)


def run_query(store, sparql: str, union: bool = False):
    """Query a ``TripleStore`` or a bare ``pyoxigraph.Store`` (a build in progress) alike."""
    if isinstance(store, ox.Store):
        return store.query(sparql, use_default_graph_as_union=union)
    return store.query(sparql, union_default_graph=union)
