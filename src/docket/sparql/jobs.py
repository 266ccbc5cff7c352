"""Answer one SPARQL job on an open store: check it, run it, serialize the whole (capped) answer.

Worker processes call ``answer``; the body it returns is complete or there is none, so a time-out
(the worker is killed) can never leave a client with half a document.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from docket import formats as rdf_formats
from docket import result_formats
from docket.sparql import guard
from docket.store.base import StoreError

_RDF = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}


@dataclass(frozen=True)
class Job:
    """What a worker needs to answer one query."""

    query: str
    store_path: str  # the build's Oxigraph store; "" when ``remote`` is set
    result_format: str | None  # a result_formats name for SELECT/ASK; None: none is acceptable
    row_cap: int
    graph_format: str | None = "turtle"  # a docket.formats name for CONSTRUCT/DESCRIBE; None: none acceptable
    union_default_graph: bool = True  # ``answer`` sets it from the query: false when it has FROM
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    base_iri: str | None = None  # relative IRIs in the query resolve against it (the endpoint's URL)
    remote: tuple[str, str | None] | None = None  # (query URL, union parameter) of a remote store


@dataclass(frozen=True)
class Outcome:
    """A worker's answer: a complete body, or the engine's error message."""

    body: bytes = b""
    rows: int = 0
    truncated: bool = False
    error: str | None = None
    # refused (by the guard; see ``status``), not_acceptable, syntax, unsupported, remote (the
    # store's failure), engine (ours)
    error_kind: str = ""
    status: int = 0
    form: str = ""  # select, ask, construct or describe, once the query was parsed


def answer(store: Any, job: Job) -> Outcome:
    """Check ``job.query`` with the guard, pick its format by its form, run it and serialize it.

    The guard runs here, inside the time limit, because rdflib's parser can take seconds on a
    long hostile query.
    """
    protocol_dataset = job.default_graphs is not None or job.named_graphs is not None
    if isinstance(store, ox.Store) and guard.may_skip_parse(job.query):
        outcome = execute(store, job)
        if outcome.error_kind != "syntax":
            return outcome
        # Oxigraph could not parse it: the full check says whether it is an update or a refusal,
        # and gives rdflib's message otherwise.
    try:
        checked = guard.check(job.query, lambda graph: _contains(store, graph), protocol_dataset=protocol_dataset)
    except guard.Refused as exc:
        return Outcome(error=str(exc), error_kind="refused", status=exc.status)
    except StoreError as exc:
        return Outcome(error=str(exc), error_kind="remote")
    fmt = job.graph_format if checked.returns_graph else job.result_format
    if fmt is None:
        return Outcome(error_kind="not_acceptable", error="no acceptable format", form=checked.form)
    job = dataclasses.replace(job, union_default_graph=not checked.has_dataset)
    outcome = execute(store, job)
    return outcome if outcome.error_kind else dataclasses.replace(outcome, form=checked.form)


def _contains(store: Any, graph: str) -> bool:
    if isinstance(store, ox.Store):
        return store.contains_named_graph(ox.NamedNode(graph))
    return bool(store.contains_graph(graph))


def execute(store: Any, job: Job) -> Outcome:
    """Run a checked ``job`` on ``store`` and serialize the answer, cut at ``job.row_cap`` rows or triples.

    ``store`` is a pyoxigraph ``Store``, or any ``TripleStore`` answering with pyoxigraph objects
    (the remote store), which knows no protocol dataset and no base IRI.
    """
    protocol_dataset = job.default_graphs is not None or job.named_graphs is not None
    try:
        if not isinstance(store, ox.Store):
            if protocol_dataset:
                return Outcome(error="default-graph-uri and named-graph-uri are not supported on a remote "
                                     "store; use FROM and FROM NAMED in the query", error_kind="unsupported")
            result = store.query(job.query, union_default_graph=job.union_default_graph)
        else:
            kwargs: dict[str, Any] = {"base_iri": job.base_iri}
            if protocol_dataset:
                kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs or ()]
                if job.named_graphs is not None:
                    kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
            else:
                kwargs["use_default_graph_as_union"] = job.union_default_graph
            result = store.query(job.query, **kwargs)
    except SyntaxError as exc:
        return Outcome(error=str(exc), error_kind="syntax")
    except StoreError as exc:
        return Outcome(error=str(exc), error_kind="remote")
    form = _form(result, job.query)
    fmt = job.graph_format if form in ("construct", "describe") else job.result_format
    if fmt is None:
        return Outcome(error_kind="not_acceptable", error="no acceptable format", form=form)
    if isinstance(result, ox.QueryBoolean):
        outcome = Outcome(result.serialize(format=result_formats.lookup(fmt).oxigraph), rows=1)
    elif isinstance(result, ox.QuerySolutions):
        outcome = _solutions(result, job)
    else:
        outcome = _triples(result, job)
    return dataclasses.replace(outcome, form=form)


def _form(result: Any, query: str) -> str:
    """Name the query's form from what it returned (the query was perhaps not parsed here)."""
    if isinstance(result, ox.QueryBoolean):
        return "ask"
    if isinstance(result, ox.QuerySolutions):
        return "select"
    # Only for messages and the choice of formats, where both are the same.
    return "describe" if re.search(r"\bDESCRIBE\b", query, re.I) and not re.search(r"\bCONSTRUCT\b", query, re.I) \
        else "construct"


def _solutions(result: ox.QuerySolutions, job: Job) -> Outcome:
    # QuerySolutions cannot be cut short and still serialized, so the kept rows are written as
    # SPARQL TSV (whose cells are exactly the terms' N-Triples forms), read back, and serialized in
    # the asked format by pyoxigraph's own writers.
    lines = ["\t".join(map(str, result.variables))]
    # A solution iterates its values in the order of ``variables``, None where unbound.
    lines += ["\t".join(["" if term is None else str(term) for term in solution])
              for solution in itertools.islice(result, job.row_cap)]
    rows = len(lines) - 1
    truncated = rows == job.row_cap and next(result, None) is not None
    tsv = ("\n".join(lines) + "\n").encode("utf-8")
    fmt = result_formats.lookup(job.result_format).oxigraph
    if fmt == ox.QueryResultsFormat.TSV:
        return Outcome(tsv, rows, truncated)
    parsed = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
    return Outcome(parsed.serialize(format=fmt), rows, truncated)


def _triples(result: Any, job: Job) -> Outcome:
    triples = []
    truncated = False
    for triple in result:
        if len(triples) >= job.row_cap:
            truncated = True
            break
        triples.append(triple)
    fmt = _RDF[rdf_formats.lookup(job.graph_format or "turtle").name]
    prefixes = job.prefixes if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
    body = ox.serialize(triples, format=fmt, prefixes=prefixes)
    return Outcome(body or b"", len(triples), truncated)
