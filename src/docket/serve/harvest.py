"""Serve harvesting: ``/oai`` (OAI-PMH 2.0), ``/.well-known/void``, ``/dumps/...`` and the sitemaps.

Everything is read from the current build's folder (``docket.harvest`` wrote it there at build
time); what is parsed is cached per build, so a switch of builds is followed at the next request.
A build made without those files (an older one) still answers OAI-PMH, VoID and sitemaps, computed
from its store on first use; its dumps are missing (404) until the next ``docket build``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import threading
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, request, send_file
from rdflib import Graph

from docket.config import Settings
from docket.harvest import dumps as dumps_module
from docket.harvest import sitemap as sitemaps
from docket.harvest.index import load_index
from docket.harvest.oai import MEDIA_TYPE, Repository, respond
from docket.harvest.void import VOID_FILE, describe_dataset
from docket.serve import negotiate
from docket.serve.published import Published, published
from docket.store import StoreError
from docket.store.oxigraph import ox_format
from docket.uris import Minter

bp = Blueprint("harvest", __name__)

_LOCK = threading.Lock()


def _settings() -> Settings:
    return current_app.extensions["docket.settings"]


def _minter() -> Minter:
    return current_app.extensions["docket.minter"]


def _cached(pub: Published, name: str, make: Any) -> Any:
    """Return ``make()`` computed once per app, build and store; a new build replaces the old values.

    Kept on the app itself (not keyed by ``id(app)``, which a new app may reuse).
    """
    cache: dict[str, tuple[Any, Any]] = current_app.extensions.setdefault("docket.harvest", {})
    key = f"{pub.folder}\0{name}"
    found = cache.get(key)
    if found is None or found[0] is not pub.store:
        with _LOCK:
            found = cache.get(key)
            if found is None or found[0] is not pub.store:
                found = (pub.store, make())
                for old in [k for k in cache if k.endswith(f"\0{name}") and k != key]:
                    del cache[old]
                cache[key] = found
    return found[1]


def _published() -> Published:
    try:
        return published()
    except StoreError as exc:
        abort(503, description=str(exc))


# --- OAI-PMH -------------------------------------------------------------------------------------

@bp.route("/oai", methods=["GET", "POST"])
def oai() -> Response:
    # The response date is read before the build is: a response from a build about to be replaced
    # is dated before the next build's datestamps, so harvesting ``from`` it misses nothing.
    now = _dt.datetime.now(_dt.timezone.utc)
    pub = _published()
    repo = _cached(pub, "oai", lambda: Repository(
        load_index(pub.folder, pub.store, pub.records.build_id, lambda: pub.manifest, _minter()), pub.store,
        _settings(), _minter(), pub.record_graphs))
    if request.method == "POST":
        params = list(request.form.items(multi=True))
    else:
        params = list(request.args.items(multi=True))
    response = Response(respond(repo, params, now), mimetype="text/xml")
    response.headers["Content-Type"] = MEDIA_TYPE
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --- VoID ----------------------------------------------------------------------------------------

def _void_graph(pub: Published) -> Graph:
    path = pub.folder / VOID_FILE
    if path.is_file():
        return Graph().parse(path, format="turtle")
    return describe_dataset(pub.store, pub.manifest, _settings(), dumps_module.read_dumps(pub.folder), _minter())


@bp.route("/.well-known/void", methods=["GET"])
def void() -> Response:
    pub = _published()
    try:
        choice = negotiate.choose(request.accept_mimetypes, request.args.get("format"))
    except negotiate.UnknownFormat as exc:
        abort(400, description=str(exc))
    except negotiate.NotAcceptable as exc:
        abort(406, description=str(exc))
    representation = choice.representation
    # People following the link in a browser get the Turtle as text rather than a download.
    name = "turtle" if representation.is_html else representation.name
    body = _cached(pub, f"void:{name}", lambda: _serialize(_void_graph(pub), name))
    content_type = "text/plain; charset=utf-8" if representation.is_html else choice.content_type
    response = Response(body, content_type=content_type)
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    if pub.created is not None:
        response.last_modified = pub.created
    response.add_etag()
    return response.make_conditional(request)


def _serialize(graph: Graph, name: str) -> bytes:
    # pyoxigraph writes every format without rdflib's deprecation warnings (JSON-LD) and fast.
    triples = ox.parse(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    prefixes = {p: str(ns) for p, ns in graph.namespaces() if p}
    return ox.serialize(triples, format=ox_format(name), prefixes=prefixes)


# --- dumps ---------------------------------------------------------------------------------------

@bp.route("/dumps/", methods=["GET"])
def dump_index() -> Response:
    pub = _published()
    files = dumps_module.read_dumps(pub.folder)
    m = _minter()
    return current_app.json.response({
        "build": pub.records.build_id,
        "created": pub.records.created,
        "license": _settings().dataset_license or None,
        "files": [{"url": m.service(f"dumps/{d.name}"), "name": d.name, "format": d.format,
                   "media_type": d.media_type, "encoding": "gzip", "bytes": d.bytes, "sha256": d.sha256,
                   "last_modified": d.last_modified, "statements": d.statements} for d in files],
    })


@bp.route("/dumps/<name>", methods=["GET"])
def dump_file(name: str) -> Response:
    pub = _published()
    found = {d.name: d for d in dumps_module.read_dumps(pub.folder)}.get(name)
    if found is None:
        abort(404, description=f"no dump named {name!r} in this build; /dumps/ lists them")
    path: Path = pub.folder / dumps_module.FOLDER / found.name
    # The file is a gzip archive: served as such, so its bytes (and checksum) arrive unchanged.
    response = send_file(path, mimetype=dumps_module.GZIP_MEDIA_TYPE, as_attachment=True,
                         download_name=found.name, conditional=True, etag=found.sha256,
                         last_modified=pub.created, max_age=3600)
    # RFC 9530: the digest of the whole file, so a client can check what it assembled from ranges.
    response.headers["Repr-Digest"] = f"sha-256=:{_b64(found.sha256)}:"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _b64(hexdigest: str) -> str:
    return base64.b64encode(bytes.fromhex(hexdigest)).decode()


# --- sitemaps ------------------------------------------------------------------------------------

@bp.route("/sitemap.xml", methods=["GET"])
def sitemap_index() -> Response:
    return _sitemap(sitemaps.INDEX_NAME)


@bp.route("/sitemap-<int:n>.xml", methods=["GET"])
def sitemap_page(n: int) -> Response:
    return _sitemap(sitemaps.page_name(n))


def _sitemap(name: str) -> Response:
    pub = _published()
    data = sitemaps.read_sitemap(pub.folder, name)
    if data is None and not (pub.folder / sitemaps.FOLDER).is_dir():
        files = _cached(pub, "sitemaps", lambda: sitemaps.render(
            sitemaps.sitemap_urls(pub.store, pub.manifest, _minter()), _minter(), pub.manifest.created))
        data = files.get(name)
    if data is None:
        abort(404, description=f"no sitemap {name} in this build")
    response = Response(data, content_type="application/xml; charset=utf-8")
    if pub.created is not None:
        response.last_modified = pub.created
    response.add_etag()
    return response.make_conditional(request)
