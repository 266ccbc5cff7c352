"""Serve the reconciliation service at ``{base}reconcile`` (Reconciliation Service API 0.2, as OpenRefine uses it).

``GET /reconcile`` answers the manifest; ``queries=`` (GET or POST, form-encoded as OpenRefine
sends it) a batch; ``query=`` a single query (a JSON query object or just a name). Beside it:
``/reconcile/preview?id=`` (HTML for OpenRefine's preview frame), ``/reconcile/view?id=`` (to the
entity), ``/reconcile/suggest/entity?prefix=``, ``/suggest/type``, ``/suggest/property`` and
``/reconcile/flyout/entity?id=``. Every JSON answer to a GET may be wrapped for JSONP with
``callback=``; every answer carries CORS headers. The service is built once per build.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from flask import Blueprint, Response, current_app, request

from docket.reconcile import ReconciliationService, ServiceError, load_entities, mentions
from docket.reconcile.entities import titled
from docket.reconcile.service import MAX_BODY_BYTES, SUGGEST_LIMIT
from docket.serve import error_response
from docket.store import StoreError
from docket.uris import Minter

bp = Blueprint("reconcile", __name__)

_CALLBACK = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$")
_LOCK = threading.Lock()
CACHE = "public, max-age=300"


def minter() -> Minter:
    return current_app.extensions["docket.minter"]


def service() -> ReconciliationService:
    """Return the service for the current build, building it on first use after a switch."""
    store = current_app.extensions["docket.store"].get()
    key = (str(getattr(store, "path", "")), id(store))
    cache: dict[str, Any] = current_app.extensions.setdefault("docket.reconcile", {})
    with _LOCK:
        if cache.get("key") != key:
            settings = current_app.extensions["docket.settings"]
            cache["service"] = ReconciliationService(load_entities(store, minter()), minter(),
                                                     settings.fuzzy_threshold)
            cache["key"] = key
        return cache["service"]


def _mentions(uri: str, limit: int = 5) -> tuple[int, list[tuple[str, str]]]:
    """Count the records linking to ``uri`` and name the first ``limit``, as its page lists them.

    From the build's resource index (one row, and a page of its backlinks) when it has one: asking
    the store reads every record graph that links to it, a hundred thousand for the busiest
    correspondent of a million records.
    """
    from docket.serve.published import published

    pub = published()
    entry = pub.resource_index.lookup(uri)
    if entry is None:  # a build from before the index
        return mentions(pub.store, minter(), uri, limit)
    return entry.backlinks, titled(pub.store, pub.resource_index.backlink_page(entry, 1, limit))


@bp.after_request
def _cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
    if request.method == "OPTIONS":  # Flask answers preflights itself; let browsers keep the answer
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


@bp.errorhandler(StoreError)
def _no_store(exc: StoreError) -> Response:
    return error_response(503, "Service Unavailable", str(exc))


@bp.errorhandler(ServiceError)
def _refused(exc: ServiceError) -> Response:
    titles = {400: "Bad Request", 404: "Not Found", 413: "Payload Too Large"}
    return error_response(exc.status, titles.get(exc.status, "Error"), str(exc))


# --- routes ---------------------------------------------------------------------------------------

@bp.route("/reconcile", methods=["GET", "POST"])
@bp.route("/reconcile/", methods=["GET", "POST"])
def endpoint() -> Response:
    """Answer the manifest, a batch of queries (``queries=``) or a single query (``query=``)."""
    if request.content_length is not None and request.content_length > 3 * MAX_BODY_BYTES:
        raise ServiceError(413, f"the request body is larger than {3 * MAX_BODY_BYTES} bytes; send smaller batches")
    svc = service()
    values = request.form if request.method == "POST" else request.args
    queries = values.get("queries", request.args.get("queries"))
    if queries is None and request.method == "POST" and request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict) and "queries" in body:
            queries = json.dumps(body["queries"])
    if queries is not None:
        return _json(svc.reconcile_batch(svc.parse_batch(queries)))
    single = values.get("query", request.args.get("query"))
    if single is not None:
        return _json({"result": [c.to_json() for c in svc.reconcile(_single(single))]})
    response = _json(svc.manifest())
    response.headers["Cache-Control"] = CACHE
    return response


@bp.route("/reconcile/preview", methods=["GET"])
def preview() -> Response:
    """Answer a small HTML page about one entity, for OpenRefine's preview frame."""
    uri = _known_id()
    html = service().preview(uri, _mentions(uri)) or ""
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = CACHE
    return response


@bp.route("/reconcile/flyout/entity", methods=["GET"])
def flyout() -> Response:
    uri = _known_id()
    html = service().preview(uri, _mentions(uri, limit=3)) or ""
    body = html.split("<body>", 1)[1].rsplit("</body>", 1)[0].strip()
    return _json({"id": uri, "html": body})


@bp.route("/reconcile/view", methods=["GET"])
def view() -> Response:
    """Send a person to the entity's own page (its URI, which is dereferenceable)."""
    uri = _known_id()
    response = Response(f"See Other: {uri}\n", status=303, mimetype="text/plain")
    response.headers["Location"] = uri
    return response


@bp.route("/reconcile/suggest/entity", methods=["GET"])
def suggest_entity() -> Response:
    types = [t for value in request.args.getlist("type") for t in _types(value)]
    cursor = _whole(request.args.get("cursor", "0"), "cursor", 0)
    limit = min(_whole(request.args.get("limit", str(SUGGEST_LIMIT)), "limit", 1), 50)
    return _json(service().suggest_entities(request.args.get("prefix", ""), types, cursor, limit))


@bp.route("/reconcile/suggest/type", methods=["GET"])
def suggest_type() -> Response:
    return _json(service().suggest_types(request.args.get("prefix", "")))


@bp.route("/reconcile/suggest/property", methods=["GET"])
def suggest_property() -> Response:
    return _json(service().suggest_properties(request.args.get("prefix", "")))


# --- helpers -----------------------------------------------------------------------------------------

def _json(data: Any) -> Response:
    """Answer JSON, or JSONP when a GET names a ``callback``."""
    text = json.dumps(data, ensure_ascii=False)
    callback = request.args.get("callback") if request.method == "GET" else None
    if callback:
        if not _CALLBACK.match(callback) or len(callback) > 100:
            raise ServiceError(400, "callback must be a JavaScript function name such as jQuery123_456")
        response = Response(f"/**/{callback}({text});", mimetype="application/javascript")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
    return Response(text, mimetype="application/json")


def _single(text: str) -> dict[str, Any] | str:
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            query = json.loads(stripped)
        except ValueError as exc:
            raise ServiceError(400, f"the query parameter is not JSON: {exc}") from None
        return query
    return stripped


def _id() -> str:
    uri = request.args.get("id", "").strip()
    if not uri:
        raise ServiceError(400, "give the entity's id, e.g. ?id=" + minter().base + "id/agent/zhou-enlai")
    return uri


def _known_id() -> str:
    uri = _id()
    if service().index.get(uri) is None:
        raise ServiceError(404, f"no person, organization, place, event or topic has the id {uri!r}")
    return uri


def _types(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise ServiceError(400, f"type {value!r} is not a JSON list of type ids") from None
        return [str(v) for v in parsed] if isinstance(parsed, list) else [str(parsed)]
    return [value] if value else []


def _whole(text: str, name: str, minimum: int) -> int:
    if not text.strip().isdigit() or int(text) < minimum:
        raise ServiceError(400, f"{name} must be a whole number from {minimum}, not {text!r}")
    return int(text)
