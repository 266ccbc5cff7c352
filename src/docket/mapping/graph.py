"""Map one ``Record`` to the RDF graph of its named graph ``{base}graph/record/{id}``.

The choices (which term for what, and why) are explained in docs/mapping.md; in short: the record
is a dcmitype:Text and rico:Record described with DCMI terms; the act of communication it documents
is a SEM event ``{record}#event`` whose actors are sem:Role nodes ``{record}#sender-1``, ... naming
the role type and the name as written; a translation is PROV-O: the record prov:wasDerivedFrom
``{record}#original`` through the activity ``{record}#translation``. Every name read from the record
is reconciled to an authority; what could not be is published as a new resource flagged
``docket:unreconciled`` and reported in ``MappingResult.problems``, with every outcome in
``MappingResult.outcomes``.

The triples are collected in an insertion-ordered dict, not an rdflib Graph: a Graph's store and
its prefix bindings cost more than the rest of the mapping, and the build only needs N-Triples
(``MappingResult.ntriples()``). ``MappingResult.graph`` builds the Graph when someone asks for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DefinedNamespace

from docket.ingest.model import INFO, WARNING, DateValue, Name, Problem, Record
from docket.mapping.authorities import AGENT_KINDS, Authorities
from docket.mapping.authorities import CLASSES as AUTHORITY_CLASSES
from docket.mapping.mentions import Mention, MentionFinder
from docket.mapping.ntriples import Triple, ntriples
from docket.mapping.reconcile import (
    FUZZY,
    UNRECONCILED,
    Outcome,
    Reconciler,
    guess_agent_kind,
    strip_honorifics,
    variants,
)
from docket.mapping.rights import RightsTable
from docket.mapping.text import cleaned, is_iri
from docket.mapping.vocab import (
    DCMITYPE,
    DCTERMS,
    EDM,
    PROV,
    RDF,
    RDFS,
    RICO,
    SCHEMA,
    SEM,
    SKOS,
    VOID,
    XSD,
    bind_prefixes,
    date_literal,
)
from docket.memo import Memo
from docket.uris import Minter, is_slug, make_slug

# Record field -> (role type term, fragment name, direct properties from the record to the agent)
ROLES: dict[str, tuple[str, str, tuple[URIRef, ...]]] = {
    "senders": ("Sender", "sender", (DCTERMS.creator, RICO.hasSender)),
    "authors": ("Author", "author", (DCTERMS.creator, RICO.hasAuthor)),
    "addressees": ("Addressee", "addressee", (RICO.hasAddressee, SCHEMA.recipient)),
    "intermediaries": ("Intermediary", "intermediary", (RICO.hasReceiver,)),
    "participants": ("Participant", "participant", ()),
}
TEXT_FIELDS = ("salutation", "body", "summary", "subtitle")  # searched for mentions, in this order
_FUNDER = re.compile(r"\b(?:support|funding|grants?)\s+(?:from|by)\s+(?:the\s+)?(?P<names>.+?)\.?\s*$", re.I | re.S)

_NEW_RESOURCES_MEMO = 100_000  # names a mapper remembers the new resource of; cleared when reached

class MappingError(ValueError):
    """Say why a record cannot be mapped at all (it has no stable ID)."""


@dataclass
class MappingResult:
    """Hold one record's triples and what the mapping found out about its names.

    ``triples`` is an insertion-ordered set (a dict of triple -> None). ``graph`` is built from it
    on first use and cached: changing that Graph changes neither ``triples`` nor ``ntriples()``.
    ``shared`` are those of ``triples`` that describe resources published for names no authority
    matched: the same in every record naming them, so a build stores them once, in a graph of
    their own, and validates each record with them.
    """

    record_id: str
    uri: URIRef
    graph_uri: URIRef
    triples: dict[Triple, None]
    minter: Minter = field(repr=False, compare=False)  # binds the docket: prefix on ``graph``
    outcomes: list[Outcome] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # the reader's, then the mapping's
    shared: dict[Triple, None] = field(default_factory=dict)

    @cached_property
    def graph(self) -> Graph:
        """Return the triples as an rdflib Graph named ``graph_uri``, with the usual prefixes bound."""
        graph = Graph(identifier=self.graph_uri)
        bind_prefixes(graph, self.minter)
        graph.addN((s, p, o, graph) for s, p, o in self.triples)
        return graph

    def ntriples(self) -> bytes:
        """Return the triples as N-Triples (UTF-8), in the order the mapping made them."""
        return ntriples(self.triples)

    def split_ntriples(self) -> tuple[bytes, int]:
        """Return all the triples as N-Triples, the record's own first, and where the ``shared`` begin."""
        own = ntriples(t for t in self.triples if t not in self.shared)
        return own + ntriples(self.shared), len(own)

    @property
    def fuzzy(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.method == FUZZY]

    @property
    def unreconciled(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.method == UNRECONCILED]

    def to_dict(self) -> dict:
        """Return the report form: outcomes and problems as plain data."""
        return {
            "id": self.record_id,
            "uri": str(self.uri),
            "graph": str(self.graph_uri),
            "triples": len(self.triples),
            "outcomes": [o.to_dict() for o in self.outcomes],
            "problems": [
                {"field": p.field, "code": p.code, "severity": p.severity, "message": p.message}
                for p in self.problems
            ],
        }


@dataclass
class Context:
    """What every record's mapping shares: built once by ``Mapper``."""

    minter: Minter
    terms: type[DefinedNamespace]
    authorities: Authorities
    reconciler: Reconciler
    finder: MentionFinder
    rights: RightsTable
    # (name as written, kinds) -> the resource published for it: its IRI, label and description
    new_resources: Memo[tuple[URIRef, str, tuple[Triple, ...]]] = field(
        default_factory=lambda: Memo(_NEW_RESOURCES_MEMO))


def map_record(record: Record, ctx: Context) -> MappingResult:
    """Map ``record`` (which must carry its stable ID in ``record.id``) to its graph."""
    if not record.id or not is_slug(record.id):
        raise MappingError(f"{record.source}: record {record.title!r} has no valid stable ID "
                           f"({record.id!r}); assign IDs through the ID registry before mapping")
    return _Builder(record, ctx).build()


class _Builder:
    def __init__(self, record: Record, ctx: Context):
        self.r, changed = cleaned(record)
        self.ctx = ctx
        self.m = ctx.minter
        self.d = ctx.terms
        self.uri = self.m.record(record.id)
        self.triples: dict[Triple, None] = {}
        self.result = MappingResult(record.id, self.uri, self.m.record_graph(record.id), self.triples, self.m,
                                    problems=list(record.problems))
        self.role_agents: set[URIRef] = set()
        self.doc_types: list[URIRef] = []  # the record's dcterms:type, which its original shares
        for name in changed:
            self.problem(name, f"{name} holds control characters that no RDF/XML document can carry; "
                         "they were removed from the published text", "control-characters")

    # -- helpers -------------------------------------------------------------------------------

    def add(self, s, p, o) -> None:
        # A dict, like a Graph, holds a repeated triple once; unlike one, it keeps the order made.
        self.triples[(s, p, o)] = None

    def part(self, name: str, label: str, *types: URIRef, pref: bool = False) -> URIRef:
        node = self.m.fragment(self.uri, name)
        for t in types:
            self.add(node, RDF.type, t)
        self.add(node, RDFS.label, Literal(label, lang="en"))
        if pref:
            self.add(node, SKOS.prefLabel, Literal(label, lang="en"))
        return node

    def problem(self, field_name: str, message: str, code: str, severity: str = WARNING,
                focus: str | None = None) -> None:
        self.result.problems.append(Problem(field_name, message, code, severity, focus))

    def date(self, value: DateValue | None, field_name: str) -> Literal | None:
        if value is None or not (value.iso or value.text):
            return None
        if value.iso:
            try:
                return date_literal(value.iso)
            except ValueError:
                pass
        self.problem(field_name, f"{field_name} {value.text!r} is not an ISO date; published as written",
                     "unreadable-date")
        return Literal(value.text)

    def link(self, written: str, kinds: tuple[str, ...], field_name: str):
        """Reconcile a name and return (URI, label, Match); publish a new resource when unmatched."""
        match = self.ctx.reconciler.match(written, kinds)
        if match.authority is not None:
            a = match.authority
            outcome = Outcome(field_name, written, a.resource_kind or a.kind, a.uri, a.label, match.method,
                              match.score if match.method == FUZZY else None, match.label)
            self.result.outcomes.append(outcome)
            if match.method == FUZZY:
                self.problem(field_name, outcome.message(), "fuzzy-match")
            return a.uri, a.label, match
        uri, label = self.new_resource(written, kinds)
        outcome = Outcome(field_name, written, _resource_kind(kinds), uri, label, UNRECONCILED, match.score,
                          None, tuple(c.label for c in match.candidates))
        self.result.outcomes.append(outcome)
        self.problem(field_name, outcome.message(), "ambiguous-name" if match.candidates else "unreconciled",
                     focus=str(uri) if uri is not None else None)
        return uri, label, match

    def new_resource(self, written: str, kinds: tuple[str, ...]) -> tuple[URIRef, str]:
        """Publish a resource for a name no authority entry matched, flagged unreconciled.

        Its label is the name without honorifics ("Comrade Peng Dehuai" -> "Peng Dehuai"; the
        role keeps the name as written); its slug that label's, with brackets resolved, and never
        one an authority entry holds.
        """
        kinds = tuple(kinds)
        uri, label, description = self.ctx.new_resources.get_or(
            (written, kinds), lambda: self._describe_new(written, kinds))
        for triple in description:
            self.triples[triple] = None
            self.result.shared[triple] = None
        return uri, label

    def _describe_new(self, written: str, kinds: tuple[str, ...]) -> tuple[URIRef, str, tuple[Triple, ...]]:
        # The same for every record that names it: a mapper works it out once per name.
        resource_kind = _resource_kind(kinds)
        label = strip_honorifics(written) if resource_kind == "agent" else written
        forms = variants(label)
        slug = make_slug(forms[1] if len(forms) > 1 else forms[0])
        taken = self.ctx.authorities.slugs(resource_kind)
        candidate, n = slug, 2
        while candidate in taken:
            candidate = f"{slug}-{n}"
            n += 1
        uri = self.m.resource(resource_kind, candidate)
        kind = guess_agent_kind(label) if resource_kind == "agent" and len(kinds) > 1 else kinds[0]
        description = [(uri, RDF.type, cls) for cls in AUTHORITY_CLASSES[kind]]
        description += [(uri, SKOS.prefLabel, Literal(label)), (uri, RDFS.label, Literal(label)),
                        (uri, self.d.unreconciled, Literal(True))]
        scheme = self.ctx.authorities.scheme(kind)
        if scheme is not None:
            description.append((uri, SKOS.inScheme, scheme))
        return uri, label, tuple(description)

    def role(self, node: URIRef, name: Name, match) -> None:
        """Keep on a role node the name as written and how it was matched."""
        self.add(node, self.d.nameAsWritten, Literal(name.written))
        self.add(node, self.d.matchMethod, Literal(match.method if match.authority is not None else UNRECONCILED))
        if match.method == FUZZY:
            self.add(node, self.d.matchScore, Literal(f"{match.score:.1f}", datatype=XSD.decimal))

    # -- the record ----------------------------------------------------------------------------

    def build(self) -> MappingResult:
        r, s = self.r, self.uri
        self.add(s, RDF.type, DCMITYPE.Text)
        self.add(s, RDF.type, RICO.Record)
        self.add(s, VOID.inDataset, self.m.dataset())
        self.add(s, DCTERMS.title, Literal(r.title))
        self.add(s, RDFS.label, Literal(r.title))
        self.add(s, DCTERMS.identifier, Literal(r.id))
        if r.record_id and r.record_id != r.id:
            self.add(s, DCTERMS.identifier, Literal(r.record_id))
        self.texts()
        self.dates()
        self.doc_type()
        self.source_and_rights()
        self.agents_and_event()
        self.translation()
        self.associations()
        self.mentions()
        return self.result

    def texts(self) -> None:
        r, s = self.r, self.uri
        if r.subtitle:
            self.add(s, self.d.subtitle, Literal(r.subtitle))
        if r.summary:
            self.add(s, DCTERMS.abstract, Literal(r.summary))
        if r.salutation:
            self.add(s, self.d.salutation, Literal(r.salutation))
        if r.body:
            self.add(s, SCHEMA.text, Literal("\n\n".join(r.body)))
        if r.signature:
            self.add(s, self.d.signature, Literal(r.signature))
        for citation in r.citations:
            self.add(s, DCTERMS.bibliographicCitation, Literal(citation))

    def dates(self) -> None:
        r, s = self.r, self.uri
        main = self.date(r.date, "date")
        if main is not None:
            self.add(s, DCTERMS.date, main)
        others = [(d, "other_dates") for d in r.other_dates]
        if r.signature_date is not None:
            others.append((r.signature_date, "signature_date"))
        for value, field_name in others:
            lit = self.date(value, field_name)
            if lit is not None and lit != main:
                self.add(s, self.d.otherStatedDate, lit)
        uploaded = self.date(r.uploaded_date, "uploaded_date")
        if uploaded is not None:
            self.add(s, DCTERMS.available, uploaded)

    def doc_type(self) -> None:
        if not self.r.doc_type:
            return
        uri, _, _ = self.link(self.r.doc_type, ("type",), "doc_type")
        self.doc_types.append(uri)
        self.add(self.uri, DCTERMS.type, uri)
        self.add(self.uri, RICO.hasDocumentaryFormType, uri)

    def source_and_rights(self) -> None:
        r, s = self.r, self.uri
        if r.source_url:
            if is_iri(r.source_url):
                self.add(s, DCTERMS.source, URIRef(r.source_url))
            else:
                self.add(s, DCTERMS.source, Literal(r.source_url))
                self.problem("source_url", f"source URL {r.source_url!r} is not a valid IRI; published as text",
                             "bad-source-url")
        for language in r.languages:
            self.add(s, DCTERMS.language, self.language(language, "languages"))
        if r.rights:
            self.add(s, DCTERMS.rights, Literal(r.rights))
            entry = self.ctx.rights.match(r.rights)
            if entry is None:
                self.problem("rights", "the rights statement matches no entry of the rights table; only its "
                             "text is published", "unknown-rights", INFO)
            else:
                self.add(s, EDM.rights, entry.uri)
                if entry.kind == "license":
                    self.add(s, DCTERMS.license, entry.uri)
        if r.funder_credit:
            self.add(s, SCHEMA.creditText, Literal(r.funder_credit))
            for name in _funders(r.funder_credit, self.ctx.reconciler):
                uri, _, _ = self.link(name, AGENT_KINDS, "funder_credit")
                self.add(s, SCHEMA.funder, uri)
        for collection in r.collections:
            uri, _, _ = self.link(collection, ("collection",), "collections")
            self.add(s, DCTERMS.isPartOf, uri)

    def language(self, name: str, field_name: str) -> URIRef | Literal:
        match = self.ctx.reconciler.match(name, ("language",), fuzzy=False)
        if match.authority is not None:
            return match.authority.uri
        self.problem(field_name, f"language {name!r} is not in the language list (languages.yaml); "
                     "published as text", "unknown-language")
        return Literal(name)

    def agents_and_event(self) -> None:
        r, s = self.r, self.uri
        event = self.part("event", f"{r.title} (act of communication)", SEM.Event, RICO.Activity,
                          self.d.Communication, pref=True)
        self.add(s, RICO.documents, event)
        if r.date is not None and r.date.iso:
            stamp = date_literal(r.date.iso)
            self.add(event, SEM.hasBeginTimeStamp, stamp)
            self.add(event, SEM.hasEndTimeStamp, stamp)
        if r.signature_place:
            place, _, _ = self.link(r.signature_place, ("place",), "signature_place")
            self.add(event, SEM.hasPlace, place)
        for field_name, (role_term, fragment, direct) in ROLES.items():
            for i, name in enumerate(getattr(r, field_name), 1):
                agent, label, match = self.link(name.written, AGENT_KINDS, field_name)
                self.role_agents.add(agent)
                for p in direct:
                    self.add(s, p, agent)
                role_type = getattr(self.d, role_term)
                node = self.part(f"{fragment}-{i}", f"{_role_label(role_term)}: {label}", SEM.Role)
                self.add(node, RDF.value, agent)
                self.add(node, SEM.roleType, role_type)
                self.role(node, name, match)
                self.add(event, SEM.hasActor, node)

    def translation(self) -> None:
        r, s = self.r, self.uri
        if not (r.translators or r.translation_statement or r.translated_for or r.original_language):
            holder = self.holder()
            if holder is not None:
                self.add(s, RICO.hasOrHadHolder, holder)
            return
        lang_label = f", in {r.original_language}" if r.original_language else ""
        original = self.part("original", f"{r.title} (original{lang_label})", DCMITYPE.Text, PROV.Entity, pref=True)
        if r.original_language:
            self.add(original, DCTERMS.language, self.language(r.original_language, "original_language"))
        for t in self.doc_types:
            self.add(original, DCTERMS.type, t)
        holder = self.holder()
        if holder is not None:
            self.add(original, RICO.hasOrHadHolder, holder)
        activity = self.part("translation", f"Translation of {r.title}", PROV.Activity, self.d.Translation,
                             pref=True)
        if r.translation_statement:
            self.add(activity, DCTERMS.description, Literal(r.translation_statement))
        self.add(activity, PROV.used, original)
        self.add(s, RDF.type, PROV.Entity)
        self.add(s, PROV.wasDerivedFrom, original)
        self.add(s, PROV.wasGeneratedBy, activity)
        self.add(s, SCHEMA.translationOfWork, original)
        agents: list[tuple[str, Name, str, str]] = [(n.written, n, "translators", "Translator") for n in r.translators]
        if r.translated_for:
            agents.append((r.translated_for, Name.parse(r.translated_for), "translated_for", "Commissioner"))
        counters: dict[str, int] = {}
        for written, name, field_name, role_term in agents:
            agent, label, match = self.link(written, AGENT_KINDS, field_name)
            self.add(agent, RDF.type, PROV.Agent)
            self.add(activity, PROV.wasAssociatedWith, agent)
            if role_term == "Translator":
                self.add(s, SCHEMA.translator, agent)
            counters[role_term] = counters.get(role_term, 0) + 1
            node = self.part(f"translation-{role_term.lower()}-{counters[role_term]}",
                             f"{_role_label(role_term)}: {label}", PROV.Association)
            self.add(node, PROV.agent, agent)
            self.add(node, PROV.hadRole, getattr(self.d, role_term))
            self.role(node, name, match)
            self.add(activity, PROV.qualifiedAssociation, node)

    def holder(self) -> URIRef | None:
        if not self.r.original_archive:
            return None
        uri, _, _ = self.link(self.r.original_archive, ("organization",), "original_archive")
        return uri

    def associations(self) -> None:
        r, s = self.r, self.uri
        lists: list[tuple[str, list[str], tuple[str, ...], URIRef]] = [
            ("associated_agents", r.associated_agents, AGENT_KINDS, DCTERMS.subject),
            ("associated_places", r.associated_places, ("place",), DCTERMS.spatial),
            ("associated_topics", r.associated_topics, ("topic", "event"), DCTERMS.subject),
            ("subjects", r.subjects, ("topic", "event"), DCTERMS.subject),
        ]
        for field_name, names, kinds, prop in lists:
            for name in names:
                uri, _, _ = self.link(name, kinds, field_name)
                self.add(s, prop, uri)

    def mentions(self) -> None:
        r, s = self.r, self.uri
        texts: dict[str, str] = {
            "salutation": r.salutation or "",
            "body": "\n\n".join(r.body),
            "summary": r.summary or "",
            "subtitle": r.subtitle or "",
        }
        for field_name in TEXT_FIELDS:
            found, unmatched = self.ctx.finder.find(texts[field_name], field_name)
            for mention in found:
                a = mention.authority
                self.result.mentions.append(mention)
                self.add(s, SCHEMA.mentions, a.uri)
                if field_name == "summary" and a.uri not in self.role_agents:
                    self.add(s, DCTERMS.spatial if a.kind == "place" else DCTERMS.subject, a.uri)
                outcome = Outcome(f"mention in {field_name}", mention.text, a.resource_kind or a.kind, a.uri,
                                  a.label, mention.method, mention.score)
                self.result.outcomes.append(outcome)
                if mention.method == FUZZY:
                    self.problem(field_name, f"mention {mention.text!r} at character {mention.start} matched "
                                 f"{a.label} by fuzzy matching (score {mention.score:.1f}); please review",
                                 "fuzzy-match")
            for name in unmatched:
                self.result.outcomes.append(Outcome(f"mention in {field_name}", name.text, "agent", None,
                                                    name.text, UNRECONCILED))
                self.problem(field_name, f"the name {name.text!r} (character {name.start}) matches no authority "
                             "entry; it is not linked", "unmatched-mention", INFO)


def _resource_kind(kinds: tuple[str, ...]) -> str:
    first = kinds[0]
    return "agent" if first in AGENT_KINDS else first


def _role_label(term: str) -> str:
    return {"Commissioner": "Commissioned by"}.get(term, term)


def _funders(credit: str, reconciler: Reconciler) -> list[str]:
    """Read funder names from a credit line; split a list only when every part is a known agent."""
    m = _FUNDER.search(" ".join(credit.split()))
    if not m:
        return []
    whole = m.group("names").strip()
    parts = [p.strip() for p in re.split(r",\s*(?:and\s+)?(?:the\s+)?|\s+and\s+(?:the\s+)?", whole) if p.strip()]
    if len(parts) > 1 and all(reconciler.match(p, AGENT_KINDS).authority is not None for p in parts):
        return parts
    return [whole]

