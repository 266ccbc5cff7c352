"""Answer the Reconciliation Service API (version 0.2, the one OpenRefine speaks) over one build.

Scores come from the mapping's ``Reconciler`` so that a name is matched here as it was when the
records were mapped: an entry's preferred label, an alternative label or the same name after
normalization is a certain match (score 100, ``match: true``); a misspelling found by fuzzy
matching ("Zhou Enali") keeps its rapidfuzz score and ``match: false``, so a cataloguer reviews it,
as the mapping report asks for. Other entries whose names resemble the query follow as candidates
(scores below 100, never a match), best first, down to ``CANDIDATE_FLOOR``.

Ids are the entities' URIs (``{base}id/agent/zhou-enlai``); types are ``person``,
``organization``, ``place``, ``event`` and ``topic`` (``agent`` means the first two).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable

from markupsafe import escape
from rapidfuzz import fuzz, process

from docket import __version__
from docket.mapping.authorities import AGENT_KINDS
from docket.mapping.reconcile import FUZZY, Reconciler, fold, normalize
from docket.reconcile.entities import TYPE_BY_ID, TYPES, Entity, EntityIndex
from docket.uris import Minter

VERSIONS = ["0.2"]
MAX_QUERIES = 50  # per batch; OpenRefine sends 10 at a time unless told otherwise
MAX_BODY_BYTES = 512 * 1024
MAX_QUERY_CHARS = 1000
DEFAULT_LIMIT = 5
MAX_LIMIT = 25
CANDIDATE_FLOOR = 60.0
PARTIAL_WEIGHT = 0.8  # a name with words missing ("Zhou" / "Zhou Enlai") is a candidate, scored lower
SHOULD_PENALTY = 10.0  # type_strict "should": entities of other types rank lower
IDENTIFIER_PENALTY = 30.0  # the entity has an identifier of the same scheme, and it differs
SUGGEST_LIMIT = 10
PREVIEW_WIDTH, PREVIEW_HEIGHT = 400, 220
ALL_KINDS = tuple(t.id for t in TYPES)
TYPE_ALIASES = {"agent": AGENT_KINDS, **{t.rdf_class: (t.id,) for t in TYPES},
                **{t.name.lower(): (t.id,) for t in TYPES}}
SAME_AS = "sameAs"
PROPERTIES = (
    (SAME_AS, "Same as: a Wikidata, VIAF or GeoNames identifier (Q36014, 25398990) or any URI of the entity"),
)
_PROPERTY_ALIASES = {"sameas": SAME_AS, "owl:sameas": SAME_AS, "http://www.w3.org/2002/07/owl#sameas": SAME_AS,
                     "wikidata": SAME_AS, "viaf": SAME_AS, "geonames": SAME_AS}


class ServiceError(ValueError):
    """A request the service refuses: carries the HTTP status and a message naming what is wrong."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class Candidate:
    """One entity proposed for a query, with its score (0-100) and whether it is a certain match."""

    entity: Entity
    score: float
    match: bool
    method: str
    matched_label: str | None = None
    identifier: bool | None = None  # the query's sameAs agreed (True), disagreed (False), or none given
    name_score: float = 0.0  # the score of the name alone, before identifiers and types

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.entity.id,
            "name": self.entity.authority.label,
            "type": [{"id": self.entity.type.id, "name": self.entity.type.name}],
            "score": round(self.score, 1),
            "match": self.match,
        }
        description = describe(self.entity)
        if description:
            out["description"] = description
        features = [{"id": "name_score", "value": round(self.name_score, 1)}]
        if self.identifier is not None:
            features.append({"id": "identifier_match", "value": self.identifier})
        out["features"] = features
        return out


def describe(entity: Entity) -> str:
    """Say what an entity is in one line, for a candidate list."""
    if entity.description:
        return entity.description
    if entity.from_records:
        return f"{entity.type.name} named in the records; not (yet) in the authority files"
    return ""


class ReconciliationService:
    """Reconcile names against the entities of one build; build one per build and keep it."""

    def __init__(self, index: EntityIndex, minter: Minter, threshold: float):
        self.index = index
        self.minter = minter
        self.reconciler = Reconciler(index.authorities, threshold)
        # kind -> (normalized name, entity URI, label); the honorific-free form is kept for agents
        self._names: dict[str, list[tuple[str, str, str]]] = {}
        self._folded: list[tuple[str, str, str]] = []  # (folded name, URI, label) for suggest
        for entity in index.entities.values():
            a = entity.authority
            honorifics = a.kind in AGENT_KINDS
            for name, _ in a.names():
                self._names.setdefault(a.kind, []).append((normalize(name, honorifics), entity.id, name))
                self._folded.append((" ".join(fold(name).split()), entity.id, name))

    # --- the manifest -------------------------------------------------------------------------------

    def manifest(self) -> dict[str, Any]:
        """Return the service manifest: what the service offers and where (spec 0.2, section 3)."""
        m = self.minter
        service = m.reconcile()
        return {
            "versions": VERSIONS,
            "name": f"Docket reconciliation ({m.base})",
            "identifierSpace": m.base + "id/",
            "schemaSpace": str(m.ontology),
            "serviceVersion": __version__,
            "defaultTypes": [{"id": t.id, "name": t.name} for t in TYPES],
            "view": {"url": m.reconcile("view") + "?id={{id}}"},
            "preview": {"url": m.reconcile("preview") + "?id={{id}}", "width": PREVIEW_WIDTH,
                        "height": PREVIEW_HEIGHT},
            "suggest": {
                "entity": {"service_url": service, "service_path": "/suggest/entity",
                           "flyout_service_path": "/flyout/entity?id=${id}"},
                "type": {"service_url": service, "service_path": "/suggest/type"},
                "property": {"service_url": service, "service_path": "/suggest/property"},
            },
        }

    # --- reconciliation queries -----------------------------------------------------------------------

    def parse_batch(self, text: str) -> dict[str, dict[str, Any]]:
        """Read the ``queries`` parameter: a JSON object of query objects; raise ``ServiceError``."""
        if len(text.encode("utf-8")) > MAX_BODY_BYTES:
            raise ServiceError(413, f"the queries parameter is larger than {MAX_BODY_BYTES} bytes; send "
                                    f"smaller batches")
        try:
            batch = json.loads(text)
        except ValueError as exc:
            raise ServiceError(400, f"the queries parameter is not JSON: {exc}") from None
        if not isinstance(batch, dict):
            raise ServiceError(400, 'the queries parameter must be a JSON object such as '
                                    '{"q0": {"query": "Zhou Enlai", "type": "person"}}')
        if len(batch) > MAX_QUERIES:
            raise ServiceError(413, f"a batch may hold at most {MAX_QUERIES} queries and this one holds "
                                    f"{len(batch)}; send smaller batches (in OpenRefine, lower the batch size)")
        for key, query in batch.items():
            self._check_query(key, query)
        return batch

    def reconcile_batch(self, batch: dict[str, dict[str, Any]]) -> dict[str, dict[str, list]]:
        """Answer every query of a batch: ``{"q0": {"result": [...]}, ...}``."""
        return {key: {"result": [c.to_json() for c in self.reconcile(query, key)]} for key, query in batch.items()}

    def reconcile(self, query: dict[str, Any] | str, key: str = "query") -> list[Candidate]:
        """Answer one query (a query object, or only a name): candidates, best first."""
        if isinstance(query, str):
            query = {"query": query}
        self._check_query(key, query)
        text = " ".join(str(query.get("query", "")).split())
        kinds, preferred = self._kinds(query, key)
        limit = self._limit(query, key)
        identifiers = self._identifiers(query, key)
        search = ALL_KINDS if preferred else kinds
        found = self._by_name(text, search) if text else {}
        if identifiers:
            self._apply_identifiers(found, identifiers, search)
        if preferred:
            for c in found.values():
                if c.entity.authority.kind not in kinds:
                    c.score -= SHOULD_PENALTY
                    c.match = False
        ranked = sorted(found.values(), key=lambda c: (-c.score, not c.match, c.entity.authority.label, c.entity.id))
        matches = [c for c in ranked if c.match]
        if len(matches) > 1:  # two certain matches contradict each other: neither is certain
            for c in matches:
                c.match = False
        return [c for c in ranked if c.score >= CANDIDATE_FLOOR or c.match or c.identifier][:limit]

    def _by_name(self, text: str, kinds: tuple[str, ...]) -> dict[str, Candidate]:
        found: dict[str, Candidate] = {}
        result = self.reconciler.match(text, kinds)
        if result.authority is not None:
            entity = self.index.get(str(result.authority.uri))
            if entity is not None:
                certain = result.method != FUZZY
                found[entity.id] = Candidate(entity, float(result.score or 0), certain, result.method, result.label)
        for a in result.candidates:  # ambiguous: all are candidates, none is chosen
            entity = self.index.get(str(a.uri))
            if entity is not None:
                found[entity.id] = Candidate(entity, float(result.score or 100.0), False, "ambiguous")
        for uri, (score, label) in self._similar(text, kinds).items():
            if uri in found:
                continue
            entity = self.index.get(uri)
            if entity is not None:
                # Only the reconciler's choice may score 100: a look-alike stays below it.
                found[uri] = Candidate(entity, min(score, 99.0), False, "similar", label)
        for c in found.values():
            c.name_score = c.score
        return found

    def _similar(self, text: str, kinds: tuple[str, ...]) -> dict[str, tuple[float, str]]:
        """Score every name of ``kinds`` as the reconciler's fuzzy stage does, plus partial names."""
        honorifics = any(k in AGENT_KINDS for k in kinds)
        query = normalize(text, honorifics)
        choices = [c for kind in kinds for c in self._names.get(kind, [])]
        if not query or not choices:
            return {}
        keys = [c[0] for c in choices]
        best: dict[str, tuple[float, str]] = {}

        def keep(i: int, score: float) -> None:
            _, uri, label = choices[i]
            if uri not in best or score > best[uri][0]:
                best[uri] = (score, label)

        for scorer in (fuzz.ratio, fuzz.token_sort_ratio):
            for key, score, i in process.extract(query, keys, scorer=scorer, score_cutoff=CANDIDATE_FLOOR, limit=None):
                if not _words_missing(query, key):  # as in the reconciler: not a misspelling but a part
                    keep(i, score)
        for _, score, i in process.extract(query, keys, scorer=fuzz.token_set_ratio,
                                           score_cutoff=CANDIDATE_FLOOR / PARTIAL_WEIGHT, limit=None):
            keep(i, score * PARTIAL_WEIGHT)
        return best

    def _apply_identifiers(self, found: dict[str, Candidate], identifiers: list[str], kinds: tuple[str, ...]) -> None:
        for entity in self.index.entities.values():
            if entity.authority.kind not in kinds:
                continue
            agree = _identifier_agreement(entity.authority.same_as, entity.id, identifiers)
            if agree is None:
                continue
            c = found.get(entity.id)
            if agree:
                if c is None:
                    c = found[entity.id] = Candidate(entity, 100.0, True, "identifier")
                c.score, c.match, c.identifier = 100.0, True, True
            elif c is not None:
                c.score, c.match, c.identifier = c.score - IDENTIFIER_PENALTY, False, False

    def _check_query(self, key: str, query: Any) -> None:
        if not isinstance(query, dict):
            raise ServiceError(400, f"query {key!r} must be a JSON object with a 'query' string")
        text = query.get("query")
        if text is not None and not isinstance(text, str):
            raise ServiceError(400, f"query {key!r}: 'query' must be a string")
        if not (text or "").strip() and not query.get("properties"):
            raise ServiceError(400, f"query {key!r} has neither a 'query' string nor 'properties'")
        if text and len(text) > MAX_QUERY_CHARS:
            raise ServiceError(400, f"query {key!r} is longer than {MAX_QUERY_CHARS} characters")

    def _kinds(self, query: dict[str, Any], key: str) -> tuple[tuple[str, ...], bool]:
        """Return the kinds to search and whether they are only preferred (``type_strict: should``)."""
        strict = query.get("type_strict", "any")
        if strict not in ("any", "should", "all"):
            raise ServiceError(400, f"query {key!r}: 'type_strict' must be any, should or all, not {strict!r}")
        given = query.get("type")
        if given in (None, "", []):
            return ALL_KINDS, False
        names = [given] if isinstance(given, str) else given
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ServiceError(400, f"query {key!r}: 'type' must be a type id or a list of type ids")
        kinds: list[str] = []
        for name in names:
            found = TYPE_ALIASES.get(name) or TYPE_ALIASES.get(name.lower()) or \
                ((name,) if name in TYPE_BY_ID else None)
            if found is None:
                raise ServiceError(400, f"query {key!r}: unknown type {name!r}; types are "
                                        f"{', '.join(ALL_KINDS)} (and agent for persons and organizations)")
            kinds += [k for k in found if k not in kinds]
        if strict == "all" and len(kinds) > 1 and not set(kinds) <= set(AGENT_KINDS):
            return (), False  # an entity has one type: no entity is of several at once
        return tuple(kinds), strict == "should"

    def _limit(self, query: dict[str, Any], key: str) -> int:
        limit = query.get("limit", DEFAULT_LIMIT)
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 1 or limit != int(limit):
            raise ServiceError(400, f"query {key!r}: 'limit' must be a whole number from 1, not {limit!r}")
        return min(int(limit), MAX_LIMIT)

    def _identifiers(self, query: dict[str, Any], key: str) -> list[str]:
        properties = query.get("properties") or []
        if not isinstance(properties, list):
            raise ServiceError(400, f"query {key!r}: 'properties' must be a list of {{\"pid\": ..., \"v\": ...}}")
        out: list[str] = []
        for p in properties:
            if not isinstance(p, dict) or "pid" not in p or "v" not in p:
                raise ServiceError(400, f"query {key!r}: each property needs 'pid' and 'v'")
            pid = _PROPERTY_ALIASES.get(str(p["pid"]).lower())
            if pid is None:
                known = ", ".join(k for k, _ in PROPERTIES)
                raise ServiceError(400, f"query {key!r}: unknown property {p['pid']!r}; known properties: {known}")
            values = p["v"] if isinstance(p["v"], list) else [p["v"]]
            for v in values:
                v = v.get("id") if isinstance(v, dict) else v
                if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v).strip():
                    out.append(str(v).strip())
        return out

    # --- suggest, preview ---------------------------------------------------------------------------

    def suggest_entities(self, prefix: str, types: Iterable[str] = (), cursor: int = 0,
                         limit: int = SUGGEST_LIMIT) -> dict[str, Any]:
        """Complete a name as typed: labels starting with it first, then labels with a word starting with it."""
        wanted = self._kinds({"type": list(types)}, "suggest")[0] if types else ALL_KINDS
        typed = " ".join(fold(prefix).split())
        if not typed:
            return {"result": []}
        ranked: dict[str, tuple[int, str, str]] = {}
        for name, uri, label in self._folded:
            entity = self.index.get(uri)
            if entity is None or entity.authority.kind not in wanted:
                continue
            if name.startswith(typed):
                rank = 0
            elif any(word.startswith(typed) for word in re.split(r"[\s\-]+", name)) or f" {typed}" in name:
                rank = 1
            else:
                continue
            if uri not in ranked or rank < ranked[uri][0]:
                ranked[uri] = (rank, entity.authority.label, label)
        order = sorted(ranked.items(), key=lambda x: (x[1][0], x[1][1].casefold(), x[0]))
        out = []
        for uri, (_, name, matched) in order[cursor:cursor + limit]:
            entity = self.index.entities[uri]
            item: dict[str, Any] = {"id": uri, "name": name,
                                    "notable": [{"id": entity.type.id, "name": entity.type.name}]}
            description = describe(entity)
            if matched != name:
                description = f"also written {matched}" + (f"; {description}" if description else "")
            if description:
                item["description"] = description
            out.append(item)
        return {"result": out}

    def suggest_types(self, prefix: str) -> dict[str, Any]:
        typed = fold(prefix).strip()
        return {"result": [{"id": t.id, "name": t.name, "description": t.description} for t in TYPES
                           if not typed or fold(t.name).startswith(typed) or t.id.startswith(typed)]}

    def suggest_properties(self, prefix: str) -> dict[str, Any]:
        typed = fold(prefix).strip()
        return {"result": [{"id": pid, "name": pid, "description": text} for pid, text in PROPERTIES
                           if not typed or fold(pid).startswith(typed)]}

    def preview(self, uri: str, mentions: tuple[int, list[tuple[str, str]]] = (0, [])) -> str | None:
        """Return a small HTML page about an entity, for OpenRefine's preview frame; None when unknown."""
        entity = self.index.get(uri)
        if entity is None:
            return None
        a = entity.authority
        count, records = mentions
        parts = [f'<p class="name"><a href="{escape(uri)}" target="_blank" rel="noopener">{escape(a.label)}</a> '
                 f'<span class="type">({escape(entity.type.name)})</span></p>']
        names = [f"{label} ({lang})" for lang, label in a.labels] + list(a.alt)
        if names:
            parts.append(f'<p class="names">Also: {escape("; ".join(names))}</p>')
        if describe(entity):
            parts.append(f'<p class="note">{escape(describe(entity))}</p>')
        if a.same_as:
            links = ", ".join(f'<a href="{escape(s)}" target="_blank" rel="noopener">{escape(s)}</a>'
                              for s in a.same_as)
            parts.append(f'<p class="ids">Same as: {links}</p>')
        if count:
            items = "".join(f'<li><a href="{escape(r)}" target="_blank" rel="noopener">{escape(t)}</a></li>'
                            for r, t in records)
            more = f"<li>… and {count - len(records)} more</li>" if count > len(records) else ""
            parts.append(f'<p class="records">Named in {count} record{"s" if count != 1 else ""}:</p>'
                         f"<ul>{items}{more}</ul>")
        parts.append(f'<p class="uri"><code>{escape(uri)}</code></p>')
        body = "\n".join(parts)
        return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{escape(a.label)}</title><style>body{{font:13px/1.4 sans-serif;margin:6px}}"
                "p{margin:0 0 4px}.type,.uri{color:#555}ul{margin:0;padding-left:1.2em}</style></head>"
                f"<body>\n{body}\n</body></html>\n")


def _words_missing(a: str, b: str) -> bool:
    """Say whether one name is the other with whole words missing (the reconciler's rule too)."""
    wa, wb = set(a.split()), set(b.split())
    return wa != wb and (wa <= wb or wb <= wa)


def _identifier_agreement(same_as: tuple[str, ...], uri: str, identifiers: list[str]) -> bool | None:
    """Say whether an entity's identifiers agree with the query's (None: nothing to compare)."""
    known = set(same_as) | {uri}
    compared = False
    for given in identifiers:
        if given in known:
            return True
        scheme = _scheme(given)
        if scheme is None:
            continue
        own = [s for s in same_as if scheme in s]
        local = given.rsplit("/", 1)[-1] if "/" in given.rstrip("/") else given
        if any(s.rstrip("/").rsplit("/", 1)[-1] == local for s in own):
            return True
        if own:
            compared = True
    return False if compared else None


def _scheme(identifier: str) -> str | None:
    if re.fullmatch(r"Q[1-9][0-9]*", identifier) or "wikidata.org" in identifier:
        return "wikidata.org"
    if "viaf.org" in identifier:
        return "viaf.org"
    if "geonames.org" in identifier:
        return "geonames.org"
    if identifier.isdigit():
        return "viaf.org"  # a bare number: VIAF's form; GeoNames ids are given as URIs
    return None
