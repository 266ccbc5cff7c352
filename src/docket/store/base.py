"""Define what Docket asks of a triple store: read-only SPARQL, named graphs, counts.

The embedded Oxigraph store (``docket.store.oxigraph``) is the default; a remote SPARQL store can
implement the same interface later without the server noticing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Iterator


def is_true(term: Any) -> bool:
    """Read an xsd:boolean from a query answer; Virtuoso writes booleans as 1 and 0."""
    return term is not None and getattr(term, "value", term) in ("true", "1")


class StoreError(RuntimeError):
    """The store is missing, unreadable, busy, or a build cannot be published."""


class TripleStore(ABC):
    """Read one published build of the dataset."""

    @abstractmethod
    def query(self, sparql: str, *, union_default_graph: bool = False) -> Any:
        """Run a SPARQL query; with ``union_default_graph`` the default graph is the union of all graphs."""

    @abstractmethod
    def named_graphs(self) -> Iterator[str]:
        """Yield the IRI of every named graph."""

    @abstractmethod
    def contains_graph(self, graph: str) -> bool:
        """Say whether the named graph exists."""

    @abstractmethod
    def count(self, graph: str | None = None) -> int:
        """Count the triples of one named graph, or all quads when ``graph`` is None."""

    @abstractmethod
    def dump(self, graph: str, format: str = "nt") -> bytes:
        """Serialize one named graph (format by any name ``docket.formats`` knows)."""

    def close(self) -> None:
        """Release the store; the default does nothing."""

    def __enter__(self) -> "TripleStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
