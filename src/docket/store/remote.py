"""Read and load a remote SPARQL 1.1 store (Oxigraph server, Fuseki, GraphDB, Virtuoso, QLever ...).

Queries go through SPARQLWrapper; answers come back as pyoxigraph objects (solutions, booleans,
triples), so code written against the embedded store runs unchanged. Loading uses the SPARQL 1.1
Graph Store HTTP Protocol: one ``PUT`` per named graph, which replaces that graph whole.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any, Iterator

import pyoxigraph as ox
from SPARQLWrapper import POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from docket.config import Settings
from docket.store.base import StoreError, TripleStore

_SELECT_ASK = {"SELECT", "ASK"}


def _query_form(sparql: str) -> str:
    """Return SELECT, ASK, CONSTRUCT or DESCRIBE, read from the parsed query (never by a regex)."""
    from docket.sparql.guard import Refused, check

    try:
        return check(sparql).form.upper()
    except Refused as exc:
        raise StoreError(str(exc)) from None


class RemoteStore(TripleStore):
    """Query a remote SPARQL endpoint behind the ``TripleStore`` interface.

    ``union_default_graph=True`` is honoured through the ``union_param`` the server understands
    (Oxigraph: ``union-default-graph``); servers whose default graph is already the union of all
    graphs (Virtuoso, GraphDB by default) need none.
    """

    def __init__(self, query_url: str, graph_store_url: str | None = None, *, union_param: str | None = None,
                 timeout: float = 60.0):
        self.query_url = query_url
        self.graph_store_url = graph_store_url
        self.union_param = union_param
        self.timeout = timeout

    def _wrapper(self, union: bool) -> SPARQLWrapper:
        client = SPARQLWrapper(self.query_url)
        client.setMethod(POST)
        client.setTimeout(int(self.timeout))
        if union and self.union_param:
            client.addParameter(self.union_param, "true")
        return client

    def query(self, sparql: str, *, union_default_graph: bool = False) -> Any:
        form = _query_form(sparql)
        client = self._wrapper(union_default_graph)
        client.setQuery(sparql)
        if form in _SELECT_ASK:
            client.setReturnFormat("json")
            accept, parse = "application/sparql-results+json", self._results
        else:
            # N-Triples is asked for; the answer is read as Turtle, which also covers servers answering Turtle.
            client.setReturnFormat("turtle")
            accept, parse = "application/n-triples, text/turtle;q=0.9", self._triples
        client.addCustomHttpHeader("Accept", accept)
        try:
            response = client.query().response
            body = response.read()
        except (SPARQLWrapperException, urllib.error.URLError, OSError) as exc:
            raise StoreError(f"the remote store at {self.query_url} did not answer: {exc}") from None
        return parse(body)

    @staticmethod
    def _results(body: bytes) -> Any:
        return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)

    @staticmethod
    def _triples(body: bytes) -> Iterator[ox.Triple]:
        return iter([q.triple for q in ox.parse(body, format=ox.RdfFormat.TURTLE)])

    def named_graphs(self) -> Iterator[str]:
        for row in self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"):
            yield row["g"].value

    def contains_graph(self, graph: str) -> bool:
        return bool(self.query(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"))

    def count(self, graph: str | None = None) -> int:
        pattern = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "GRAPH ?g { ?s ?p ?o }"
        row = next(iter(self.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")))
        return int(row["n"].value)

    def dump(self, graph: str, format: str = "nt") -> bytes:
        from docket.store.oxigraph import ox_format

        triples = self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        return ox.serialize(triples, format=ox_format(format))

    # --- loading ----------------------------------------------------------------------------------

    def put_graph(self, graph: str, ntriples: bytes) -> None:
        """Replace one named graph on the remote store (Graph Store Protocol ``PUT``)."""
        if not self.graph_store_url:
            raise StoreError("no Graph Store Protocol URL is configured for the remote store")
        from urllib.parse import quote

        url = f"{self.graph_store_url}?graph={quote(graph, safe='')}"
        request = urllib.request.Request(url, data=ntriples, method="PUT",
                                         headers={"Content-Type": "application/n-triples"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise StoreError(f"the remote store refused graph {graph}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise StoreError(f"the remote store at {self.graph_store_url} did not answer: {exc}") from None

    def delete_graph(self, graph: str) -> None:
        """Remove one named graph (Graph Store Protocol ``DELETE``); a missing graph is not an error."""
        from urllib.parse import quote

        url = f"{self.graph_store_url}?graph={quote(graph, safe='')}"
        request = urllib.request.Request(url, method="DELETE")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise StoreError(f"the remote store refused to delete {graph}: HTTP {exc.code}") from None


def remote_store(settings: Settings) -> RemoteStore:
    """Build the remote store the settings describe, or say which setting is missing."""
    if not settings.remote_query_url:
        raise StoreError("store_backend is 'remote' but DOCKET_REMOTE_QUERY_URL is not set")
    return RemoteStore(settings.remote_query_url, settings.remote_graph_store_url or None,
                       union_param=settings.remote_union_param or None)


def push(source: TripleStore, target: RemoteStore, prefix: str) -> dict[str, int]:
    """Copy the named graphs of ``source`` (a published build) to ``target``, replacing each whole.

    Graphs under ``prefix`` (``{base}graph/``) that the build no longer has (withdrawn records) are
    deleted; the remote store's other graphs (its own system graphs, other datasets) are never
    touched. Returns the triples sent per graph.
    """
    wanted = list(source.named_graphs())
    sent: dict[str, int] = {}
    for graph in wanted:
        data = source.dump(graph, "nt")
        target.put_graph(graph, data)
        sent[graph] = data.count(b"\n")
    for graph in set(target.named_graphs()) - set(wanted):
        if graph.startswith(prefix):
            target.delete_graph(graph)
    return sent
