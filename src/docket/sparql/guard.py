"""Decide, on the parsed query, whether the public endpoint may run it.

The query is parsed with rdflib's SPARQL grammar (which decodes ``\\u`` escapes first, so a keyword
written ``\\u0053ERVICE`` is seen as SERVICE) and refused when it:

- is not a query at all (an update, ``LOAD``, or text neither grammar accepts): the endpoint is read-only;
- holds a ``SERVICE`` clause anywhere (``SILENT``, a variable endpoint, inside a sub-query): the
  endpoint never makes outbound requests;
- names, in ``FROM`` or ``FROM NAMED``, a graph the store does not hold: a general engine would
  fetch it from the web; here it could only be a mistake, and an empty answer would hide it.

The parse is cached by query text (a public endpoint sees the same few queries again and again);
whether a ``FROM`` graph exists is asked of the store each time, since builds change.

rdflib's parser takes about 14 ms for a typical query, longer than most queries run. So a query in
which none of the words SERVICE, FROM or LOAD occurs anywhere -- not as a keyword, not inside a
name or a string -- and no ``\\u`` escape either, cannot hold what the guard refuses, whatever its
structure: ``may_skip_parse`` says so, and the embedded store runs it unparsed by rdflib (Oxigraph
parses it; a syntax error there sends it back through the full check for the refusal's message).
Every refusal is still decided on rdflib's parse. A remote store is always checked in full: it may
accept an update sent as a query.

rdflib's parser (pyparsing underneath) is not thread-safe: two parses at once in one process --
a query worker runs queries on threads -- can fail a valid query with a bogus syntax error
("Param.postParse2() missing 1 required positional argument"), seen when two queries reached a
fresh worker together. Parses therefore take turns (``_PARSING``); they hold the GIL throughout,
so taking turns costs no throughput.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

if TYPE_CHECKING:
    from rdflib.plugins.sparql.parserutils import CompValue

_PARSING = threading.Lock()  # one rdflib parse at a time per process (see the module docstring)

FORMS = {"SelectQuery": "select", "AskQuery": "ask", "ConstructQuery": "construct", "DescribeQuery": "describe"}


class Refused(ValueError):
    """The query may not run here; ``status`` is the HTTP status the refusal is answered with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class QuerySyntaxError(Refused):
    """The text is not a SPARQL query; the message is the parser's."""


class UpdateRefused(Refused):
    """The text is a SPARQL update (``LOAD``, ``INSERT``, ``CLEAR`` ...) and the endpoint is read-only."""


@dataclass(frozen=True)
class CheckedQuery:
    """A query the guard accepted: its form and the graphs its own dataset clause names."""

    text: str
    form: str  # select, ask, construct or describe
    from_graphs: tuple[str, ...] = ()
    from_named_graphs: tuple[str, ...] = ()

    @property
    def returns_graph(self) -> bool:
        return self.form in ("construct", "describe")

    @property
    def has_dataset(self) -> bool:
        return bool(self.from_graphs or self.from_named_graphs)


def check(text: str, graph_exists: Callable[[str], bool] | None = None,
          protocol_dataset: bool = False) -> CheckedQuery:
    """Parse ``text`` and return it checked, or raise ``Refused`` saying why it may not run.

    ``graph_exists`` answers whether the store holds a named graph; ``FROM`` graphs are checked
    against it unless ``protocol_dataset`` (``default-graph-uri``/``named-graph-uri`` given), which
    replaces the query's own dataset clause so that it is never used.
    """
    checked = _parse(text)
    if graph_exists is not None and not protocol_dataset:
        missing = [g for g in (*checked.from_graphs, *checked.from_named_graphs) if not graph_exists(g)]
        if missing:
            raise Refused(
                "FROM/FROM NAMED may only name graphs this endpoint holds; it never fetches data from "
                f"elsewhere. Not in the store: {', '.join('<' + g + '>' for g in missing)}"
            )
    return checked


_RISKY_WORDS = ("SERVICE", "FROM", "LOAD")
# Oxigraph's recursive parser overflows the stack (killing the worker) on about 2,500 nested groups,
# 5 KB of braces; rdflib's stops deep nesting with an error. Longer texts take the full check.
_SKIP_AT_MOST = 2048


def may_skip_parse(text: str) -> bool:
    """Say whether ``text`` cannot hold SERVICE, FROM or LOAD, however it parses (see the module docstring).

    Checked on the upper-cased text, which also catches the non-ASCII letters a lenient parser
    might take for ASCII ones (``ſ`` upper-cases to ``S``); an escape sequence, or a text longer
    than a typical query, always means a full parse.
    """
    if len(text) > _SKIP_AT_MOST or "\\u" in text or "\\U" in text:
        return False
    upper = text.upper()
    return not any(word in upper for word in _RISKY_WORDS)


@lru_cache(maxsize=512)
def _parse(text: str) -> CheckedQuery:
    # Imported here: rdflib's SPARQL grammar takes a tenth of a second to load, which neither the
    # web process nor a worker answering only queries that skip this parse needs to spend.
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql import algebra
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        with _PARSING:
            parsed = parseQuery(text)
    except ParseBaseException as exc:
        if _is_update(text):
            raise UpdateRefused(
                "this endpoint is read-only: SPARQL Update (including LOAD) is not accepted", status=400
            ) from None
        raise QuerySyntaxError(f"SPARQL syntax error: {exc}") from None
    except RecursionError:
        raise QuerySyntaxError("SPARQL syntax error: the query is nested too deeply to parse") from None
    except Exception as exc:  # rdflib raises plain exceptions for some grammar-level errors (bad prefixes)
        raise QuerySyntaxError(f"SPARQL syntax error: {exc}") from None
    prologue_part, query = parsed[0], parsed[1]
    services = list(_services(query))
    if services:
        raise Refused(
            "SERVICE is not allowed: this endpoint never sends requests to other endpoints "
            f"(found: {_describe_service(services[0])})"
        )
    try:
        prologue = algebra.translatePrologue(prologue_part, None)
        default, named = _dataset(_part(query, "datasetClause") or [], prologue)
    except Exception as exc:
        raise QuerySyntaxError(f"SPARQL syntax error: {exc}") from None
    return CheckedQuery(text, FORMS[query.name], default, named)


def _is_update(text: str) -> bool:
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        with _PARSING:
            parseUpdate(text)
    except (ParseBaseException, RecursionError):
        return False
    except Exception:
        # It parsed far enough to be an update with an error in it; still an update.
        return True
    return True


def _part(node: CompValue, key: str) -> Any:
    # CompValue.get returns the key itself when it is missing; ask the dict directly.
    return dict.get(node, key)


def _walk(node: Any) -> Iterator[CompValue]:
    """Yield every grammar node below ``node``, depth first, without recursion."""
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            yield item
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)) or hasattr(item, "asList"):
            stack.extend(list(item))


def _services(query: Any) -> Iterator[CompValue]:
    for node in _walk(query):
        if node.name == "ServiceGraphPattern":
            yield node


def _describe_service(node: CompValue) -> str:
    words = ["SERVICE"]
    if _part(node, "silent"):
        words.append("SILENT")
    term = _part(node, "term")
    words.append(f"?{term}" if term is not None and term.__class__.__name__ == "Variable" else f"<{term}>")
    return " ".join(words)


def _dataset(clauses: Iterable[CompValue], prologue: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    default: list[str] = []
    named: list[str] = []
    for clause in clauses:
        for key, bucket in (("default", default), ("named", named)):
            iri = _part(clause, key)
            if iri is not None:
                bucket.append(str(prologue.absolutize(iri)))
    return tuple(default), tuple(named)
