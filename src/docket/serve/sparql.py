"""Serve ``/sparql``: the SPARQL 1.1 Protocol, read-only, with time, size, row and concurrency limits.

Requests: GET ``query=``, POST form-encoded (``query=``), POST ``application/sparql-query``;
``default-graph-uri``/``named-graph-uri`` (in the URL, or in the form) replace the query's own
``FROM``/``FROM NAMED``. Other parameters are ignored (SPARQLWrapper adds ``format``, ``output``,
``results``). GET without a query answers the service description, or the query page to a browser.

Answers: SELECT and ASK in SPARQL JSON (also without an Accept header: the format every client
reads), XML, CSV or TSV; CONSTRUCT and DESCRIBE in Turtle (also without Accept), JSON-LD, RDF/XML or
N-Triples; chosen by Accept with q-values, 406 when nothing acceptable can be sent.

Refusals: update by GET 400; update by POST (``application/sparql-update`` or form ``update=``)
403; two queries, a wrong or missing media type, a charset other than UTF-8, a syntax error, SERVICE,
an unknown FROM graph: 400; a query or body over ``sparql_max_query_bytes``: 413; more than
``sparql_max_concurrent_per_client`` queries at once from one address: 429; past
``sparql_timeout``: 503. The default graph is the union of all named graphs (``sd:UnionDefaultGraph``).
"""

from __future__ import annotations

import math
import os
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs

from flask import Blueprint, Flask, Response, current_app, render_template, request
from werkzeug.datastructures import MIMEAccept, MultiDict

from docket import formats as rdf_formats
from docket import result_formats
from docket.config import Settings
from docket.memo import SizedCache
from docket.serve import negotiate
from docket.serve.published import published
from docket.sparql.description import GRAPH_RESULT_FORMATS, describe
from docket.sparql.runner import Job, Outcome, QueryRunner, QueryTimeout, QueryTooLarge, RunnerError
from docket.store import OxigraphStore, StoreError, TripleStore

bp = Blueprint("sparql", __name__)

QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
FORM_TYPE = "application/x-www-form-urlencoded"
TRUNCATED_HEADER = "SPARQL-Truncated"
ROW_CAP_HEADER = "SPARQL-Row-Cap"
_RUNNER = "docket.sparql.runner"
_LIMITER = "docket.sparql.limiter"
CACHE_HEADER = "SPARQL-Cache"  # hit: answered from this process's cache of answers (``_answers``)
_CACHE = "docket.sparql.answers"
_EXPOSED = f"{TRUNCATED_HEADER}, {ROW_CAP_HEADER}, {CACHE_HEADER}, Retry-After"

# Graph answers: docket.formats names, the first is the default (Turtle). Aliases answer with their
# own media type, as a client that asked only for application/json expects.
_GRAPH_OFFERS: list[tuple[str, str]] = [(rdf_formats.lookup(n).media_type, n) for n in GRAPH_RESULT_FORMATS]
_GRAPH_OFFERS += [("application/json", "jsonld"), ("application/x-turtle", "turtle"), ("text/plain", "ntriples")]
_RESULT_OFFERS: list[tuple[str, str]] = [(media, f.name) for media, f in result_formats.media_types()]


class ProtocolError(Exception):
    """A request the protocol does not allow; answered with ``status`` and the message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


# --- the route ------------------------------------------------------------------------------------


@bp.route("/sparql", methods=["GET", "POST", "OPTIONS"], provide_automatic_options=False)
@bp.route("/sparql/", methods=["GET", "POST", "OPTIONS"], provide_automatic_options=False)
def endpoint() -> Response:
    settings: Settings = current_app.extensions["docket.settings"]
    if request.method == "OPTIONS":
        return _preflight()
    try:
        query, dataset = _read_request(settings)
        if query is None:
            return _service(settings)
        return _answer(settings, query, dataset)
    except ProtocolError as exc:
        return _error(exc.status, str(exc), exc.headers)


def _answer(settings: Settings, query: str, dataset: tuple[list[str], list[str]] | None) -> Response:
    if len(query.encode("utf-8")) > settings.sparql_max_query_bytes:
        raise ProtocolError(413, f"the query is longer than this endpoint accepts "
                                 f"({settings.sparql_max_query_bytes} bytes)")
    try:
        store = current_app.extensions["docket.store"].get()
    except StoreError as exc:
        raise ProtocolError(503, f"no data to query yet: {exc}", {"Retry-After": "60"}) from None
    # The query is parsed and checked by the worker, inside the time limit; both possible answers
    # are negotiated here, and the query's form picks one.
    accept = request.accept_mimetypes
    results = _negotiate(_RESULT_OFFERS, accept)
    graphs = _negotiate(_GRAPH_OFFERS, accept)
    job = Job(
        query=query,
        store_path=str(store.path) if isinstance(store, OxigraphStore) else "",
        remote=_remote(store),
        result_format=results[0] if results else None,
        graph_format=graphs[0] if graphs else None,
        row_cap=settings.sparql_row_cap,
        default_graphs=tuple(dataset[0]) if dataset else None,
        named_graphs=tuple(dataset[1]) if dataset and dataset[1] else None,
        prefixes=_prefixes(),
        base_iri=request.base_url,
    )
    cache = _answers(settings) if job.store_path else None  # a remote store may change at any time
    key = (query, job.store_path, job.result_format, job.graph_format, job.row_cap, job.default_graphs,
           job.named_graphs, job.base_iri)
    outcome = cache.get(key) if cache is not None else None
    hit = outcome is not None
    if outcome is None:
        outcome = _run(settings, job)
        if outcome.error is not None:
            _raise_for(outcome, accept)
        if cache is not None:
            cache.put(key, outcome, len(outcome.body))
    chosen = graphs if outcome.form in ("construct", "describe") else results
    assert chosen is not None  # the worker answers not_acceptable otherwise
    content_type = chosen[1]
    response = Response(outcome.body, status=200, content_type=content_type)
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = _EXPOSED
    response.headers[ROW_CAP_HEADER] = str(settings.sparql_row_cap)
    if outcome.truncated:
        response.headers[TRUNCATED_HEADER] = "true"
    if cache is not None:
        response.headers[CACHE_HEADER] = "hit" if hit else "miss"
    return response


def _run(settings: Settings, job: Job) -> Outcome:
    retry = str(max(1, math.ceil(settings.sparql_timeout)))
    with _client_slot(settings):
        try:
            return runner(current_app).run(job)
        except QueryTimeout as exc:
            raise ProtocolError(503, f"{exc}; simplify it (LIMIT, narrower patterns) or try again later",
                                {"Retry-After": retry}) from None
        except QueryTooLarge as exc:  # it ran alone: asking again would end the same way
            raise ProtocolError(503, f"{exc}; simplify it (LIMIT, narrower patterns, no DISTINCT or ORDER BY "
                                     "over a large result)") from None
        except RunnerError as exc:  # busy, crashed (out of memory ...) or shutting down
            raise ProtocolError(503, str(exc), {"Retry-After": retry}) from None


def _answers(settings: Settings) -> SizedCache[Outcome] | None:
    """Return this process's cache of answers, keyed by everything that shapes one.

    A build never changes once published and every build has its own store folder, so an answer
    is good for as long as the query names the same store: a switch leaves the old ones unused.
    """
    if settings.sparql_cache_bytes <= 0:
        return None
    found = current_app.extensions.get(_CACHE)
    if found is None or found[0] != os.getpid():  # a forked server process starts its own
        found = current_app.extensions[_CACHE] = (os.getpid(), SizedCache(settings.sparql_cache_bytes))
    return found[1]


def _preflight() -> Response:
    # Browsers ask before POSTing application/sparql-query from another origin (a query editor).
    response = Response(status=204)
    response.headers["Allow"] = "GET, HEAD, POST, OPTIONS"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _remote(store: TripleStore) -> tuple[str, str | None] | None:
    if isinstance(store, OxigraphStore):
        return None
    from docket.store.remote import RemoteStore

    if isinstance(store, RemoteStore):
        return store.query_url, store.union_param
    raise ProtocolError(503, f"/sparql cannot query a {type(store).__name__}", {"Retry-After": "60"})


# --- reading the request --------------------------------------------------------------------------


def _read_request(settings: Settings) -> tuple[str | None, tuple[list[str], list[str]] | None]:
    """Return (query, dataset) from the request; dataset is None when the protocol names no graphs."""
    url = request.args
    if request.method in ("GET", "HEAD"):
        if "update" in url:
            raise ProtocolError(400, "SPARQL Update is never accepted by GET (and this endpoint is read-only)")
        return _one_query(url.getlist("query"), allow_none=True), _dataset(url)
    length = request.content_length
    limit = settings.sparql_max_query_bytes + 4096  # room for the form's other fields
    if length is not None and length > limit:
        raise ProtocolError(413, f"the request body is larger than this endpoint accepts ({limit} bytes)")
    mimetype = request.mimetype
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if mimetype == UPDATE_TYPE or (mimetype == FORM_TYPE and "update" in url):
        raise _read_only()
    if mimetype not in (QUERY_TYPE, FORM_TYPE):
        shown = mimetype or "none"
        raise ProtocolError(400, f"a SPARQL query is POSTed as {QUERY_TYPE} or {FORM_TYPE}, not as {shown}")
    if charset not in ("utf-8", "utf8"):
        raise ProtocolError(400, f"the request body must be UTF-8, not {charset}")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise ProtocolError(413, f"the request body is larger than this endpoint accepts ({limit} bytes)")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(400, f"the request body is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    if mimetype == QUERY_TYPE:
        if "query" in url:
            raise ProtocolError(400, "the query is given twice: in the body and in the URL")
        return text, _dataset(url)
    try:
        form = MultiDict(
            (key, value) for key, values in parse_qs(text, keep_blank_values=True, errors="strict").items()
            for value in values
        )
    except UnicodeDecodeError:
        raise ProtocolError(400, "the form is not valid UTF-8 once percent-decoded") from None
    if "update" in form:
        if "query" in form:
            raise ProtocolError(400, "a request holds either a query or an update, not both")
        raise _read_only()
    queries = form.getlist("query") + url.getlist("query")
    if not queries:
        raise ProtocolError(400, "the form has no query= field")
    merged = MultiDict(list(url.items(multi=True)) + list(form.items(multi=True)))
    return _one_query(queries), _dataset(merged)


def _one_query(queries: list[str], allow_none: bool = False) -> str | None:
    if len(queries) > 1:
        raise ProtocolError(400, f"exactly one query parameter is allowed; this request has {len(queries)}")
    if not queries:
        if allow_none:
            return None
        raise ProtocolError(400, "no query given")
    if not queries[0].strip():
        raise ProtocolError(400, "the query is empty")
    return queries[0]


def _dataset(params: MultiDict) -> tuple[list[str], list[str]] | None:
    default = [g for g in params.getlist("default-graph-uri") if g]
    named = [g for g in params.getlist("named-graph-uri") if g]
    for name, graphs in (("default-graph-uri", default), ("named-graph-uri", named)):
        for graph in graphs:
            # The engine refuses such a name with an error the client would see as a 500.
            if any(c in graph for c in '<>"{}|^`\\ \n\r\t') or ":" not in graph:
                raise ProtocolError(400, f"{name} is not an IRI: {graph[:200]!r}")
    return (default, named) if default or named else None


def _read_only() -> ProtocolError:
    return ProtocolError(403, "this endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR ...) "
                              "is not accepted")


# --- negotiation ----------------------------------------------------------------------------------


def _negotiate(offers: list[tuple[str, str]], accept: MIMEAccept) -> tuple[str, str] | None:
    """Return (format name, Content-Type) of the best offer for the Accept header, or None."""
    if not accept:
        media, name = offers[0]
    else:
        best = accept.best_match([media for media, _ in offers])
        if best is None:
            return None
        media, name = best, dict(offers)[best]
    return name, _content_type(media)


def _raise_for(outcome: Outcome, accept: MIMEAccept) -> None:
    """Turn a worker's error into the protocol's answer."""
    kind, message = outcome.error_kind, outcome.error or ""
    if kind == "refused":
        raise ProtocolError(outcome.status or 400, message)
    if kind == "not_acceptable":
        offers = _GRAPH_OFFERS if outcome.form in ("construct", "describe") else _RESULT_OFFERS
        offered = ", ".join(dict.fromkeys(media for media, _ in offers))
        raise ProtocolError(406, f"none of the media types this {outcome.form.upper()} query can be answered "
                                 f"in is acceptable ({accept.to_header()}); offered: {offered}")
    if kind == "syntax":
        raise ProtocolError(400, f"SPARQL syntax error: {message}")
    if kind == "unsupported":
        raise ProtocolError(400, message)
    if kind == "remote":
        raise ProtocolError(502, f"the triple store behind this endpoint failed: {message}")
    current_app.logger.error("SPARQL query failed in the engine: %s", message)
    raise ProtocolError(500, f"the query failed in the engine: {message}")


def _content_type(media: str) -> str:
    if media.startswith("text/") or media in ("application/n-triples",):
        return f"{media}; charset=utf-8"
    return media


def _prefixes() -> dict[str, str]:
    return _prefixes_for(str(current_app.extensions["docket.minter"].ontology))


@lru_cache(maxsize=8)
def _prefixes_for(ontology: str) -> dict[str, str]:
    """Return the prefixes Turtle and RDF/XML answers are written with: the mapping's, and ``docket:``."""
    from docket.mapping.vocab import PREFIXES

    return {**{name: str(ns) for name, ns in PREFIXES.items()}, "docket": ontology}


# --- the service description and the query page --------------------------------------------------


def _service(settings: Settings) -> Response:
    try:
        choice = negotiate.by_accept(request.accept_mimetypes)
    except negotiate.NotAcceptable as exc:
        raise ProtocolError(406, str(exc)) from None
    if choice.representation.is_html:
        response = Response(render_template("sparql.html", examples=examples(settings), endpoint=request.base_url,
                                            settings=settings, editor=editor_installed()),
                            content_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = QUERY_PAGE_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer-when-downgrade"
    else:
        # The build knows the dataset-wide graphs and the size without asking the store (from its
        # record index: its manifest lists every record, 300 MB at 1,000,000).
        graphs: list[str] = []
        triples = None
        try:
            sizes = published().sizes
        except (StoreError, ValueError, OSError):
            sizes = None
        if sizes is not None:
            minter = current_app.extensions["docket.minter"]
            graphs = [str(minter.graph(name)) for name in sizes[0]]
            triples = sizes[1].get("triples", 0) + sizes[0].get("build", 0)
        description = describe(request.base_url, settings, graphs, triples)
        rdflib_name = rdf_formats.lookup(choice.representation.name).rdflib
        body = description.serialize(format=rdflib_name, encoding="utf-8")
        response = Response(body, content_type=choice.content_type)
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# The query page's editor (YASGUI) is copied here by `make assets` from its npm package; it is not
# committed. Without it the page is the plain form, which works without JavaScript anyway.
VENDOR = Path(__file__).with_name("static") / "vendor"
EDITOR_FILES = ("yasgui.min.js", "yasgui.min.css")

# Scripts, styles and queries from this server only; YASGUI's calls to other hosts (vocabulary
# look-ups for autocompletion) are switched off by the page and refused here besides.
QUERY_PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                     "img-src 'self' data:; font-src 'self'; form-action 'self'; base-uri 'none'; "
                     "frame-ancestors 'none'")


def editor_installed() -> bool:
    """Tell whether the SPARQL editor's files are in ``static/vendor``."""
    return all((VENDOR / name).is_file() for name in EDITOR_FILES)


def examples(settings: Settings) -> list[tuple[str, str, str]]:
    """Return (title, explanation, query) for the query page's examples about the collection."""
    prefixes = ("PREFIX rico: <https://www.ica.org/standards/RiC/ontology#>\n"
                "PREFIX dcterms: <http://purl.org/dc/terms/>\n")
    return [
        ("Records and their titles", "The first hundred records, by title.",
         prefixes + "SELECT ?record ?title WHERE {\n  ?record a rico:Record ; dcterms:title ?title .\n}\n"
                    "ORDER BY ?title\nLIMIT 100"),
        ("Records by sender", "Who sent how many records.",
         prefixes + "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
                    "SELECT ?sender (SAMPLE(?name) AS ?label) (COUNT(?record) AS ?records) WHERE {\n"
                    "  ?record rico:hasSender ?sender .\n  OPTIONAL { ?sender skos:prefLabel ?name }\n}\n"
                    "GROUP BY ?sender\nORDER BY DESC(?records)"),
        ("Records per year", "How many records carry a date in each year.",
         prefixes + "SELECT ?year (COUNT(DISTINCT ?record) AS ?records) WHERE {\n"
                    "  ?record a rico:Record ; dcterms:date ?date .\n  BIND(SUBSTR(STR(?date), 1, 4) AS ?year)\n}\n"
                    "GROUP BY ?year\nORDER BY ?year"),
        ("Titles containing a word", "Records whose title mentions a telegram (case-insensitive).",
         prefixes + "SELECT ?record ?title WHERE {\n  ?record a rico:Record ; dcterms:title ?title .\n"
                    "  FILTER(CONTAINS(LCASE(STR(?title)), \"telegram\"))\n}\nLIMIT 100"),
        ("Named graphs", "Every named graph and its size: one per record, plus authorities and build metadata.",
         "SELECT ?graph (COUNT(*) AS ?triples) WHERE {\n  GRAPH ?graph { ?s ?p ?o }\n}\n"
         "GROUP BY ?graph\nORDER BY DESC(?triples)\nLIMIT 100"),
        ("Describe one record", "Everything said about one record, as Turtle.",
         prefixes + "CONSTRUCT { ?record ?p ?o } WHERE {\n  { SELECT ?record WHERE { ?record a rico:Record } LIMIT 1 }\n"
                    "  ?record ?p ?o .\n}"),
    ]


# --- limits ---------------------------------------------------------------------------------------


class _ClientLimiter:
    """Count the queries each client address is running in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}

    def enter(self, client: str, limit: int) -> bool:
        with self._lock:
            if self._running.get(client, 0) >= limit:
                return False
            self._running[client] = self._running.get(client, 0) + 1
            return True

    def leave(self, client: str) -> None:
        with self._lock:
            left = self._running.get(client, 1) - 1
            if left:
                self._running[client] = left
            else:
                self._running.pop(client, None)


@contextmanager
def _client_slot(settings: Settings) -> Iterator[None]:
    limiter: _ClientLimiter = current_app.extensions.setdefault(_LIMITER, _ClientLimiter())
    client = request.remote_addr or "unknown"
    if not limiter.enter(client, settings.sparql_max_concurrent_per_client):
        raise ProtocolError(429, f"too many queries from {client} at once (at most "
                                 f"{settings.sparql_max_concurrent_per_client}); wait for one to finish",
                            {"Retry-After": "2"})
    try:
        yield
    finally:
        limiter.leave(client)


def runner(app: Flask) -> QueryRunner:
    """Return this process's query runner for ``app``, starting its workers on first use."""
    current = app.extensions.get(_RUNNER)
    if current is None or current.pid != os.getpid():
        with _runner_lock:
            current = app.extensions.get(_RUNNER)
            if current is None or current.pid != os.getpid():
                settings: Settings = app.extensions["docket.settings"]
                current = QueryRunner(settings.sparql_workers, settings.sparql_timeout,
                                      settings.sparql_threads, settings.sparql_worker_memory)
                app.extensions[_RUNNER] = current
    return current


def close_runner(app: Flask) -> None:
    """Stop ``app``'s query workers (the server's shutdown, and tests, call this)."""
    current = app.extensions.pop(_RUNNER, None)
    if current is not None and current.pid == os.getpid():
        current.close()


_runner_lock = threading.Lock()


def _error(status: int, message: str, headers: dict[str, str]) -> Response:
    from docket.serve import error_response

    titles = {400: "Bad Request", 403: "Forbidden", 406: "Not Acceptable", 413: "Content Too Large",
              429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
              503: "Service Unavailable"}
    response = error_response(status, titles.get(status, "Error"), message)
    for name, value in headers.items():
        response.headers[name] = value
    response.headers["Access-Control-Expose-Headers"] = _EXPOSED
    return response
