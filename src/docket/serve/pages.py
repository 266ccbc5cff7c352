"""Render pages for people: records, agents/places/events/topics, home, browse, tombstones, 404.

Descriptions arrive as triples (``describe.Description``); the functions here turn them into plain
view dictionaries and render Jinja templates from ``templates/``. Pages work without JavaScript and
link every resource by its URI (``{base}id/...``), which the server answers with 303 to this page.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Callable

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request

from docket.serve.paging import read_page
from docket.store.base import is_true
from docket.mapping import DATASET_DESCRIPTION, DATASET_TITLE
from docket.serve import cite, negotiate
from docket.serve.describe import DCT, RDF_TYPE, RDFS_LABEL, BacklinkPage, Description, ValidationStatus
from docket.serve.timeline import timeline_svg
from docket.uris import Minter

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")

SCHEMA = "https://schema.org/"
RICO = "https://www.ica.org/standards/RiC/ontology#"
PROV = "http://www.w3.org/ns/prov#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OWL = "http://www.w3.org/2002/07/owl#"
FOAF = "http://xmlns.com/foaf/0.1/"
SEM = "http://semanticweb.cs.vu.nl/2009/11/sem/"
EDM = "http://www.europeana.eu/schemas/edm/"
CACHE_PAGE = "public, max-age=300"

KIND_NAMES = {"record": "Record", "agent": "Person or organization", "place": "Place", "event": "Event",
              "topic": "Topic", "type": "Document type", "collection": "Collection",
              "scheme": "Concept scheme", "dataset": "Dataset"}
ROLE_NAMES = {"hasSender": "sender", "creator": "sender", "hasAddressee": "addressee", "recipient": "addressee",
              "hasReceiver": "intermediary", "hasAuthor": "author", "translator": "translator",
              "subject": "subject", "spatial": "place", "mentions": "mentioned", "Participant": "participant",
              "Translator": "translator", "Commissioner": "commissioned", "isPartOf": "collection",
              "type": "type", "hasDocumentaryFormType": "type", "funder": "funder"}


# Pages run no script and load nothing from elsewhere; say so, so a browser refuses anything else.
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                           "base-uri 'none'; frame-ancestors 'none'")


def minter() -> Minter:
    return current_app.extensions["docket.minter"]


def protect(response: Response) -> Response:
    """Add the security headers every HTML answer carries."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["Referrer-Policy"] = "no-referrer-when-downgrade"
    return response


bp.after_request(protect)


def local_name(uri: str) -> str:
    return re.split(r"[#/]", uri.rstrip("/#"))[-1]


@bp.app_template_filter("human_date")
def _human_date(iso: str | None) -> str:
    return cite.human_date(iso)


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    m = current_app.extensions.get("docket.minter")
    return {"dataset_title": DATASET_TITLE, "m": m, "kind_names": KIND_NAMES}


# --- records -------------------------------------------------------------------------------------------

def _linked(desc: Description, uri: str) -> dict[str, Any]:
    types = desc.types(uri)
    kind = "person" if FOAF + "Person" in types else "organization" if FOAF + "Organization" in types else ""
    return {"uri": uri, "label": desc.label(uri) or local_name(uri), "kind": kind}


def _iris(desc: Description, subject: str, predicate: str) -> list[str]:
    return [o.value for o in desc.objects(subject, predicate) if isinstance(o, ox.NamedNode)]


def _texts(desc: Description, subject: str, predicate: str) -> list[str]:
    return [o.value for o in desc.objects(subject, predicate) if isinstance(o, ox.Literal)]


def _roles(desc: Description, uri: str, name: str, fallback: str) -> list[dict[str, Any]]:
    """Agents in role nodes ``{uri}#{name}-N``, in list order, with the name as written; else ``fallback``."""
    # Compiled once per call and tried only on rdf:type triples: this runs for every role on every
    # record page, and matching each triple anew was four tenths of the page's time.
    pattern = re.compile(re.escape(uri) + f"#{name}-(\\d+)")
    nodes = sorted(
        (int(m.group(1)), t.subject.value) for t in desc.triples
        if t.predicate.value == RDF_TYPE and (m := pattern.fullmatch(t.subject.value))
    )
    out = []
    for _, node in nodes:
        agent = desc.value(node, "http://www.w3.org/1999/02/22-rdf-syntax-ns#value") or desc.value(node, PROV + "agent")
        if agent:
            item = _linked(desc, agent)
            written = desc.value(node, f"{minter().ontology}nameAsWritten")
            item["written"] = written if written and written != item["label"] else None
            out.append(item)
    if not out and fallback:
        out = [_linked(desc, a) for a in _iris(desc, uri, fallback)]
        for item in out:
            item["written"] = None
    return out


def _language(uri_or_text: str, desc: Description) -> dict[str, str]:
    if uri_or_text.startswith("http"):
        return {"uri": uri_or_text, "label": desc.label(uri_or_text) or local_name(uri_or_text),
                "code": local_name(uri_or_text) if "iso639" in uri_or_text else ""}
    return {"uri": "", "label": uri_or_text, "code": ""}


def record_view(desc: Description, m: Minter, record_id: str) -> dict[str, Any]:
    """Collect what the record page shows from the record's description."""
    uri = desc.resource
    original, translation = f"{uri}#original", f"{uri}#translation"
    date = desc.objects(uri, DCT + "date")
    type_uri = (_iris(desc, uri, DCT + "type") or [None])[0]
    rights_uri = (_iris(desc, uri, DCT + "license") or _iris(desc, uri, EDM + "rights") or [None])[0]
    sources = desc.objects(uri, DCT + "source")
    body = (desc.value(uri, SCHEMA + "text") or "").strip()
    view: dict[str, Any] = {
        "id": record_id,
        "uri": uri,
        "page_url": m.description(uri, "html"),
        "dataset": str(m.dataset()),
        "title": desc.value(uri, DCT + "title") or record_id,
        "subtitle": desc.value(uri, f"{m.ontology}subtitle"),
        "date": date[0].value if date else None,
        "other_dates": _texts(desc, uri, f"{m.ontology}otherStatedDate"),
        "available": desc.value(uri, DCT + "available"),
        "modified": desc.modified(),
        "type": _linked(desc, type_uri) if type_uri else None,
        "senders": _roles(desc, uri, "sender", RICO + "hasSender") or [_linked(desc, a) | {"written": None}
                                                                      for a in _iris(desc, uri, DCT + "creator")],
        "authors": _roles(desc, uri, "author", RICO + "hasAuthor"),
        "addressees": _roles(desc, uri, "addressee", RICO + "hasAddressee"),
        "intermediaries": _roles(desc, uri, "intermediary", RICO + "hasReceiver"),
        "participants": _roles(desc, uri, "participant", ""),
        "translators": _roles(desc, uri, "translation-translator", SCHEMA + "translator"),
        "commissioners": _roles(desc, uri, "translation-commissioner", ""),
        "translation_statement": desc.value(translation, DCT + "description"),
        "original_languages": [_language(o.value, desc) for o in desc.objects(original, DCT + "language")],
        "languages": [_language(o.value, desc) for o in desc.objects(uri, DCT + "language")],
        "holders": [_linked(desc, a) for a in _iris(desc, original, RICO + "hasOrHadHolder")
                    + _iris(desc, uri, RICO + "hasOrHadHolder")],
        "summary": desc.value(uri, DCT + "abstract"),
        "salutation": desc.value(uri, f"{m.ontology}salutation"),
        "paragraphs": [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()],
        "signature": desc.value(uri, f"{m.ontology}signature"),
        "citations": sorted(_texts(desc, uri, DCT + "bibliographicCitation")),
        "rights": desc.value(uri, DCT + "rights"),
        "rights_uri": rights_uri,
        "rights_label": (desc.label(rights_uri) if rights_uri else None),
        "credit": desc.value(uri, SCHEMA + "creditText"),
        "funders": [_linked(desc, a) for a in _iris(desc, uri, SCHEMA + "funder")],
        "source_url": sources[0].value if sources else None,
        "source_is_link": bool(sources) and isinstance(sources[0], ox.NamedNode),
        "collections": [_linked(desc, a) for a in _iris(desc, uri, DCT + "isPartOf")],
        "subjects": sorted((_linked(desc, a) for a in _iris(desc, uri, DCT + "subject")), key=lambda a: a["label"]),
        "places": sorted((_linked(desc, a) for a in _iris(desc, uri, DCT + "spatial")), key=lambda a: a["label"]),
        "mentions": sorted((_linked(desc, a) for a in _iris(desc, uri, SCHEMA + "mentions")), key=lambda a: a["label"]),
        "identifiers": sorted(set(_texts(desc, uri, DCT + "identifier"))),
    }
    view["language_code"] = next((lang["code"] for lang in view["languages"] if lang["code"]), None)
    return view


def formats_for(m: Minter, uri: str) -> list[dict[str, str]]:
    names = {"turtle": "Turtle", "html": "HTML", "jsonld": "JSON-LD", "rdfxml": "RDF/XML", "ntriples": "N-Triples"}
    return [{"name": names[r.name], "media_type": r.media_type, "url": m.description(uri, r.extension)}
            for r in negotiate.REPRESENTATIONS]


def render_record(desc: Description, m: Minter, record_id: str, status: ValidationStatus) -> str:
    view = record_view(desc, m, record_id)
    return render_template(
        "record.html", r=view, validation=status, formats=formats_for(m, desc.resource),
        chicago=cite.chicago(view), bibtex=cite.bibtex(view),
        schema_json=cite.script_json(cite.schema_org(view)),
    )


# --- other resources -------------------------------------------------------------------------------------

_SKIP = {RDF_TYPE, RDFS_LABEL, SKOS + "prefLabel", SKOS + "altLabel", "http://www.w3.org/2000/01/rdf-schema#comment"}


def resource_view(desc: Description, m: Minter) -> dict[str, Any]:
    uri = desc.resource
    kind = (m.split(uri) or ("", ""))[0]
    pref = [o for o in desc.objects(uri, SKOS + "prefLabel") if isinstance(o, ox.Literal)]
    other_labels = [{"text": o.value, "lang": o.language} for o in pref
                    if o.language and o.language != "en" and o.value != desc.label(uri)]
    properties = []
    for t in desc.triples:
        if t.subject.value != uri or t.predicate.value in _SKIP:
            continue
        o = t.object
        value = ({"uri": o.value, "label": desc.label(o.value) or o.value} if isinstance(o, ox.NamedNode)
                 else {"text": o.value, "lang": getattr(o, "language", None)})
        properties.append({"property": t.predicate.value, "name": _property_name(t.predicate.value), "value": value})
    properties.sort(key=lambda p: (p["name"], str(p["value"])))
    incoming = sorted(
        ({"uri": t.subject.value, "label": desc.label(t.subject.value) or t.subject.value,
          "name": _property_name(t.predicate.value)}
         for t in desc.triples if t.object.value == uri and not isinstance(t.object, ox.Literal)
         and isinstance(t.subject, ox.NamedNode) and "/id/record/" not in t.subject.value),
        key=lambda x: (x["name"], x["label"]))
    return {
        "uri": uri,
        "kind": kind,
        "kind_name": ("Person" if FOAF + "Person" in desc.types(uri)
                      else "Organization" if FOAF + "Organization" in desc.types(uri)
                      else KIND_NAMES.get(kind, "Resource")),
        "label": desc.label(uri) or local_name(uri),
        "other_labels": other_labels,
        "alt_labels": sorted(_texts(desc, uri, SKOS + "altLabel")),
        "comment": desc.value(uri, "http://www.w3.org/2000/01/rdf-schema#comment"),
        "unreconciled": is_true(desc.value(uri, f"{m.ontology}unreconciled")),
        "types": [{"uri": t, "label": desc.label(t) or local_name(t)} for t in desc.types(uri)],
        "properties": properties,
        "incoming": incoming,
    }


def _property_name(uri: str) -> str:
    name = local_name(uri)
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower()
    return {"same as": "same as", "exact match": "same as"}.get(words, words)


def _role_names(item) -> list[str]:
    names = [ROLE_NAMES.get(local_name(p)) for p in item.predicates] + [ROLE_NAMES.get(local_name(r)) for r in item.roles]
    return sorted({n for n in names if n})


def render_resource(desc: Description, m: Minter, links: BacklinkPage, page_url: Callable[[int], str]) -> str:
    view = resource_view(desc, m)
    items = [{"uri": i.record, "title": i.title, "date": i.date_text, "roles": _role_names(i)} for i in links.items]
    return render_template("resource.html", x=view, links=links, items=items, page_url=page_url,
                           formats=formats_for(m, desc.resource))


def render_ontology(desc: Description, m: Minter) -> str:
    terms = []
    for subject in sorted({t.subject.value for t in desc.triples if isinstance(t.subject, ox.NamedNode)}):
        if not subject.startswith(str(m.ontology)):
            continue
        terms.append({"uri": subject, "name": local_name(subject), "label": desc.label(subject),
                      "comment": desc.value(subject, "http://www.w3.org/2000/01/rdf-schema#comment"),
                      "types": [local_name(t) for t in desc.types(subject)],
                      "parents": [{"uri": o, "name": local_name(o)} for o in
                                  _iris(desc, subject, "http://www.w3.org/2000/01/rdf-schema#subClassOf")
                                  + _iris(desc, subject, "http://www.w3.org/2000/01/rdf-schema#subPropertyOf")]})
    ontology = m.ontology_document()
    return render_template("ontology.html", terms=terms, title=desc.label(ontology) or "Docket ontology",
                           comment=desc.value(ontology, "http://www.w3.org/2000/01/rdf-schema#comment"),
                           formats=[{"name": f["name"], "media_type": f["media_type"],
                                     "url": m.ontology_document(f["url"].rsplit(".", 1)[-1])}
                                    for f in formats_for(m, str(m.dataset()))])


def render_tombstone(m: Minter, record_id: str, stone) -> str:
    replacement = str(m.record(stone.replaced_by)) if stone.replaced_by else None
    return render_template("tombstone.html", uri=str(m.record(record_id)), record_id=record_id, stone=stone,
                           replacement=replacement)


def not_found_response(uri: str | None, detail: str | None = None) -> Response:
    """Answer 404: an HTML page with ways on for people, JSON for programs.

    ``detail`` is what another interface said when it aborted with 404; it is kept in both forms.
    """
    wants_html = request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"
    if not wants_html:
        from flask import jsonify

        response = jsonify({"status": 404, "title": "Not Found",
                            "detail": detail or f"Nothing is published at {uri or request.path}.",
                            "search": minter().page("search")})
        response.status_code = 404
    else:
        words = " ".join(re.split(r"[-_./]+", (uri or request.path).rsplit("/", 1)[-1])).strip()
        hits = []
        try:
            from docket.serve.published import published
            from docket.serve.search import SearchIndex

            hits = SearchIndex(published().search_path).search(words, 1, 5, any_word=True).hits if words else []
        except Exception:  # the 404 page must not fail because search is unavailable
            hits = []
        response = Response(render_template("not_found.html", uri=uri or request.url, words=words, hits=hits,
                                            detail=detail),
                            status=404, mimetype="text/html")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.vary.add("Accept")
    return response


@bp.app_errorhandler(404)
def _not_found(exc) -> Response:
    from werkzeug.exceptions import NotFound

    detail = exc.description if getattr(exc, "description", None) != NotFound.description else None
    return not_found_response(None, detail)


# --- home, browse, search -------------------------------------------------------------------------------

def html_page(body: str) -> Response:
    response = Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = CACHE_PAGE
    response.headers["Content-Language"] = "en"
    response.set_etag(hashlib.sha256(body.encode("utf-8")).hexdigest()[:40])
    return response.make_conditional(request)


def _stats() -> dict[str, Any] | None:
    from docket.serve.published import published

    return published().statistics


@bp.route("/", methods=["GET"])
def home() -> Response:
    stats = _stats()
    m = minter()
    svg = timeline_svg(stats["years"], lambda y: m.page("browse", "year", y)) if stats else ""
    return html_page(render_template("home.html", stats=stats, timeline=svg, description=DATASET_DESCRIPTION))


@bp.route("/browse", methods=["GET"])
def browse() -> Response:
    return html_page(render_template("browse.html", stats=_stats(), facet=None))


@bp.route("/browse/<facet>", methods=["GET"])
def browse_facet(facet: str) -> Response:
    if facet not in ("year", "type", "correspondent"):
        return not_found_response(None)
    stats = _stats()
    items: list[Any] = []
    page, size = _page(), 100
    pages = 1
    if stats and facet == "correspondent":
        everyone = stats["correspondents"]
        pages = max(1, -(-len(everyone) // size))
        items = everyone[(page - 1) * size: page * size]
    return html_page(render_template("browse.html", stats=stats, facet=facet, items=items, page=page, pages=pages))


@bp.route("/browse/year/<year>", methods=["GET"])
def browse_year(year: str) -> Response:
    if not re.fullmatch(r"\d{4}", year):
        return not_found_response(None)
    from docket.serve.published import published
    from docket.serve.search import SearchIndex, SearchUnavailable

    try:
        results = SearchIndex(published().search_path).by_year(year, _page(), 50)
    except SearchUnavailable:
        return unavailable()
    return html_page(render_template("year.html", year=year, results=results, stats=_stats()))


def _page() -> int:
    return read_page(request.args.get("page"))


def unavailable() -> Response:
    response = Response("503 Service Unavailable: this build has no search index yet.\n", status=503,
                        mimetype="text/plain")
    response.headers["Retry-After"] = "60"
    return response
