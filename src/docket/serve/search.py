"""Search the records' title, summary and full text with an SQLite FTS5 index built with the store.

``build_search_index(store, path)`` runs when the build is made and writes ``search.sqlite`` into the
build folder, so the index always matches the store it sits beside. ``SearchIndex.search`` answers
queries: words are matched as whole tokens (accents folded, case ignored), all words must occur,
``"quoted phrases"`` must occur as written, a trailing ``*`` matches a prefix; ranked by BM25 with the
title weighted above the summary and the summary above the body.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from markupsafe import Markup, escape

from docket.serve.describe import PREFIXES, run_query
from docket.serve.paging import Paged, read_page

FORMAT = "2"  # 2: rowids in date order
MARK_START, MARK_END = "\ue000", "\ue001"  # private-use characters: never in the records' text
_WEIGHTS = "bm25(records, 0.0, 10.0, 5.0, 1.0)"
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SearchUnavailable(RuntimeError):
    """The build has no search index (it was made without one, or is being written)."""


def build_search_index(store, path: Path) -> int:
    """Index every published record of ``store`` into ``path``; return how many were indexed.

    ``store`` is a ``TripleStore`` or a bare ``pyoxigraph.Store`` (a build not yet committed).
    The file is written beside its final name and renamed into place.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    rows = run_query(store, PREFIXES + """SELECT ?id ?r ?title ?summary ?body ?date ?type WHERE {
  GRAPH ?g { ?r a rico:Record ; dcterms:identifier ?id ; dcterms:title ?title .
    FILTER(STRENDS(STR(?g), CONCAT("/", STR(?id))))
    OPTIONAL { ?r dcterms:abstract ?summary } OPTIONAL { ?r <https://schema.org/text> ?body }
    OPTIONAL { ?r dcterms:date ?date } OPTIONAL { ?r dcterms:type ?type } }
}""")
    staging = tmp.with_name(tmp.name + ".staging")
    staging.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("CREATE VIRTUAL TABLE records USING fts5(id UNINDEXED, title, summary, body, "
                   "tokenize = 'unicode61 remove_diacritics 2')")
        # ``n`` (the rowid) follows date then ID, and each record's text has the same rowid: ranking
        # then breaks ties by rowid, which FTS5 has at hand, instead of joining every match to its date.
        db.execute("CREATE TABLE facts (n INTEGER PRIMARY KEY, id TEXT UNIQUE, uri TEXT, title TEXT, date TEXT, "
                   "type TEXT)")
        db.execute("CREATE INDEX facts_date ON facts (date, id)")
        # The records come from the store in no useful order; they wait in a file beside, to be
        # numbered in order, instead of in memory (bodies of a million records).
        db.execute("ATTACH ? AS staging", (str(staging),))
        db.execute("CREATE TABLE staging.rows (id TEXT PRIMARY KEY, uri TEXT, title TEXT, date TEXT, type TEXT, "
                   "summary TEXT, body TEXT)")

        def text(row, name: str) -> str:
            return row[name].value if row[name] is not None else ""

        # OR IGNORE: a record with two identifiers (its own and Docket's) comes twice; the first stays.
        db.executemany("INSERT OR IGNORE INTO staging.rows VALUES (?, ?, ?, ?, ?, ?, ?)", (
            (row["id"].value, text(row, "r"), text(row, "title"), text(row, "date"), text(row, "type"),
             text(row, "summary"), text(row, "body")) for row in rows))
        db.execute("INSERT INTO facts (id, uri, title, date, type) "
                   "SELECT id, uri, title, date, type FROM staging.rows ORDER BY date, id")
        db.execute("INSERT INTO records (rowid, id, title, summary, body) SELECT f.n, s.id, s.title, s.summary, "
                   "s.body FROM facts f JOIN staging.rows s ON s.id = f.id ORDER BY f.n")
        count = db.execute("SELECT COUNT(*) FROM facts").fetchone()[0]
        db.execute("INSERT INTO meta VALUES ('format', ?), ('records', ?)", (FORMAT, str(count)))
        db.execute("INSERT INTO records(records) VALUES ('optimize')")
        db.commit()
        db.execute("DETACH staging")
    finally:
        db.close()
        staging.unlink(missing_ok=True)
    os.replace(tmp, path)
    return count


def fts_query(text: str, any_word: bool = False) -> str:
    """Turn what a person typed into an FTS5 query that cannot be a syntax error.

    Every word and quoted phrase becomes a quoted FTS5 string (all must match); a trailing ``*``
    on a word is kept as a prefix search. Operators typed by the person are matched as words.
    ``any_word`` asks for records with any of the words instead (for suggestions).
    """
    parts = []
    text = _CONTROL.sub(" ", text)  # SQLite ends a string at NUL; no control character is a word
    for phrase, word in _TOKEN.findall(text):
        token = phrase if phrase else word
        prefix = not phrase and token.endswith("*") and len(token.rstrip("*")) > 0
        token = token.rstrip("*") if prefix else token
        token = token.strip()
        if not token or not re.search(r"\w", token):
            continue
        quoted = '"' + token.replace('"', '""') + '"'
        parts.append(quoted + ("*" if prefix else ""))
    return (" OR " if any_word else " ").join(parts)


@dataclass
class Hit:
    id: str
    uri: str
    title: str
    date: str
    type: str
    snippet: str  # plain text with MARK_START/MARK_END around the matches

    def to_json(self) -> dict:
        return {"id": self.id, "uri": self.uri, "title": self.title, "date": self.date or None,
                "type": self.type or None,
                "snippet": self.snippet.replace(MARK_START, "").replace(MARK_END, ""),
                "highlights": re.findall(f"{MARK_START}(.*?){MARK_END}", self.snippet)}


@dataclass
class Results(Paged):
    query: str
    total: int
    page: int
    size: int
    hits: list[Hit] = field(default_factory=list)


class SearchIndex:
    """Read one build's index; open it per request (SQLite connections are cheap, read-only here)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise SearchUnavailable(f"no search index at {self.path}; the build made none")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)

    def search(self, text: str, page: int = 1, size: int = 20, any_word: bool = False) -> Results:
        """Return page ``page`` of the records matching ``text``, best first."""
        query = fts_query(text, any_word)
        page = max(1, page)
        results = Results(text, 0, page, size)
        if not query:
            return results
        db = self._connect()
        try:
            results.total = db.execute("SELECT COUNT(*) FROM records WHERE records MATCH ?", (query,)).fetchone()[0]
            # One ranking pass, its ties broken by rowid (date, then ID: see ``build_search_index``;
            # in an index of format 1, the order records were indexed in). A common word matches
            # most of a million records: joining every match to its date took a second pass.
            ranked = db.execute(f"SELECT rowid FROM records WHERE records MATCH ? ORDER BY {_WEIGHTS}, rowid "
                                "LIMIT ? OFFSET ?", (query, size, (page - 1) * size)).fetchall()
            # Facts and snippet for the page alone: in the ranking query SQLite would make a snippet
            # for every match before sorting.
            for (rowid,) in ranked:
                found = db.execute(
                    f"""SELECT f.id, f.uri, r.title, f.date, f.type,
                               snippet(records, -1, '{MARK_START}', '{MARK_END}', '…', 24)
                        FROM records r JOIN facts f ON f.id = r.id WHERE records MATCH ? AND r.rowid = ?""",
                    (query, rowid)).fetchone()
                if found is not None:
                    results.hits.append(Hit(*found))
        finally:
            db.close()
        return results

    def by_year(self, year: str, page: int = 1, size: int = 50) -> Results:
        """Return page ``page`` of the records dated in ``year``, by date (no text query)."""
        page = max(1, page)
        results = Results("", 0, page, size)
        db = self._connect()
        try:
            # A range, not LIKE, so the index on date is used; "1954" <= "1954-06-20" < "1955".
            span = (year, str(int(year) + 1).zfill(4))
            results.total = db.execute("SELECT COUNT(*) FROM facts WHERE date >= ? AND date < ?", span).fetchone()[0]
            rows = db.execute("SELECT id, uri, title, date, type, '' FROM facts WHERE date >= ? AND date < ? "
                              "ORDER BY date, id LIMIT ? OFFSET ?", (*span, size, (page - 1) * size)).fetchall()
        finally:
            db.close()
        results.hits = [Hit(*row) for row in rows]
        return results

    def count(self) -> int:
        db = self._connect()
        try:
            return db.execute("SELECT COUNT(*) FROM facts").fetchone()[0]
        finally:
            db.close()


# --- the interface: HTML results and a JSON API ------------------------------------------------------

bp = Blueprint("search", __name__)


@bp.after_request
def _protect(response: Response) -> Response:
    from docket.serve.pages import protect

    return protect(response)
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def highlighted(snippet: str) -> Markup:
    """Escape a snippet and mark the matches with ``<mark>``."""
    return Markup(str(escape(snippet)).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


def _arguments() -> tuple[str, int, int]:
    query = request.args.get("q", "").strip()[:500]
    page = read_page(request.args.get("page"))
    try:
        size = min(MAX_PAGE_SIZE, max(1, int(request.args.get("size", str(PAGE_SIZE)))))
    except ValueError:
        size = PAGE_SIZE
    return query, page, size


def _index() -> SearchIndex:
    from docket.serve.published import published

    return SearchIndex(published().search_path)


def _unavailable(exc: SearchUnavailable, as_json: bool) -> Response:
    current_app.logger.error("%s", exc)
    detail = "This build has no search index yet; try again shortly."
    response = (jsonify({"status": 503, "title": "Service Unavailable", "detail": detail}) if as_json
                else Response(f"503 Service Unavailable: {detail}\n", mimetype="text/plain"))
    response.status_code = 503
    response.headers["Retry-After"] = "60"
    return response


@bp.route("/search", methods=["GET"])
def search_page() -> Response:
    query, page, size = _arguments()
    try:
        results = _index().search(query, page, size) if query else Results("", 0, 1, size)
    except SearchUnavailable as exc:
        return _unavailable(exc, as_json=False)
    hits = [{"uri": h.uri, "title": h.title, "date": h.date, "snippet": highlighted(h.snippet)} for h in results.hits]
    response = Response(render_template("search.html", query=query, results=results, hits=hits), mimetype="text/html")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Content-Language"] = "en"
    return response


@bp.route("/api/search", methods=["GET"])
def search_api() -> Response:
    """Answer ``?q=&page=&size=`` with JSON: total, page links and hits with highlighted snippets."""
    m = current_app.extensions["docket.minter"]
    query, page, size = _arguments()
    if not query:
        response = jsonify({"status": 400, "title": "Bad Request", "detail": "give the words to search for as ?q="})
        response.status_code = 400
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    try:
        results = _index().search(query, page, size)
    except SearchUnavailable as exc:
        return _unavailable(exc, as_json=True)

    def link(n: int | None) -> str | None:
        return m.page("api", "search", q=query, page=n, size=size if size != PAGE_SIZE else None) if n else None

    response = jsonify({
        "query": query, "total": results.total, "page": results.page, "size": results.size,
        "pages": results.pages, "next": link(results.next), "previous": link(results.previous),
        "results": [h.to_json() for h in results.hits],
    })
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    for rel, n in (("next", results.next), ("prev", results.previous)):
        if n:
            response.headers.add("Link", f'<{link(n)}>; rel="{rel}"')
    return response
