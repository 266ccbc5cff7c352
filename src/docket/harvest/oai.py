"""Answer OAI-PMH 2.0 requests: arguments in, an ``OAI-PMH`` XML document out (no Flask here).

Identifiers are ``oai:{host}:{record-id}`` with the host of the base URI (no port), so they
follow the oai-identifier scheme and name the record ID every other interface uses. Datestamps are
the records' modification times (second granularity, UTC); withdrawn records stay as deleted
records (``deletedRecord`` persistent). Sets: ``type:{slug}``, ``collection:{slug}``,
``decade:1950s``, ``year:1954`` and their parents ``type``, ``collection``, ``decade``, ``year``.

Resumption tokens carry the list's arguments, the last identifier sent and the cursor, with a
checksum against corruption (not a secret: a token grants nothing a fresh request would not).
Lists are in identifier order, so a token stays valid across a rebuild: the list goes on after the
last identifier sent, in the new build (items changed meanwhile may be missed by this harvest and
come with the next, as the protocol allows). A token that does not decode, was altered, or belongs
to another verb or repository is a ``badResumptionToken``; a list that a rebuild left with nothing
after the token's position answers ``noRecordsMatch``.

Errors follow the protocol's section 3.6 and each verb's list: ``badVerb``, then ``badArgument``
(unknown, repeated or missing arguments, ``resumptionToken`` with others, bad or mixed date
granularities, ``from`` after ``until``, a ``set`` or ``metadataPrefix`` not of the schema's
syntax), then the verb's own; GetRecord may answer ``idDoesNotExist`` and
``cannotDisseminateFormat`` together. A withdrawn item has no metadata
formats (``noMetadataFormats``) but is announced as deleted in every format; a repository without
any set answers ``noSetHierarchy``.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime as _dt
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

import pyoxigraph as ox
from rdflib.namespace import RDFS, SKOS
from lxml import etree

from docket.config import Settings
from docket.harvest.index import IndexReader, Item, labels
from docket.harvest.oai_dc import (OAI_DC_NS, OAI_DC_SCHEMA, RDF_NS, RDF_SCHEMA, XSI_NS, clean,
                                   linked_entities, oai_dc, rdf_xml)
from docket.mapping import DATASET_TITLE
from docket.mapping.vocab import PREFIXES
from docket.memo import Memo
from docket.record_graphs import RecordGraphs
from docket.store.oxigraph import OxigraphStore
from docket.uris import Minter

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_ID_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
MEDIA_TYPE = "text/xml; charset=utf-8"

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
# The schema's syntax of setSpec and metadataPrefix values; anything else is a badArgument.
_SET_SPEC = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")
_PREFIX = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")
_DOMAIN = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$")


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str


METADATA_FORMATS = (
    MetadataFormat("oai_dc", OAI_DC_SCHEMA, OAI_DC_NS),
    MetadataFormat("rdf", RDF_SCHEMA, RDF_NS),
)
_FORMATS = {f.prefix: f for f in METADATA_FORMATS}


@dataclass(frozen=True)
class Verb:
    required: frozenset[str]
    optional: frozenset[str]
    exclusive: str | None = None  # an argument that stands alone when given


VERBS = {
    "GetRecord": Verb(frozenset({"identifier", "metadataPrefix"}), frozenset()),
    "Identify": Verb(frozenset(), frozenset()),
    "ListIdentifiers": Verb(frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}), "resumptionToken"),
    "ListMetadataFormats": Verb(frozenset(), frozenset({"identifier"})),
    "ListRecords": Verb(frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}), "resumptionToken"),
    "ListSets": Verb(frozenset(), frozenset(), "resumptionToken"),
}

MESSAGES = {
    "badArgument": "The request includes illegal arguments, is missing required arguments, includes a "
                   "repeated argument, or values for arguments have an illegal syntax.",
    "badResumptionToken": "The value of the resumptionToken argument is invalid or expired.",
    "badVerb": "Value of the verb argument is not a legal OAI-PMH verb, the verb argument is missing, "
               "or the verb argument is repeated.",
    "cannotDisseminateFormat": "The metadata format identified by the value given for the metadataPrefix "
                               "argument is not supported by the item or by the repository.",
    "idDoesNotExist": "The value of the identifier argument is unknown or illegal in this repository.",
    "noRecordsMatch": "The combination of the values of the from, until, set and metadataPrefix arguments "
                      "results in an empty list.",
    "noMetadataFormats": "There are no metadata formats available for the specified item.",
    "noSetHierarchy": "The repository does not support sets.",
}


class OAIError(Exception):
    """One OAI-PMH error condition: a code from the protocol and a message saying what was wrong."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail or MESSAGES[code]}")
        self.code = code
        self.detail = detail or MESSAGES[code]


def iso_utc(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Repository:
    """What the protocol serves from one build: its harvest index, its store and the settings."""

    def __init__(self, index: IndexReader, store: Any, settings: Settings, minter: Minter | None = None,
                 graphs: RecordGraphs | None = None):
        self.index = index
        self.store = store
        self.graphs = graphs  # the build's record graphs file, if it has one: records are read from it
        self.settings = settings
        self.minter = minter or Minter.from_settings(settings)
        self.base_url = self.minter.service("oai")
        self.host = urlsplit(self.minter.base).hostname or "localhost"
        self.page_size = max(1, settings.oai_page_size)

    # --- identifiers ------------------------------------------------------------------------------

    def identifier(self, record_id: str) -> str:
        return f"oai:{self.host}:{record_id}"

    def item(self, identifier: str) -> Item | None:
        prefix = f"oai:{self.host}:"
        return self.index.get(identifier[len(prefix):]) if identifier.startswith(prefix) else None

    # --- metadata ---------------------------------------------------------------------------------

    def metadata(self, items: Sequence[Item], prefix: str) -> dict[str, etree._Element]:
        """Return each live item's metadata in ``prefix``: graphs from the record graphs file (else one query), labels once per page."""
        live = {str(self.minter.record_graph(item.id)): item.id for item in items if not item.deleted}
        graphs: dict[str, list[ox.Triple]] = {rid: [] for rid in live.values()}
        if self.graphs is not None:
            for graph, rid in list(live.items()):
                found = self.graphs.triples(graph)
                if found is not None:
                    graphs[rid] = found
                    del live[graph]
        if live:
            # One query per page, through the TripleStore interface (the embedded store or a remote one).
            values = " ".join(f"<{g}>" for g in live)
            for row in self.store.query(f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?g {{ {values} }} "
                                        "GRAPH ?g { ?s ?p ?o } }"):
                graphs[live[row["g"].value]].append(ox.Triple(row["s"], row["p"], row["o"]))
        if prefix == "rdf":
            prefixes = {name: str(ns) for name, ns in PREFIXES.items()} | {"docket": str(self.minter.ontology)}
            return {rid: rdf_xml(triples, prefixes) for rid, triples in graphs.items()}
        uris = {rid: str(self.minter.record(rid)) for rid in graphs}
        linked = sorted({u for rid, t in graphs.items() for u in linked_entities(uris[rid], t)})
        if not linked:
            found: dict[str, str] = {}
        elif isinstance(self.store, OxigraphStore):
            found = self._labels(linked, [t for triples in graphs.values() for t in triples])
        else:
            found = labels(self.store, linked)
        return {rid: oai_dc(uris[rid], t, found, self.settings.publisher) for rid, t in graphs.items()}

    def _labels(self, uris: list[str], own: list[ox.Triple]) -> dict[str, str]:
        """Return ``labels``' answer from the records' own graphs and the graphs that label what records link.

        Asking the union, as ``labels`` does, reads an agent's label once in every record graph that
        names it (hundreds of thousands for the busiest correspondents of a million records); the
        authorities and the unreconciled names' graph say it once, remembered per build.
        """
        wanted = set(uris)
        said: dict[str, list[ox.Literal]] = {}
        for t in own:
            if t.subject.value in wanted and t.predicate.value in _LABELS and isinstance(t.object, ox.Literal):
                said.setdefault(t.subject.value, []).append(t.object)
        raw = self.store.raw
        memo: Memo[tuple[ox.Literal, ...]] = self.store.memo.setdefault("oai-labels", Memo(_LABEL_MEMO))
        context = [ox.NamedNode(g) for g in self.minter.context_graphs()]
        found: dict[str, str] = {}
        for uri in uris:
            term = ox.NamedNode(uri)
            elsewhere = memo.get_or(uri, lambda: tuple(
                q.object for g in context for p in _LABEL_TERMS for q in raw.quads_for_pattern(term, p, None, g)
                if isinstance(q.object, ox.Literal)))
            usable = [lit.value for lit in (*said.get(uri, ()), *elsewhere)
                      if (lit.language or "en").split("-")[0] == "en"]  # as LANGMATCHES(LANG(?l), 'en') or none
            if usable:
                found[uri] = min(usable)
        return found


_LABELS = (str(SKOS.prefLabel), str(RDFS.label))
_LABEL_TERMS = tuple(ox.NamedNode(p) for p in _LABELS)
_LABEL_MEMO = 50_000  # linked IRIs whose labels a serving process remembers per build


# --- resumption tokens ------------------------------------------------------------------------------

def _checksum(secret: str, payload: bytes) -> str:
    return hashlib.sha256(secret.encode() + b"\0" + payload).hexdigest()[:16]


def encode_token(repo: Repository, state: dict[str, Any]) -> str:
    payload = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_checksum(repo.base_url, payload)}"


def decode_token(repo: Repository, token: str, verb: str) -> dict[str, Any]:
    """Return a token's state; raise ``badResumptionToken`` for anything this repository did not issue."""
    body, _, check = token.partition(".")
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        state = json.loads(payload)
    except (binascii.Error, ValueError):
        raise OAIError("badResumptionToken", f"the resumptionToken {token!r} cannot be read") from None
    if not isinstance(state, dict) or check != _checksum(repo.base_url, payload):
        raise OAIError("badResumptionToken", f"the resumptionToken {token!r} was not issued by this repository")
    if state.get("verb") != verb:
        raise OAIError("badResumptionToken", f"the resumptionToken was issued for {state.get('verb')}, not {verb}")
    if not isinstance(state.get("after"), str) or not isinstance(state.get("cursor"), int) or state["cursor"] < 0:
        raise OAIError("badResumptionToken", "the resumptionToken is incomplete")
    return state


# --- arguments --------------------------------------------------------------------------------------

def _check_arguments(params: Sequence[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    verbs = [v for k, v in params if k == "verb"]
    if len(verbs) != 1:
        raise OAIError("badVerb", "the verb argument is missing" if not verbs else "the verb argument is repeated")
    verb = verbs[0]
    if verb not in VERBS:
        raise OAIError("badVerb", f"{verb!r} is not an OAI-PMH verb; the verbs are {', '.join(VERBS)}")
    spec = VERBS[verb]
    args: dict[str, str] = {}
    for key, value in params:
        if key == "verb":
            continue
        if key not in spec.required | spec.optional | ({spec.exclusive} if spec.exclusive else set()):
            raise OAIError("badArgument", f"{verb} does not take the argument {key!r}")
        if key in args:
            raise OAIError("badArgument", f"the argument {key!r} is repeated")
        args[key] = value
    if spec.exclusive and spec.exclusive in args:
        if len(args) > 1:
            others = ", ".join(sorted(k for k in args if k != spec.exclusive))
            raise OAIError("badArgument", f"{spec.exclusive} is an exclusive argument; it came with {others}")
        return verb, args
    missing = sorted(k for k in spec.required if not args.get(k))
    if missing:
        raise OAIError("badArgument", f"{verb} requires the argument{'s' if len(missing) > 1 else ''} "
                       f"{', '.join(missing)}")
    if "set" in args and not _SET_SPEC.match(args["set"]):
        raise OAIError("badArgument", f"set={args['set']!r} is not a setSpec (such as type:telegram)")
    if "metadataPrefix" in args and not _PREFIX.match(args["metadataPrefix"]):
        raise OAIError("badArgument", f"metadataPrefix={args['metadataPrefix']!r} is not a metadataPrefix")
    _dates(args)
    return verb, args


def _parse(name: str, value: str) -> tuple[str, str]:
    """Return (granularity, bound as YYYY-MM-DDThh:mm:ssZ) for a from/until value."""
    if _SECOND.match(value):
        fmt, granularity = "%Y-%m-%dT%H:%M:%SZ", "second"
    elif _DAY.match(value):
        fmt, granularity = "%Y-%m-%d", "day"
    else:
        raise OAIError("badArgument", f"{name}={value!r} is neither YYYY-MM-DD nor YYYY-MM-DDThh:mm:ssZ")
    try:
        _dt.datetime.strptime(value, fmt)
    except ValueError:
        raise OAIError("badArgument", f"{name}={value!r} is not a valid date") from None
    if granularity == "second":
        return granularity, value
    return granularity, value + ("T00:00:00Z" if name == "from" else "T23:59:59Z")


def _dates(args: dict[str, str]) -> tuple[str | None, str | None]:
    bounds = {name: _parse(name, args[name]) for name in ("from", "until") if name in args}
    if len(bounds) == 2:
        if bounds["from"][0] != bounds["until"][0]:
            raise OAIError("badArgument", "from and until must have the same granularity")
        if bounds["from"][1] > bounds["until"][1]:
            raise OAIError("badArgument", f"from ({args['from']}) is later than until ({args['until']})")
    return (bounds["from"][1] if "from" in bounds else None, bounds["until"][1] if "until" in bounds else None)


# --- the document -----------------------------------------------------------------------------------

def _el(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, f"{{{OAI_NS}}}{name}", {k: v for k, v in attrs.items()})
    if text is not None:
        node.text = clean(text)
    return node


def respond(repo: Repository, params: Iterable[tuple[str, str]], now: _dt.datetime | None = None) -> bytes:
    """Answer one request (its arguments as (name, value) pairs, repeats kept) with the XML document."""
    params = list(params)
    root = etree.Element(f"{{{OAI_NS}}}OAI-PMH", nsmap={None: OAI_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
    _el(root, "responseDate", iso_utc(now or _dt.datetime.now(_dt.timezone.utc)))
    request = _el(root, "request", repo.base_url)
    try:
        verb, args = _check_arguments(params)
    except OAIError as error:
        _el(root, "error", error.detail, code=error.code)  # badVerb, badArgument: no attributes on request
        return _serialize(root)
    request.set("verb", verb)
    for key, value in args.items():
        request.set(key, value)
    try:
        body = HANDLERS[verb](repo, args)
    except OAIErrors as errors:
        for error in errors.errors:
            _el(root, "error", error.detail, code=error.code)
    except OAIError as error:
        _el(root, "error", error.detail, code=error.code)
    else:
        root.append(body)
    return _serialize(root)


class OAIErrors(Exception):
    """Several error conditions at once (GetRecord with an unknown identifier and format)."""

    def __init__(self, errors: list[OAIError]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _header(parent: etree._Element, repo: Repository, item: Item) -> None:
    header = _el(parent, "header", status="deleted") if item.deleted else _el(parent, "header")
    _el(header, "identifier", repo.identifier(item.id))
    _el(header, "datestamp", item.datestamp)
    for spec in item.sets:
        _el(header, "setSpec", spec)


def _record(parent: etree._Element, repo: Repository, item: Item, metadata: etree._Element | None) -> None:
    record = _el(parent, "record")
    _header(record, repo, item)
    if metadata is not None:
        _el(record, "metadata").append(metadata)


def _format(prefix: str) -> MetadataFormat:
    found = _FORMATS.get(prefix)
    if found is None:
        raise OAIError("cannotDisseminateFormat", f"the metadataPrefix {prefix!r} is not supported; "
                       f"this repository disseminates {', '.join(_FORMATS)}")
    return found


# --- the verbs --------------------------------------------------------------------------------------

def identify(repo: Repository, args: dict[str, str]) -> etree._Element:
    body = etree.Element(f"{{{OAI_NS}}}Identify")
    _el(body, "repositoryName", DATASET_TITLE)
    _el(body, "baseURL", repo.base_url)
    _el(body, "protocolVersion", "2.0")
    _el(body, "adminEmail", repo.settings.admin_email)
    _el(body, "earliestDatestamp", repo.index.earliest)
    _el(body, "deletedRecord", "persistent")
    _el(body, "granularity", GRANULARITY)
    if _DOMAIN.match(repo.host):
        description = _el(body, "description")
        ident = etree.SubElement(description, f"{{{OAI_ID_NS}}}oai-identifier", nsmap={None: OAI_ID_NS})
        ident.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_ID_NS} {OAI_ID_SCHEMA}")
        for name, text in (("scheme", "oai"), ("repositoryIdentifier", repo.host), ("delimiter", ":"),
                           ("sampleIdentifier", repo.identifier(repo.index.first_id() or "1954-06-20-telegram"))):
            etree.SubElement(ident, f"{{{OAI_ID_NS}}}{name}").text = text
    return body


def list_metadata_formats(repo: Repository, args: dict[str, str]) -> etree._Element:
    if "identifier" in args:
        item = repo.item(args["identifier"])
        if item is None:
            raise OAIError("idDoesNotExist", f"no item has the identifier {args['identifier']!r}")
        if item.deleted:
            raise OAIError("noMetadataFormats", f"{args['identifier']} was withdrawn: no metadata is "
                           "disseminated for it, only its deleted header")
    body = etree.Element(f"{{{OAI_NS}}}ListMetadataFormats")
    for fmt in METADATA_FORMATS:
        node = _el(body, "metadataFormat")
        _el(node, "metadataPrefix", fmt.prefix)
        _el(node, "schema", fmt.schema)
        _el(node, "metadataNamespace", fmt.namespace)
    return body


def get_record(repo: Repository, args: dict[str, str]) -> etree._Element:
    errors = []
    item = repo.item(args["identifier"])
    if item is None:
        errors.append(OAIError("idDoesNotExist", f"no item has the identifier {args['identifier']!r}"))
    try:
        _format(args["metadataPrefix"])
    except OAIError as error:
        errors.append(error)
    if errors:
        raise OAIErrors(errors)
    assert item is not None
    body = etree.Element(f"{{{OAI_NS}}}GetRecord")
    _record(body, repo, item, repo.metadata([item], args["metadataPrefix"]).get(item.id))
    return body


def _list_state(repo: Repository, verb: str, args: dict[str, str]) -> dict[str, Any]:
    if "resumptionToken" in args:
        state = decode_token(repo, args["resumptionToken"], verb)
        if verb != "ListSets":
            for key in ("from", "until"):
                if state.get(key) is not None and not _SECOND.match(str(state[key])):
                    raise OAIError("badResumptionToken", "the resumptionToken is incomplete")
            if state.get("prefix") not in _FORMATS:
                raise OAIError("badResumptionToken", "the resumptionToken names no metadata format")
        return state
    start, end = _dates(args)
    return {"verb": verb, "prefix": args.get("metadataPrefix"), "set": args.get("set"),
            "from": start, "until": end, "after": "", "cursor": 0}


def _page(repo: Repository, state: dict[str, Any], keys: list[str]) -> tuple[int, int, bool]:
    """Return (start, stop, more) of the page after ``state["after"]`` in ``keys`` (sorted)."""
    start = bisect.bisect_right(keys, state["after"]) if state["after"] else 0
    stop = min(start + repo.page_size, len(keys))
    return start, stop, stop < len(keys)


def _token(parent: etree._Element, repo: Repository, state: dict[str, Any], total: int, delivered: int,
           last: str | None, more: bool) -> None:
    if not more and state["cursor"] == 0:
        return  # the whole list in one response: no token at all
    cursor = str(state["cursor"])
    if more:
        token = encode_token(repo, state | {"after": last, "cursor": state["cursor"] + delivered})
        _el(parent, "resumptionToken", token, completeListSize=str(total), cursor=cursor)
    else:
        _el(parent, "resumptionToken", "", completeListSize=str(total), cursor=cursor)


def _list(repo: Repository, verb: str, args: dict[str, str]) -> etree._Element:
    state = _list_state(repo, verb, args)
    prefix = state["prefix"]
    if "resumptionToken" not in args:
        _format(prefix)
    wanted = state.get("set")
    if wanted and not repo.index.sets:
        raise OAIError("noSetHierarchy", "this repository has no sets yet")
    selection = (wanted, state.get("from"), state.get("until"))
    # Counted once, for the first page; the tokens carry it (OAI-PMH lets completeListSize be approximate).
    total = state["total"] if isinstance(state.get("total"), int) else repo.index.count(*selection)
    page = repo.index.page(state["after"], repo.page_size + 1, *selection)
    more = len(page) > repo.page_size
    page = page[:repo.page_size]
    if not page:
        raise OAIError("noRecordsMatch", "no record matches" + (" what is left of this list" if state["cursor"] else
                                                                 ": " + _describe(state)))
    body = etree.Element(f"{{{OAI_NS}}}{verb}")
    if verb == "ListIdentifiers":
        for item in page:
            _header(body, repo, item)
    else:
        metadata = repo.metadata(page, prefix)
        for item in page:
            _record(body, repo, item, metadata.get(item.id))
    _token(body, repo, state | {"total": total}, total, len(page), page[-1].id, more)
    return body


def _describe(state: dict[str, Any]) -> str:
    parts = [f"{k}={state[k]}" for k in ("set", "from", "until") if state.get(k)]
    return ", ".join(parts) or "the repository is empty"


def list_sets(repo: Repository, args: dict[str, str]) -> etree._Element:
    state = _list_state(repo, "ListSets", args)
    specs = list(repo.index.sets)
    if not specs:
        raise OAIError("noSetHierarchy", "this repository has no sets yet")
    start, stop, more = _page(repo, state, specs)
    if start >= len(specs):
        raise OAIError("badResumptionToken", "the list of sets this token continues has ended")
    body = etree.Element(f"{{{OAI_NS}}}ListSets")
    for spec in specs[start:stop]:
        node = _el(body, "set")
        _el(node, "setSpec", spec)
        _el(node, "setName", repo.index.sets[spec])
    _token(body, repo, state, len(specs), stop - start, specs[stop - 1], more)
    return body


HANDLERS = {
    "GetRecord": get_record,
    "Identify": identify,
    "ListIdentifiers": lambda repo, args: _list(repo, "ListIdentifiers", args),
    "ListMetadataFormats": list_metadata_formats,
    "ListRecords": lambda repo, args: _list(repo, "ListRecords", args),
    "ListSets": list_sets,
}
