"""Answer Triple Pattern Fragments: a pattern's matching triples, a page at a time, with Hydra controls.

A fragment is every triple of the published build that matches ``subject predicate object`` (any
of them may be a variable), read from the union of all graphs: a triple stated in two graphs is
one triple here. Each page holds at most ``PAGE_SIZE`` triples and says how many match in all
(``void:triples`` and ``hydra:totalItems``, exact, not an estimate: the widest patterns' counts come
from the build's VoID description, ``known_counts``; the others are counted once per build), links
to the first, previous and next pages, and carries the ``hydra:search`` form (``{?subject,predicate,object}``) through
which a client such as Comunica finds every other fragment (see the Linked Data Fragments
specification, linkeddatafragments.org/specification/triple-pattern-fragments/).

Terms in a pattern use Hydra's explicit representation: an IRI as it is, a literal quoted
(``"Geneva"@en``, ``"1954"^^http://www.w3.org/2001/XMLSchema#gYear``; the datatype may also be
written in angle brackets or with the ``xsd:`` prefix), a blank node as ``_:id``, a variable as
an empty value or ``?name``. No Flask here: the server (``docket.serve.fragments``) turns a
``Fragment`` into a response.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import pyoxigraph as ox

from docket.line_pages import LinePages
from docket.memo import SizedCache
from docket.store.base import TripleStore

PAGE_SIZE = 100
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
HYDRA = "http://www.w3.org/ns/hydra/core#"
VOID = "http://rdfs.org/ns/void#"
DCTERMS = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
PREFIXES = {"hydra": HYDRA, "void": VOID, "dcterms": DCTERMS, "foaf": FOAF, "xsd": XSD, "rdf": RDF}
POSITIONS = ("subject", "predicate", "object")

_LITERAL = re.compile(r'^"(?P<value>.*)"(?:@(?P<lang>[A-Za-z]+(?:-[A-Za-z0-9]+)*)|\^\^(?P<datatype>.+))?$', re.S)
_COUNT_CACHE_SIZE = 2048


class PatternError(ValueError):
    """A pattern position holds something that is not a term (names the position and the value)."""


Term = ox.NamedNode | ox.BlankNode | ox.Literal


@dataclass(frozen=True)
class Pattern:
    """A triple pattern: ``None`` is a variable. ``matches_nothing`` when a term cannot stand where it is."""

    subject: Term | None = None
    predicate: Term | None = None
    object: Term | None = None

    @classmethod
    def parse(cls, subject: str | None = None, predicate: str | None = None, obj: str | None = None) -> "Pattern":
        """Read the three positions from their text (see the module docstring); raise ``PatternError``."""
        return cls(parse_term(subject, "subject"), parse_term(predicate, "predicate"), parse_term(obj, "object"))

    @property
    def terms(self) -> tuple[Term | None, Term | None, Term | None]:
        return self.subject, self.predicate, self.object

    @property
    def matches_nothing(self) -> bool:
        # RDF allows no literal subject and only IRIs as predicates: such a fragment is empty, not an error.
        return isinstance(self.subject, ox.Literal) or (
            self.predicate is not None and not isinstance(self.predicate, ox.NamedNode))

    def texts(self) -> dict[str, str]:
        """Return the bound positions in explicit representation, for links and forms."""
        return {name: term_text(term) for name, term in zip(POSITIONS, self.terms) if term is not None}

    def key(self) -> tuple[str, ...]:
        return tuple("" if t is None else str(t) for t in self.terms)


def parse_term(text: str | None, position: str = "term") -> Term | None:
    """Read one term in Hydra's explicit representation; an empty value or ``?x`` is a variable."""
    if text is None:
        return None
    text = text.strip()
    if not text or text.startswith("?"):
        return None
    try:
        if text.startswith('"'):
            m = _LITERAL.match(text)
            if m is None:
                raise PatternError(f"{position}: {text!r} is not a literal; write \"text\", \"text\"@en or "
                                   f"\"1954\"^^{XSD}gYear")
            if m.group("lang"):
                return ox.Literal(m.group("value"), language=m.group("lang"))
            if m.group("datatype"):
                return ox.Literal(m.group("value"), datatype=ox.NamedNode(_datatype(m.group("datatype"))))
            return ox.Literal(m.group("value"))
        if text.startswith("_:"):
            return ox.BlankNode(text[2:])
        if text.startswith("<") and text.endswith(">"):
            text = text[1:-1]
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text):
            raise PatternError(f"{position}: {text!r} is not an absolute IRI, a quoted literal or a blank node")
        return ox.NamedNode(text)
    except ValueError as exc:
        if isinstance(exc, PatternError):
            raise
        raise PatternError(f"{position}: {text!r} is not a valid term: {exc}") from None


def _datatype(text: str) -> str:
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if text.startswith("xsd:"):
        return XSD + text[4:]
    return text


def term_text(term: Term) -> str:
    """Write a term in Hydra's explicit representation (the form a pattern is given in)."""
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if term.language:
        return f'"{term.value}"@{term.language}'
    if term.datatype.value != XSD + "string":
        return f'"{term.value}"^^{term.datatype.value}'
    return f'"{term.value}"'


@dataclass
class Fragment:
    """One page of a fragment: its triples, the total that match, and where it sits among the pages."""

    pattern: Pattern
    page: int
    triples: list[ox.Triple]
    total: int
    page_size: int = PAGE_SIZE

    @property
    def last_page(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total

    @property
    def has_previous(self) -> bool:
        return self.page > 1


class TooDeep(ValueError):
    """The page starts deeper in its fragment than the server reads for one request."""


def select(store: TripleStore, pattern: Pattern, page: int = 1, page_size: int = PAGE_SIZE,
           known: Mapping[tuple[str, ...], int] | None = None, every_triple: LinePages | None = None,
           max_offset: int | None = None) -> Fragment:
    """Return one page (from 1) of the triples matching ``pattern`` in the union of all graphs.

    ``known`` holds counts the build already made, by ``Pattern.key()`` (``known_counts``);
    ``every_triple`` the build's sorted union dump by line (``harvest.dumps.union_pages``), from which
    any page of the widest pattern is read directly: a query for page ``n`` would read, and hold for
    DISTINCT, every triple before it (hundreds of megabytes a million triples deep). Any other page
    starting past ``max_offset`` raises ``TooDeep``, for the same reason; a page past the end is empty.
    """
    if page < 1:
        raise ValueError(f"page must be 1 or more, not {page}")
    if pattern.matches_nothing:
        return Fragment(pattern, page, [], 0, page_size)
    offset = (page - 1) * page_size
    if every_triple is not None and all(t is None for t in pattern.terms):
        lines = every_triple.lines(offset, page_size)
        triples = [quad.triple for quad in ox.parse(lines, format=ox.RdfFormat.N_TRIPLES)]
        return Fragment(pattern, page, triples, every_triple.total, page_size)
    if any(isinstance(t, ox.BlankNode) for t in pattern.terms):
        matches = list(_distinct_quads(store, pattern))
        return Fragment(pattern, page, matches[offset:offset + page_size], len(matches), page_size)
    total = known[pattern.key()] if known and pattern.key() in known else count(store, pattern)
    if offset >= total:
        return Fragment(pattern, page, [], total, page_size)
    if max_offset is not None and offset > max_offset:
        raise TooDeep(f"page {page:,} starts at match {offset + 1:,} of {total:,}; pages are served up to match "
                      f"{max_offset + 1:,} (each reads every match before it)")
    triples = list(_page_by_query(store, pattern, offset, page_size))
    return Fragment(pattern, page, triples, total, page_size)


def count(store: TripleStore, pattern: Pattern) -> int:
    """Count the distinct triples matching ``pattern``; counts are kept per build, which never changes."""
    path = getattr(store, "path", None)
    # Only a published build opened read-only is immutable; anything else is counted every time.
    key = (str(path), *pattern.key()) if path is not None and getattr(store, "read_only", False) else None
    known = _COUNTS.get(key) if key is not None else None
    if known is not None:
        return known
    if pattern.matches_nothing:
        n = 0
    elif any(isinstance(t, ox.BlankNode) for t in pattern.terms):
        n = sum(1 for _ in _distinct_quads(store, pattern))
    else:
        where, variables = _where(pattern)
        if variables:
            query = f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT {' '.join(variables)} WHERE {{ {where} }} }}"
            n = int(next(iter(store.query(query, union_default_graph=True)))["n"].value)
        else:
            n = 1 if store.query(f"ASK {{ {where} }}", union_default_graph=True) else 0
    if key is not None:
        _COUNTS.put(key, n, 1)
    return n


def known_counts(void: Path) -> dict[tuple[str, ...], int]:
    """Read, from a build's VoID description, the counts of the widest patterns, by ``Pattern.key()``.

    Counting the distinct triples of ``?s ?p ?o`` or ``?s rdf:type ?o`` holds every one of them in
    memory (gigabytes at 1,000,000 records, in a serving process). The build counted them already, from
    the sorted union dump: the dataset's ``void:triples`` (every triple), each property partition's
    ``void:triples`` (``?s p ?o``) and each class partition's ``void:entities`` (``?s rdf:type C``).
    An unreadable or missing file gives none.
    """
    try:
        quads = list(ox.parse(path=str(void), format=ox.RdfFormat.TURTLE))
    except (OSError, SyntaxError, ValueError):
        return {}
    by_subject: dict[Any, dict[str, Any]] = {}
    for q in quads:
        by_subject.setdefault(q.subject, {})[q.predicate.value] = q.object
    rdf_type = ox.NamedNode(RDF + "type")

    def number(term: Any) -> int | None:
        return int(term.value) if isinstance(term, ox.Literal) and term.value.isdigit() else None

    counts: dict[tuple[str, ...], int] = {}
    for values in by_subject.values():
        if VOID + "classPartition" in values and (n := number(values.get(VOID + "triples"))) is not None:
            counts[Pattern().key()] = n
        if isinstance(prop := values.get(VOID + "property"), ox.NamedNode):
            if (n := number(values.get(VOID + "triples"))) is not None:
                counts[Pattern(predicate=prop).key()] = n
        if isinstance(cls := values.get(VOID + "class"), ox.NamedNode):
            if (n := number(values.get(VOID + "entities"))) is not None:
                counts[Pattern(predicate=rdf_type, object=cls).key()] = n
    return counts


_COUNTS: SizedCache[int] = SizedCache(_COUNT_CACHE_SIZE, largest=1)  # counts of a build's patterns, most recent


def _where(pattern: Pattern) -> tuple[str, list[str]]:
    # pyoxigraph writes IRIs and literals in N-Triples syntax, escaped, which SPARQL reads as they are.
    parts, variables = [], []
    for name, term in zip(("?s", "?p", "?o"), pattern.terms):
        if term is None:
            variables.append(name)
            parts.append(name)
        else:
            parts.append(str(term))
    return " ".join(parts) + " .", variables


def _page_by_query(store: TripleStore, pattern: Pattern, offset: int, limit: int) -> Iterator[ox.Triple]:
    where, variables = _where(pattern)
    if not variables:
        yield ox.Triple(*pattern.terms)  # type: ignore[arg-type]
        return
    # Without ORDER BY Oxigraph still answers in index order, the same for every request on a build;
    # sorting every match of ?s ?p ?o to serve one page would cost more than the page is worth.
    query = f"SELECT DISTINCT {' '.join(variables)} WHERE {{ {where} }} LIMIT {limit} OFFSET {offset}"
    for row in store.query(query, union_default_graph=True):
        s, p, o = (t if t is not None else row[v[1:]] for t, v in zip(pattern.terms, ("?s", "?p", "?o")))
        yield ox.Triple(s, p, o)


def _distinct_quads(store: TripleStore, pattern: Pattern) -> Iterator[ox.Triple]:
    # A blank node can be asked for only in the embedded store, whose labels stay put; a remote
    # store relabels blank nodes in every answer, so a pattern naming one matches nothing there.
    raw = getattr(store, "raw", None)
    if raw is None:
        return
    seen: set[ox.Triple] = set()
    for quad in raw.quads_for_pattern(*pattern.terms, None):
        triple = quad.triple
        if triple not in seen:
            seen.add(triple)
            yield triple


# --- Hydra controls and metadata -------------------------------------------------------------------

@dataclass(frozen=True)
class Addresses:
    """Where the interface lives: the dataset IRI, the search template, and how to link a page."""

    dataset: str  # {base}fragments#dataset
    template: str  # {base}fragments{?subject,predicate,object}
    link: Callable[[Pattern, int | None], str]  # the URL of a pattern's page (None: without page)
    title: str = "Linked Data Fragments of the dataset"


def metadata(fragment: Fragment, page_url: str, where: Addresses) -> list[ox.Triple]:
    """Return the page's metadata and controls: counts, paging links and the ``hydra:search`` form."""
    page = ox.NamedNode(page_url)
    dataset = ox.NamedNode(where.dataset)
    metadata_graph = ox.NamedNode(metadata_graph_iri(page_url))
    fragment_iri = ox.NamedNode(where.link(fragment.pattern, None))
    t: list[ox.Triple] = []

    def add(s, p: str, o) -> None:
        t.append(ox.Triple(s, ox.NamedNode(p), o))

    add(metadata_graph, FOAF + "primaryTopic", page)
    # The dataset and its search form.
    add(dataset, RDF + "type", ox.NamedNode(VOID + "Dataset"))
    add(dataset, RDF + "type", ox.NamedNode(HYDRA + "Collection"))
    add(dataset, VOID + "subset", page)
    add(dataset, VOID + "uriLookupEndpoint", ox.Literal(where.template))
    search = ox.BlankNode("triplePattern")
    add(dataset, HYDRA + "search", search)
    add(search, HYDRA + "template", ox.Literal(where.template))
    add(search, HYDRA + "variableRepresentation", ox.NamedNode(HYDRA + "ExplicitRepresentation"))
    for name in POSITIONS:
        mapping = ox.BlankNode(name)
        add(search, HYDRA + "mapping", mapping)
        add(mapping, HYDRA + "variable", ox.Literal(name))
        add(mapping, HYDRA + "property", ox.NamedNode(RDF + name))
    # The fragment and this page of it.
    if fragment_iri != page:
        add(fragment_iri, VOID + "subset", page)
    add(page, RDF + "type", ox.NamedNode(HYDRA + "PartialCollectionView"))
    add(page, DCTERMS + "title", ox.Literal(f"{where.title}: {describe_pattern(fragment.pattern)}", language="en"))
    add(page, DCTERMS + "description", ox.Literal(
        f"Triples matching {describe_pattern(fragment.pattern)}, page {fragment.page} of {fragment.last_page}.",
        language="en"))
    add(page, DCTERMS + "source", dataset)
    total = ox.Literal(str(fragment.total), datatype=ox.NamedNode(XSD + "integer"))
    add(page, VOID + "triples", total)
    add(page, HYDRA + "totalItems", total)
    add(page, HYDRA + "itemsPerPage", ox.Literal(str(fragment.page_size), datatype=ox.NamedNode(XSD + "integer")))
    add(page, HYDRA + "first", ox.NamedNode(where.link(fragment.pattern, 1)))
    add(page, HYDRA + "last", ox.NamedNode(where.link(fragment.pattern, fragment.last_page)))
    if fragment.has_previous:
        add(page, HYDRA + "previous", ox.NamedNode(where.link(fragment.pattern, fragment.page - 1)))
    if fragment.has_next:
        add(page, HYDRA + "next", ox.NamedNode(where.link(fragment.pattern, fragment.page + 1)))
    return t


def metadata_graph_iri(page_url: str) -> str:
    """Return the named graph that holds a page's metadata in quad formats (``{page}#metadata``)."""
    return page_url.split("#", 1)[0] + "#metadata"


def as_quads(fragment: Fragment, page_url: str, where: Addresses) -> list[ox.Quad]:
    """Return the data in the default graph and the metadata in the page's own metadata graph."""
    graph = ox.NamedNode(metadata_graph_iri(page_url))
    data = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in fragment.triples]
    return data + [ox.Quad(t.subject, t.predicate, t.object, graph) for t in metadata(fragment, page_url, where)]


def as_triples(fragment: Fragment, page_url: str, where: Addresses) -> list[ox.Triple]:
    """Return data and metadata together, for formats without named graphs (Turtle, N-Triples, RDF/XML)."""
    return list(fragment.triples) + metadata(fragment, page_url, where)


def describe_pattern(pattern: Pattern) -> str:
    """Write a pattern for people: ``{ <s> ?p "Geneva"@en }``."""
    parts = []
    for var, term in zip(("?s", "?p", "?o"), pattern.terms):
        parts.append(var if term is None else (f"<{term.value}>" if isinstance(term, ox.NamedNode)
                                               else str(term)))
    return "{ " + " ".join(parts) + " }"
