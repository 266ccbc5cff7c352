"""Load the authority files in ``data/authorities/`` into entries, an index and a graph.

Each file is YAML with a ``kind`` and a list of ``entries`` (format: docs/authorities.md). Persons and
organizations share the agent URI space ``{base}id/agent/{slug}``; languages are published under
their ISO 639-1 URIs at id.loc.gov. A malformed file raises ``AuthorityError`` naming the file, the
entry and the key, so an archivist can fix it; nothing is skipped silently.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml
from rdflib import Graph, Literal, URIRef

from docket.ingest.dates import parse_date
from docket.mapping.vocab import (
    DCMITYPE,
    DCTERMS,
    FOAF,
    GEONAMES,
    ISO639_1,
    OWL,
    RDF,
    RDFS,
    RICO,
    SCHEMA,
    SEM,
    SKOS,
    VIAF,
    WIKIDATA,
    bind_prefixes,
    date_literal,
)
from docket.uris import Minter, is_slug

# Authority kind -> the Minter kind of its URIs (None: not minted here).
RESOURCE_KIND = {
    "person": "agent",
    "organization": "agent",
    "place": "place",
    "event": "event",
    "topic": "topic",
    "type": "type",
    "collection": "collection",
    "language": None,
}
AGENT_KINDS = ("person", "organization")
SCHEME_KINDS = {"topic": ("topics", "Topics"), "type": ("document-types", "Document types")}

_KEYS = {"slug", "label", "lang", "labels", "alt", "ids", "same_as", "note", "part_of", "begin", "end", "place",
         "replaces"}
_KEYS_FOR = {
    "part_of": {"organization", "place"},
    "begin": {"event"},
    "end": {"event"},
    "place": {"event"},
}
_ID_FORMS = {
    "wikidata": (re.compile(r"^Q[1-9][0-9]*$"), lambda v: str(WIKIDATA[v])),
    "viaf": (re.compile(r"^[1-9][0-9]*$"), lambda v: str(VIAF[v])),
    "geonames": (re.compile(r"^[1-9][0-9]*$"), lambda v: GEONAMES.format(v)),
}
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class AuthorityError(ValueError):
    """Say what is wrong with an authority file, and where."""


@dataclass(frozen=True)
class Authority:
    """One entry of an authority file: a person, organization, place, event, topic, type, ..."""

    kind: str
    slug: str
    label: str
    uri: URIRef
    lang: str = "en"
    labels: tuple[tuple[str, str], ...] = ()  # (language, preferred label) in other languages
    alt: tuple[str, ...] = ()
    same_as: tuple[str, ...] = ()
    note: str | None = None
    part_of: str | None = None
    begin: str | None = None
    end: str | None = None
    place: str | None = None
    replaces: tuple[str, ...] = ()  # slugs merged into this entry (docs/uri-policy.md)
    replaced_uris: tuple[URIRef, ...] = ()
    where: str = ""  # "persons.yaml, entry 2 (zhou-enlai)"

    @property
    def resource_kind(self) -> str | None:
        return RESOURCE_KIND[self.kind]

    def names(self) -> Iterable[tuple[str, bool]]:
        """Yield (name, preferred?) for every label: preferred first, then alternatives."""
        yield self.label, True
        for _, label in self.labels:
            yield label, True
        for label in self.alt:
            yield label, False


@dataclass
class Authorities:
    """Hold every authority entry, looked up by kind and slug."""

    entries: list[Authority] = field(default_factory=list)
    schemes: dict[str, tuple[URIRef, str]] = field(default_factory=dict)  # kind -> (scheme URI, label)

    def __post_init__(self) -> None:
        self._by_key = {(a.kind, a.slug): a for a in self.entries}
        self._slugs: dict[str, frozenset[str]] = {}

    def get(self, kind: str, slug: str) -> Authority | None:
        return self._by_key.get((kind, slug))

    def of_kinds(self, kinds: Iterable[str]) -> list[Authority]:
        wanted = set(kinds)
        return [a for a in self.entries if a.kind in wanted]

    def slugs(self, resource_kind: str) -> frozenset[str]:
        """Return every slug taken under one URI space (``agent`` covers persons and organizations).

        Slugs merged into an entry stay taken: a published URI is never reused for something else.
        """
        # Asked for every unreconciled name (several per record): computed once per kind.
        taken = self._slugs.get(resource_kind)
        if taken is None:
            taken = self._slugs[resource_kind] = frozenset(
                slug for a in self.entries if a.resource_kind == resource_kind for slug in (a.slug, *a.replaces))
        return taken

    def scheme(self, kind: str) -> URIRef | None:
        found = self.schemes.get(kind)
        return found[0] if found else None


def load_authorities(directory: Path, minter: Minter) -> Authorities:
    """Read every ``*.yaml`` / ``*.yml`` file in ``directory``; raise AuthorityError on any fault."""
    directory = Path(directory)
    if not directory.is_dir():
        raise AuthorityError(f"authorities folder {directory} does not exist (setting authorities_dir)")
    entries: list[Authority] = []
    schemes: dict[str, tuple[URIRef, str]] = {}
    for kind, (slug, label) in SCHEME_KINDS.items():
        schemes[kind] = (minter.scheme(slug), label)
    taken: dict[tuple[str | None, str], str] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        kind, items, scheme = _read_file(path)
        if scheme is not None:
            schemes[kind] = (minter.scheme(scheme[0]), scheme[1])
        for i, item in enumerate(items, 1):
            entry = _entry(path.name, i, kind, item, minter)
            for slug in (entry.slug, *entry.replaces):
                key = (entry.resource_kind or entry.kind, slug)
                if key in taken:
                    raise AuthorityError(f"{entry.where}: slug {slug!r} is already used by {taken[key]}")
                taken[key] = entry.where
            entries.append(entry)
    authorities = Authorities(entries, schemes)
    _check_references(authorities)
    return authorities


def _read_file(path: Path) -> tuple[str, list[Any], tuple[str, str] | None]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AuthorityError(f"{path.name}: cannot be read as YAML: {exc}") from None
    if not isinstance(data, dict):
        raise AuthorityError(f"{path.name}: expected a mapping with 'kind' and 'entries'")
    kind = data.get("kind")
    if kind not in RESOURCE_KIND:
        raise AuthorityError(f"{path.name}: 'kind' must be one of {', '.join(RESOURCE_KIND)}, not {kind!r}")
    unknown = set(data) - {"kind", "entries", "scheme"}
    if unknown:
        raise AuthorityError(f"{path.name}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    items = data.get("entries")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise AuthorityError(f"{path.name}: 'entries' must be a list")
    scheme = data.get("scheme")
    if scheme is not None:
        if kind not in SCHEME_KINDS or not isinstance(scheme, dict) or not is_slug(str(scheme.get("slug", ""))) \
                or not str(scheme.get("label", "")).strip():
            raise AuthorityError(f"{path.name}: 'scheme' needs a slug and a label, and only topics and "
                                 "types have one")
        scheme = (str(scheme["slug"]), str(scheme["label"]).strip())
    return kind, items, scheme


def _entry(filename: str, index: int, kind: str, item: Any, minter: Minter) -> Authority:
    where = f"{filename}, entry {index}"
    if not isinstance(item, dict):
        raise AuthorityError(f"{where}: expected a mapping with at least 'slug' and 'label'")
    slug = item.get("slug")
    if isinstance(slug, str):
        where += f" ({slug})"
    unknown = set(item) - _KEYS
    if unknown:
        raise AuthorityError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                             f"known keys are {', '.join(sorted(_KEYS))}")
    for key, kinds in _KEYS_FOR.items():
        if key in item and kind not in kinds:
            raise AuthorityError(f"{where}: '{key}' is only for {' and '.join(sorted(kinds))} entries")
    if not isinstance(slug, str) or not is_slug(slug):
        raise AuthorityError(f"{where}: 'slug' must be lower-case ASCII words joined by hyphens, not {slug!r}")
    if kind == "language" and not re.fullmatch(r"[a-z]{2}", slug):
        raise AuthorityError(f"{where}: a language's slug is its two-letter ISO 639-1 code, not {slug!r}")
    if kind == "language" and "replaces" in item:
        raise AuthorityError(f"{where}: a language is published under its ISO URI and cannot replace another")
    label = _text(item.get("label"), where, "label")
    if not label:
        raise AuthorityError(f"{where}: 'label' is required")
    lang = _text(item.get("lang", "en"), where, "lang")
    if not _LANG.match(lang):
        raise AuthorityError(f"{where}: 'lang' must be a language tag such as en, not {lang!r}")
    labels = item.get("labels") or {}
    if not isinstance(labels, dict) or any(not _LANG.match(str(k)) or not isinstance(v, str) for k, v in labels.items()):
        raise AuthorityError(f"{where}: 'labels' must map language tags to names, e.g. {{zh: 周恩来}}")
    if lang in labels:
        raise AuthorityError(f"{where}: 'labels' repeats the main label's language {lang!r}")
    alt = item.get("alt") or []
    if not isinstance(alt, list) or any(not isinstance(a, str) or not a.strip() for a in alt):
        raise AuthorityError(f"{where}: 'alt' must be a list of names")
    uri = ISO639_1[slug] if kind == "language" else minter.resource(RESOURCE_KIND[kind] or "", slug)
    begin, end = _date(item.get("begin"), where, "begin"), _date(item.get("end"), where, "end")
    replaces = _slugs(item.get("replaces"), where, "replaces")
    if begin and end and _coarse(begin, end) > _coarse(end, begin):
        raise AuthorityError(f"{where}: 'end' {end} is before 'begin' {begin}")
    return Authority(
        kind=kind,
        slug=slug,
        label=label,
        uri=URIRef(uri),
        lang=lang,
        labels=tuple((str(k), v.strip()) for k, v in labels.items()),
        alt=tuple(a.strip() for a in alt),
        same_as=_same_as(item, where),
        note=_text(item.get("note"), where, "note") or None,
        part_of=_optional_slug(item.get("part_of"), where, "part_of"),
        begin=begin,
        end=end,
        place=_optional_slug(item.get("place"), where, "place"),
        replaces=replaces,
        replaced_uris=tuple(minter.resource(RESOURCE_KIND[kind] or "", r) for r in replaces),
        where=where,
    )


def _text(value: Any, where: str, key: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise AuthorityError(f"{where}: '{key}' must be text, not {type(value).__name__}")
    return " ".join(value.split())


def _optional_slug(value: Any, where: str, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not is_slug(value):
        raise AuthorityError(f"{where}: '{key}' must be the slug of another entry, not {value!r}")
    return value


def _slugs(value: Any, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or any(not isinstance(v, str) or not is_slug(v) for v in value):
        raise AuthorityError(f"{where}: '{key}' must be a list of slugs")
    return tuple(value)


def _date(value: Any, where: str, key: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, _dt.date):  # YAML reads an unquoted 1954-04-26 as a date
        value = value.isoformat()
    text = str(value).strip()
    if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text) or parse_date(text) != text:
        raise AuthorityError(f"{where}: '{key}' must be an ISO date (YYYY, YYYY-MM or YYYY-MM-DD), not {value!r}")
    return text


def _coarse(a: str, b: str) -> str:
    return a[: min(len(a), len(b))]


def _same_as(item: dict, where: str) -> tuple[str, ...]:
    out: list[str] = []
    ids = item.get("ids") or {}
    if not isinstance(ids, dict):
        raise AuthorityError(f"{where}: 'ids' must map a scheme (wikidata, viaf, geonames) to an identifier")
    for scheme, value in ids.items():
        form = _ID_FORMS.get(str(scheme))
        if form is None:
            raise AuthorityError(f"{where}: unknown identifier scheme {scheme!r}; known: {', '.join(_ID_FORMS)}")
        text = str(value).strip()
        if not form[0].match(text):
            raise AuthorityError(f"{where}: {scheme} identifier {value!r} is not well formed")
        out.append(form[1](text))
    extra = item.get("same_as") or []
    if not isinstance(extra, list) or any(not isinstance(u, str) or not re.match(r"^https?://\S+$", u) for u in extra):
        raise AuthorityError(f"{where}: 'same_as' must be a list of http(s) URIs")
    return tuple(out + extra)


def _check_references(authorities: Authorities) -> None:
    for a in authorities.entries:
        if a.part_of and authorities.get(a.kind, a.part_of) is None:
            raise AuthorityError(f"{a.where}: 'part_of' names {a.part_of!r}, which is no {a.kind} entry")
        if a.part_of == a.slug:
            raise AuthorityError(f"{a.where}: an entry cannot be part of itself")
        if a.place and authorities.get("place", a.place) is None:
            raise AuthorityError(f"{a.where}: 'place' names {a.place!r}, which is no place entry")


def describe(graph: Graph, a: Authority, authorities: Authorities) -> None:
    """Add one entry's description to ``graph``."""
    s = a.uri
    main = Literal(a.label, lang=a.lang)
    graph.add((s, SKOS.prefLabel, main))
    graph.add((s, RDFS.label, main))
    for lang, label in a.labels:
        graph.add((s, SKOS.prefLabel, Literal(label, lang=lang)))
    for label in a.alt:
        graph.add((s, SKOS.altLabel, Literal(label)))
    if a.note:
        graph.add((s, RDFS.comment, Literal(a.note, lang="en")))
    for uri in a.same_as:
        graph.add((s, SKOS.exactMatch if a.kind in ("topic", "type") else OWL.sameAs, URIRef(uri)))
    for cls in CLASSES[a.kind]:
        graph.add((s, RDF.type, cls))
    scheme = authorities.scheme(a.kind)
    if scheme is not None:
        graph.add((s, SKOS.inScheme, scheme))
    if a.part_of:
        parent = authorities.get(a.kind, a.part_of)
        assert parent is not None  # checked on load
        link = SCHEMA.parentOrganization if a.kind == "organization" else SCHEMA.containedInPlace
        graph.add((s, link, parent.uri))
    if a.begin:
        graph.add((s, SEM.hasBeginTimeStamp, date_literal(a.begin)))
    if a.end:
        graph.add((s, SEM.hasEndTimeStamp, date_literal(a.end)))
    if a.place:
        place = authorities.get("place", a.place)
        assert place is not None
        graph.add((s, SEM.hasPlace, place.uri))
    for old in a.replaced_uris:
        graph.add((old, DCTERMS.isReplacedBy, s))
        graph.add((s, DCTERMS.replaces, old))
        graph.add((old, RDFS.label, Literal(f"{a.label} (merged)", lang=a.lang)))


CLASSES: dict[str, tuple[URIRef, ...]] = {
    "person": (FOAF.Agent, FOAF.Person),
    "organization": (FOAF.Agent, FOAF.Organization),
    "place": (DCTERMS.Location, SCHEMA.Place),
    "event": (SEM.Event,),
    "topic": (SKOS.Concept,),
    "type": (SKOS.Concept, RICO.DocumentaryFormType),
    "collection": (RICO.RecordSet, DCMITYPE.Collection),
    "language": (DCTERMS.LinguisticSystem,),
}


def authorities_graph(authorities: Authorities, minter: Minter) -> Graph:
    """Return every entry and concept scheme as one graph (published as ``{base}graph/authorities``)."""
    graph = Graph()
    bind_prefixes(graph, minter)
    for kind, (uri, label) in authorities.schemes.items():
        graph.add((uri, RDF.type, SKOS.ConceptScheme))
        graph.add((uri, SKOS.prefLabel, Literal(label, lang="en")))
        graph.add((uri, RDFS.label, Literal(label, lang="en")))
    for a in authorities.entries:
        describe(graph, a, authorities)
    return graph
