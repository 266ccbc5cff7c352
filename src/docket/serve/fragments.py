"""Serve Triple Pattern Fragments at ``{base}fragments?subject=&predicate=&object=&page=``.

Pages of 100 triples from the union of all graphs, with counts and Hydra controls
(``docket.fragments``). Negotiated like the rest, but with the quad formats too: in TriG, N-Quads
and JSON-LD the data sit in the default graph and the metadata in ``{page}#metadata``, which is
what TPF clients (Comunica) prefer; Turtle, N-Triples and RDF/XML carry both together; HTML shows
a form and the triples. ``?format=`` overrides Accept, as elsewhere.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request

from docket import formats
from docket.fragments import (
    PREFIXES,
    Addresses,
    Fragment,
    Pattern,
    PatternError,
    TooDeep,
    as_quads,
    as_triples,
    select,
    term_text,
)
from docket.serve.negotiate import HTML, HTML_PAGE, Negotiator, NotAcceptable, Representation, rdf
from docket.serve.published import published
from docket.store import StoreError
from docket.store.oxigraph import ox_format
from docket.uris import Minter

bp = Blueprint("fragments", __name__)

CACHE = "public, max-age=300"
EXPOSED = "Link, ETag, Vary, Content-Location"


# On equal quality the first wins, so */* and no Accept at all get Turtle, as everywhere else.
NEGOTIATOR = Negotiator((rdf("turtle"), HTML_PAGE, rdf("trig"), rdf("nquads"), rdf("jsonld"), rdf("ntriples"),
                         rdf("rdfxml")))


def carries_graphs(offer: Representation) -> bool:
    """Say whether the format keeps the metadata in a graph of its own (JSON-LD can, like TriG)."""
    return offer.name == "jsonld" or formats.lookup(offer.name).quads


def minter() -> Minter:
    return current_app.extensions["docket.minter"]


def addresses(m: Minter) -> Addresses:
    def link(pattern: Pattern, page: int | None) -> str:
        texts = pattern.texts()
        return m.fragments(texts.get("subject"), texts.get("predicate"), texts.get("object"), page)

    return Addresses(m.fragments_dataset(), m.fragments_template(), link)


def requested_url(m: Minter) -> str:
    """Return the URL the client asked for, on the public host of the base URI: the page's own IRI."""
    base = urlsplit(m.base)
    query = request.query_string.decode("utf-8", "replace")
    return f"{base.scheme}://{base.netloc}{request.path}" + (f"?{query}" if query else "")


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    response.headers["Access-Control-Allow-Headers"] = "Accept, If-None-Match"
    response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    response.vary.add("Accept")
    return response


@bp.route("/fragments", methods=["GET"])
def fragments() -> Response:
    """Answer one page of a triple pattern fragment."""
    m = minter()
    try:
        choice = NEGOTIATOR.choose(request.accept_mimetypes, request.args.get("format"))
        offer, media_type = choice.representation, choice.media_type
    except NotAcceptable as exc:
        available = ", ".join(r.media_type for r in exc.alternatives)
        return _text(406, f"406 Not Acceptable: fragments are available as {available}")
    except ValueError as exc:
        return _text(400, f"400 Bad Request: {exc}")
    try:
        pattern = Pattern.parse(request.args.get("subject"), request.args.get("predicate"),
                                request.args.get("object"))
    except PatternError as exc:
        return _text(400, f"400 Bad Request: {exc}")
    page_text = request.args.get("page", "1").strip() or "1"
    if not page_text.isdigit() or int(page_text) < 1:
        return _text(400, f"400 Bad Request: page must be a whole number from 1, not {page_text!r}")
    try:
        pub = published()
    except StoreError as exc:
        return _text(503, f"503 Service Unavailable: {exc}")
    settings = current_app.extensions["docket.settings"]
    try:
        fragment = select(pub.store, pattern, int(page_text), known=pub.fragment_counts,
                          every_triple=pub.union_pages, max_offset=settings.fragments_max_offset)
    except TooDeep as exc:
        return _text(400, f"400 Bad Request: {exc}. Narrow the pattern, or download every triple at "
                          f"{m.service('dumps/')}")
    page_url = requested_url(m)
    where = addresses(m)
    if offer.name == HTML:
        body = render_template("fragments.html", f=fragment, where=where, page_url=page_url,
                               texts=pattern.texts(), term_text=term_text,
                               term_link=lambda position, t: where.link(Pattern(**{position: t}), None),
                               formats=[o for o in NEGOTIATOR.representations if o.name != HTML],
                               format_link=lambda name: _with_format(where, fragment, name))
        response = Response(body, mimetype="text/html")
    else:
        response = Response(serialize(fragment, page_url, where, offer), content_type=_content_type(media_type))
    response.headers["Cache-Control"] = CACHE
    response.add_etag()
    return response.make_conditional(request)


def serialize(fragment: Fragment, page_url: str, where: Addresses, offer: Representation) -> bytes:
    """Serialize a page: quads for formats with named graphs, triples for the rest."""
    fmt = ox_format(offer.name)
    if carries_graphs(offer):
        return ox.serialize(as_quads(fragment, page_url, where), format=fmt,
                            **({"prefixes": PREFIXES} if offer.name == "trig" else {}))
    triples = as_triples(fragment, page_url, where)
    if offer.name in ("turtle", "rdfxml"):
        return ox.serialize(triples, format=fmt, prefixes=PREFIXES)
    return ox.serialize(triples, format=fmt)


def _with_format(where: Addresses, fragment: Fragment, name: str) -> str:
    url = where.link(fragment.pattern, fragment.page if fragment.page > 1 else None)
    return f"{url}{'&' if '?' in url else '?'}format={name}"


def _content_type(media_type: str) -> str:
    if media_type.startswith("text/") or media_type.endswith("json") or media_type in (
            "application/n-triples", "application/n-quads", "application/trig", "application/rdf+xml"):
        return f"{media_type}; charset=utf-8"
    return media_type


def _text(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")
