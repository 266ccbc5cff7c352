"""Serve the published dataset over HTTP: ``create_app(settings)`` builds the Flask app.

One blueprint per interface (dereference, sparql, harvest, ...). The store is opened once per
process through a ``StoreHandle``; each request asks the handle for the store, which reopens only
when ``docket build`` or ``docket rollback`` has switched the current build. Every answer drawn from
a build names it in ``X-Docket-Build`` (the build folder's name), so caches, monitors and tests can
tell which build a response came from.
"""

from __future__ import annotations

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from docket.config import Settings
from docket.serve.handle import StoreHandle
from docket.uris import Minter


def create_app(settings: Settings | None = None, handle: StoreHandle | None = None) -> Flask:
    """Build the app for ``settings`` (default: ``Settings.load()``)."""
    settings = settings or Settings.load()
    app = Flask(__name__)
    app.config["DOCKET_SETTINGS"] = settings
    app.extensions["docket.settings"] = settings
    app.extensions["docket.minter"] = Minter.from_settings(settings)
    app.extensions["docket.store"] = handle or StoreHandle(settings)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    _register_errors(app)
    _register_blueprints(app)

    @app.after_request
    def no_sniffing(response: Response) -> Response:
        # Every answer, static files included, is to be read as the type it is labelled with.
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    app.after_request(_name_build)
    if settings.proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app


BUILD_HEADER = "X-Docket-Build"


def _name_build(response: Response) -> Response:
    build = g.get("docket_build")
    if build:
        response.headers[BUILD_HEADER] = build
    return response


def _register_blueprints(app: Flask) -> None:
    # Interfaces register here, one blueprint each.
    from docket.serve.sparql import bp as sparql

    app.register_blueprint(sparql)

    # Dereferencing, pages and search live under the path of the base URI ("/" -> "").
    from urllib.parse import urlsplit

    from docket.serve.dereference import bp as dereference
    from docket.serve.pages import bp as pages
    from docket.serve.search import bp as search

    prefix = urlsplit(app.extensions["docket.minter"].base).path.rstrip("/") or None
    for blueprint in (dereference, pages, search):
        app.register_blueprint(blueprint, url_prefix=prefix)

    # Triple Pattern Fragments and the reconciliation service, also under the base URI's path.
    from docket.serve.fragments import bp as fragments
    from docket.serve.reconcile import bp as reconcile

    for blueprint in (fragments, reconcile):
        app.register_blueprint(blueprint, url_prefix=prefix)

    # OAI-PMH, VoID, dumps and sitemaps, also under the base URI's path (their URLs come from the Minter).
    from docket.serve.harvest import bp as harvest

    app.register_blueprint(harvest, url_prefix=prefix)


def _register_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return error_response(exc.code or 500, exc.name, exc.description or "", exc.get_headers())

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error on %s", request.path)
        return error_response(500, "Internal Server Error", "The server could not answer this request.")


def error_response(status: int, title: str, detail: str, headers=None) -> Response:
    """Answer an error as JSON or a small HTML page, by the client's Accept; never with a stack trace."""
    wants_html = request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"
    if wants_html:
        from markupsafe import escape

        body = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{status} {escape(title)}"
                f"</title></head><body><h1>{status} {escape(title)}</h1><p>{escape(detail)}</p></body></html>")
        response = Response(body, status=status, mimetype="text/html")
    else:
        response = jsonify({"status": status, "title": title, "detail": detail})
        response.status_code = status
    for name, value in headers or []:
        if name.lower() != "content-type":
            response.headers[name] = value
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
