"""Dereference Docket's URIs: ``id/`` answers 303 to ``doc/``, descriptions are negotiated.

``GET {base}id/{kind}/{slug}`` -> ``303 See Other`` to ``{base}doc/{kind}/{slug}.{ext}`` for the
representation the client prefers; ``GET {base}doc/{kind}/{slug}[.ext][?format=][&page=]`` answers
the description. Withdrawn records answer ``410`` with a tombstone, merged ones ``301`` to the
survivor, unknown ones ``404`` with a page that helps. Every answer carries ``Vary: Accept``, CORS,
``Link`` headers (alternates, licence, dataset) and caching headers; ``HEAD`` answers the same
headers as ``GET`` (Flask runs the GET and drops the body).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from typing import Iterable
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from docket.serve.paging import read_page
from docket.mapping.vocab import PREFIXES as VOCAB_PREFIXES
from docket.serve import describe, negotiate
from docket.serve.negotiate import Choice, NotAcceptable, Representation, UnknownFormat
from docket.serve.published import Published, parse_time, published
from docket.store import StoreError
from docket.store.oxigraph import ox_format
from docket.uris import KINDS, Minter, is_slug

bp = Blueprint("dereference", __name__)

CACHE_DESCRIPTION = "public, max-age=3600"
CACHE_REDIRECT = "public, max-age=86400"
CACHE_GONE = "public, max-age=86400"
CACHE_MISSING = "public, max-age=300"
PAGE_SIZE = 50
EXPOSED = "Link, ETag, Last-Modified, Location, Content-Location, Vary, X-Docket-Build"
VOID_IN_DATASET = "http://rdfs.org/ns/void#inDataset"
EDM_RIGHTS = "http://www.europeana.eu/schemas/edm/rights"
LICENSE = describe.DCT + "license"


def minter() -> Minter:
    return current_app.extensions["docket.minter"]


def page_size() -> int:
    return int(current_app.config.get("DOCKET_PAGE_SIZE", PAGE_SIZE))


# --- CORS and Vary on everything this blueprint answers ------------------------------------------

@bp.after_request
def _cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    response.headers["Access-Control-Allow-Headers"] = "Accept, If-None-Match, If-Modified-Since"
    response.vary.add("Accept")
    from docket.serve.pages import protect

    return protect(response)


# --- routes ------------------------------------------------------------------------------------------

@bp.route("/id/<kind>/<slug>", methods=["GET"])
def resource(kind: str, slug: str) -> Response:
    """Answer a resource URI with 303 to its description in the representation the client prefers."""
    m = minter()
    if kind not in KINDS or not is_slug(slug):
        return not_found()
    try:
        choice = negotiate.choose(request.accept_mimetypes, request.args.get("format"))
    except NotAcceptable as exc:
        return not_acceptable(exc, m.resource(kind, slug))
    except UnknownFormat as exc:
        return bad_format(exc)
    pub = published()
    uri = str(m.resource(kind, slug))
    state = resource_state(pub, m, kind, slug)
    if state == "missing":
        return not_found(str(uri))
    if isinstance(state, tuple):  # merged: 301 to the survivor's URI
        return moved(state[1], keep_query=True)
    if state == "gone":
        return gone(pub, slug, choice)
    target = m.description(uri, choice.representation.extension)
    response = Response(f"See Other: {target}\n", status=303, mimetype="text/plain")
    response.headers["Location"] = target
    response.headers["Cache-Control"] = CACHE_REDIRECT
    add_links(response, m, uri, license=None)
    return response


@bp.route("/doc/<kind>/<segment>", methods=["GET"])
def description(kind: str, segment: str) -> Response:
    """Answer a description document, by extension, ``?format=`` or Accept."""
    m = minter()
    if kind not in KINDS:
        return not_found()
    pub = published()
    slug, extension = resolve_segment(pub, kind, segment)
    if not is_slug(slug):
        return not_found()
    uri = str(m.resource(kind, slug))
    try:
        choice = negotiate.choose(request.accept_mimetypes, request.args.get("format"),
                                  extension.extension if extension else None)
    except NotAcceptable as exc:
        return not_acceptable(exc, uri)
    except UnknownFormat as exc:
        return bad_format(exc)
    state = resource_state(pub, m, kind, slug)
    if state == "missing":
        return not_found(str(uri))
    if isinstance(state, tuple):
        survivor = state[1]
        ext = extension.extension if extension else None
        return moved(m.description(survivor, ext), keep_query=True)
    if state == "gone":
        return gone(pub, slug, choice)
    page = page_number()
    if kind == "record":
        return record_response(pub, m, slug, uri, choice, extension)
    return resource_response(pub, m, uri, choice, extension, page)


@bp.route("/ontology", methods=["GET"])
def ontology() -> Response:
    return ontology_response(None)


@bp.route("/ontology.<ext>", methods=["GET"])
def ontology_with_extension(ext: str) -> Response:
    representation = negotiate.by_extension(ext)
    if representation is None:
        return not_found()
    return ontology_response(representation)


# --- what a URI stands for -----------------------------------------------------------------------

def resolve_segment(pub: Published, kind: str, segment: str) -> tuple[str, Representation | None]:
    """Split ``slug.ext``; a record ID that itself ends like an extension (``12345.html``) wins."""
    if kind == "record" and (segment in pub.records or pub.records.tombstone(segment) is not None):
        return segment, None
    return negotiate.split_extension(segment)


def resource_state(pub: Published, m: Minter, kind: str, slug: str):
    """Return "present", "gone", "missing", or ("merged", survivor URI)."""
    if kind == "record":
        if slug in pub.records:
            return "present"
        stone = pub.records.tombstone(slug)
        if stone is None:
            return "missing"
        if stone.replaced_by and stone.reason == "merged":
            return ("merged", str(m.record(stone.replaced_by)))
        return "gone"
    uri = str(m.resource(kind, slug))
    survivor, present = describe.presence(pub.store, uri)
    if survivor is not None and survivor != uri:
        return ("merged", survivor)
    return "present" if present else "missing"


def page_number() -> int:
    return read_page(request.args.get("page"))


# --- responses ---------------------------------------------------------------------------------------

def record_response(pub: Published, m: Minter, record_id: str, uri: str, choice: Choice,
                    extension: Representation | None) -> Response:
    desc = describe.describe_record(pub.store, m, record_id, pub.record_graphs, pub.records.modified(record_id))
    if not desc:
        return not_found(uri)
    license = first_iri(desc, uri, (LICENSE, EDM_RIGHTS)) or dataset_license(pub)
    if choice.representation.is_html:
        from docket.serve import pages

        status = describe.validation_status(pub.store, m, record_id, pub.record_graphs)
        body = pages.render_record(desc, m, record_id, status).encode("utf-8")
    else:
        body = serialize(desc.triples, choice.representation, m, uri)
    return finish(body, choice, uri, extension, license, pub.record_modified(record_id) or pub.created)


def resource_response(pub: Published, m: Minter, uri: str, choice: Choice,
                      extension: Representation | None, page: int) -> Response:
    # The build's index names the graphs describing the resource and counts its backlinks, so neither
    # reads the thousands of copies a popular topic or agent has in the record graphs.
    entry = pub.resource_index.lookup(uri)
    desc = describe.describe_resource(pub.store, m, uri, entry.graphs if entry else None)
    size = page_size()
    ranked = pub.resource_index.backlink_page(entry, page, size) if entry else None
    links = describe.backlinks(pub.store, uri, page, size, entry.backlinks if entry else None, ranked)
    if links.page > links.pages:
        return not_found(uri)
    doc = m.description(uri)

    def page_url(n: int) -> str:
        return document_url(doc, extension, n)

    if choice.representation.is_html:
        from docket.serve import pages

        body = pages.render_resource(desc, m, links, page_url).encode("utf-8")
    else:
        view = page_url(links.page)
        triples = [*desc.triples, *describe.backlink_triples(links, doc + "#records", view, page_url)]
        body = serialize(triples, choice.representation, m, uri)
    response = finish(body, choice, uri, extension, dataset_license(pub), pub.created)
    for rel, n in (("first", 1), ("prev", links.previous), ("next", links.next), ("last", links.pages)):
        if n:
            response.headers.add("Link", f'<{page_url(n)}>; rel="{rel}"')
    return response


def ontology_response(extension: Representation | None) -> Response:
    m = minter()
    try:
        choice = negotiate.choose(request.accept_mimetypes, request.args.get("format"),
                                  extension.extension if extension else None)
    except NotAcceptable as exc:
        return not_acceptable(exc, m.ontology_document())
    except UnknownFormat as exc:
        return bad_format(exc)
    pub = published()
    resource = m.ontology_document()
    desc = describe.describe_graph(pub.store, str(m.graph("ontology")), resource)
    if not desc:
        return not_found(resource)
    if choice.representation.is_html:
        from docket.serve import pages

        body = pages.render_ontology(desc, m).encode("utf-8")
    else:
        body = serialize(desc.triples, choice.representation, m, resource)
    alternates = {r: m.ontology_document(r.extension) for r in negotiate.REPRESENTATIONS}
    return finish(body, choice, resource, extension, dataset_license(pub), pub.created,
                  alternates=alternates, canonical=m.ontology_document())


def finish(body: bytes, choice: Choice, uri: str, extension: Representation | None, license: str | None,
           modified: _dt.datetime | None, *, alternates: dict[Representation, str] | None = None,
           canonical: str | None = None) -> Response:
    """Label, link, date and tag a description; answer 304 when the client's copy is current."""
    m = minter()
    response = Response(body, status=200, content_type=choice.content_type)
    if choice.representation.is_html:
        response.headers["Content-Language"] = "en"
    alternates = alternates or {r: m.description(uri, r.extension) for r in negotiate.REPRESENTATIONS}
    if extension is None:
        # Negotiated: say which document was sent, so caches and people can name it.
        response.headers["Content-Location"] = alternates[choice.representation]
    add_links(response, m, uri, license, alternates, canonical or m.description(uri))
    response.headers["Cache-Control"] = CACHE_DESCRIPTION
    response.set_etag(hashlib.sha256(body).hexdigest()[:40])
    if modified is not None:
        response.last_modified = modified
    return response.make_conditional(request)


def add_links(response: Response, m: Minter, uri: str, license: str | None,
              alternates: dict[Representation, str] | None = None, canonical: str | None = None) -> None:
    alternates = alternates if alternates is not None else {
        r: m.description(uri, r.extension) for r in negotiate.REPRESENTATIONS}
    for representation, url in alternates.items():
        response.headers.add("Link", f'<{url}>; rel="alternate"; type="{representation.media_type}"')
    if canonical:
        response.headers.add("Link", f'<{canonical}>; rel="canonical"')
        response.headers.add("Link", f'<{uri}>; rel="describes"')
    if license:
        response.headers.add("Link", f'<{license}>; rel="license"')
    dataset = str(m.dataset())
    response.headers.add("Link", f'<{dataset}>; rel="collection"')
    response.headers.add("Link", f'<{dataset}>; rel="{VOID_IN_DATASET}"')


def document_url(doc: str, extension: Representation | None, page: int) -> str:
    """Return the URL of page ``page`` of a description in the form the client asked for."""
    url = f"{doc}.{extension.extension}" if extension else doc
    params = {}
    if extension is None and request.args.get("format"):
        params["format"] = request.args["format"]
    params["page"] = str(page)
    return f"{url}?{urlencode(params)}"


def first_iri(desc: describe.Description, subject: str, predicates: Iterable[str]) -> str | None:
    """Return the IRI object of the first of ``predicates`` that ``subject`` has, in that order."""
    # One pass over the triples: for an RDF answer this is the only lookup, not worth an index.
    wanted = {p: n for n, p in enumerate(predicates)}
    best: tuple[int, str] | None = None
    for t in desc.triples:
        rank = wanted.get(t.predicate.value)
        if rank is not None and isinstance(t.object, ox.NamedNode) and t.subject.value == subject:
            if best is None or rank < best[0]:
                best = (rank, t.object.value)
    return best[1] if best else None


def dataset_license(pub: Published) -> str | None:
    """Return the dataset's licence (``dcterms:license`` of ``{base}id/dataset/docket``), if stated."""
    found = pub.__dict__.get("_dataset_license", "?")
    if found == "?":
        rows = pub.store.query(
            f"SELECT ?l WHERE {{ {describe.iri(str(minter().dataset()))} <{LICENSE}> ?l }} LIMIT 1",
            union_default_graph=True)
        found = next((row["l"].value for row in rows), None)
        pub.__dict__["_dataset_license"] = found
    return found


# --- serializations ----------------------------------------------------------------------------------

def prefixes(m: Minter) -> dict[str, str]:
    out = {name: str(ns) for name, ns in VOCAB_PREFIXES.items()}
    out["docket"] = str(m.ontology)
    out["hydra"] = describe.HYDRA
    # No record: prefix: its hash parts would need escaping (record:x\#event); full IRIs read better.
    for kind in ("agent", "place", "event", "topic", "type"):
        out[kind] = f"{m.base}id/{kind}/"
    return out


def ordered(triples: list[ox.Triple], resource: str | None) -> list[ox.Triple]:
    """Put the described resource first, then its hash parts, then the rest, each by subject."""
    if not resource:
        return triples
    parts = resource + "#"
    keyed = []
    for n, t in enumerate(triples):
        subject = t.subject.value
        keyed.append((0 if subject == resource else 1 if subject.startswith(parts) else 2, subject, n))
    keyed.sort()  # plain tuples compare in C; the index keeps equal subjects in their order
    return [triples[n] for _, _, n in keyed]


def serialize(triples: list[ox.Triple], representation: Representation, m: Minter,
              resource: str | None = None) -> bytes:
    """Serialize with pyoxigraph; Turtle and RDF/XML get the usual prefixes."""
    fmt = ox_format(representation.name)
    triples = ordered(triples, resource)
    if representation.name in ("turtle", "rdfxml"):
        return ox.serialize(triples, format=fmt, prefixes=prefixes(m))
    return ox.serialize(triples, format=fmt)


# --- answers other than 200 -------------------------------------------------------------------------

def moved(target: str, keep_query: bool = False) -> Response:
    if keep_query and request.query_string:
        target = f"{target}?{request.query_string.decode('latin-1')}"
    response = Response(f"Moved Permanently: {target}\n", status=301, mimetype="text/plain")
    response.headers["Location"] = target
    response.headers["Cache-Control"] = CACHE_REDIRECT
    return response


def gone(pub: Published, record_id: str, choice: Choice) -> Response:
    """Answer a withdrawn record: 410 with a tombstone page or tombstone triples."""
    m = minter()
    stone = pub.records.tombstone(record_id)
    assert stone is not None, "resource_state said gone"
    uri = str(m.record(record_id))
    if choice.representation.is_html:
        from docket.serve import pages

        body = pages.render_tombstone(m, record_id, stone).encode("utf-8")
    else:
        body = serialize(tombstone_triples(m, record_id, stone), choice.representation, m, uri)
    response = Response(body, status=410, content_type=choice.content_type)
    response.headers["Cache-Control"] = CACHE_GONE
    add_links(response, m, uri, None, {}, None)
    withdrawn = parse_time(stone.withdrawn)
    if withdrawn is not None:
        response.last_modified = withdrawn
    return response


def tombstone_triples(m: Minter, record_id: str, stone) -> list[ox.Triple]:
    record = ox.NamedNode(str(m.record(record_id)))
    xsd = describe.XSD

    def t(p: str, o) -> ox.Triple:
        return ox.Triple(record, ox.NamedNode(p), o)

    triples = [
        t(describe.DCT + "identifier", ox.Literal(record_id)),
        t(f"{m.ontology}withdrawn", ox.Literal(stone.withdrawn, datatype=ox.NamedNode(xsd + "date"))),
        t(describe.DCT + "description", ox.Literal(f"Withdrawn: {stone.reason}", language="en")),
        t(VOID_IN_DATASET, ox.NamedNode(str(m.dataset()))),
    ]
    if stone.replaced_by:
        triples.append(t(describe.DCT + "isReplacedBy", ox.NamedNode(str(m.record(stone.replaced_by)))))
    return triples


def not_acceptable(exc: NotAcceptable, uri: str) -> Response:
    m = minter()
    lines = ["406 Not Acceptable: this resource is available as", ""]
    alternates = {}
    for r in exc.alternatives:
        url = m.description(uri, r.extension) if "/id/" in uri else f"{uri}.{r.extension}"
        alternates[r] = url
        lines.append(f"  {r.media_type}\t{url}")
    response = Response("\n".join(lines) + "\n", status=406, mimetype="text/plain")
    add_links(response, m, uri, None, alternates, None)
    return response


def bad_format(exc: UnknownFormat) -> Response:
    return Response(f"400 Bad Request: {exc}\n", status=400, mimetype="text/plain")


def not_found(uri: str | None = None) -> Response:
    """Answer 404: a page that helps for people, a short JSON answer for programs."""
    from docket.serve import pages

    response = pages.not_found_response(uri)
    response.headers["Cache-Control"] = CACHE_MISSING
    return response


@bp.app_errorhandler(StoreError)
def _no_store(exc: StoreError) -> Response:
    current_app.logger.error("store unavailable: %s", exc)
    response = Response("503 Service Unavailable: the dataset is not published yet or is being "
                        "switched; try again shortly.\n", status=503, mimetype="text/plain")
    response.headers["Retry-After"] = "30"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
