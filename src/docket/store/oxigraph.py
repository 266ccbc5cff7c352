"""Open builds of the embedded Oxigraph store (pyoxigraph) behind the ``TripleStore`` interface."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pyoxigraph as ox

from docket import formats
from docket.store.base import StoreError, TripleStore

_OX_FORMATS = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}


def ox_format(name: str) -> ox.RdfFormat:
    """Return Oxigraph's format for any name, extension or media type ``docket.formats`` knows."""
    return _OX_FORMATS[formats.lookup(name).name]


class OxigraphStore(TripleStore):
    """Wrap one on-disk Oxigraph store; ``raw`` gives pyoxigraph's own API where it is wanted."""

    def __init__(self, store: ox.Store, path: Path | None = None, read_only: bool = True):
        self._store: ox.Store | None = store
        self.path = path
        self.read_only = read_only
        # Answers that depend on this build alone (a build never changes), kept by their users.
        self.memo: dict[str, Any] = {}

    @classmethod
    def open(cls, path: Path, read_only: bool = True) -> "OxigraphStore":
        """Open the store at ``path``; read-only opens never change it and may be many at once."""
        path = Path(path)
        if read_only and not path.is_dir():
            raise StoreError(f"no store at {path}")
        try:
            store = ox.Store.read_only(str(path)) if read_only else ox.Store(str(path))
        except OSError as exc:
            raise StoreError(f"cannot open the store at {path}: {exc}") from exc
        return cls(store, path, read_only)

    @property
    def raw(self) -> ox.Store:
        if self._store is None:
            raise StoreError(f"the store at {self.path} is closed")
        return self._store

    def query(self, sparql: str, *, union_default_graph: bool = False) -> Any:
        return self.raw.query(sparql, use_default_graph_as_union=union_default_graph)

    def named_graphs(self) -> Iterator[str]:
        for graph in self.raw.named_graphs():
            yield graph.value

    def contains_graph(self, graph: str) -> bool:
        return self.raw.contains_named_graph(ox.NamedNode(graph))

    def count(self, graph: str | None = None) -> int:
        if graph is None:
            return len(self.raw)
        rows = self.raw.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        return int(next(iter(rows))["n"].value)

    def dump(self, graph: str, format: str = "nt") -> bytes:
        return self.raw.dump(format=ox_format(format), from_graph=ox.NamedNode(graph))

    def close(self) -> None:
        # pyoxigraph closes the database when the last reference goes.
        self._store = None
