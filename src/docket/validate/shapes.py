"""Read the SHACL shapes once and answer questions about them (field names, fingerprint).

Shape files use relative IRIs (``<shapes#Record>``, ``<ontology#unreconciled>``) and are parsed with the
configured base URI, so the same files serve any base.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pyshacl.monkey import rdflib_bool_patch, rdflib_bool_unpatch
from rdflib import Graph, URIRef
from rdflib.namespace import SH
from rdflib.term import Node


class ShapesError(ValueError):
    """The shapes folder is missing, empty, or holds a file that is not valid Turtle."""


@dataclass(frozen=True)
class ShapeSource:
    """Keep the text of the shape files so worker processes can parse them without reading disk."""

    base: str
    files: tuple[tuple[str, str], ...]  # (file name, Turtle text)

    @classmethod
    def read(cls, shapes_dir: Path, base: str) -> "ShapeSource":
        """Read every ``*.ttl`` in ``shapes_dir``, in name order."""
        shapes_dir = Path(shapes_dir)
        if not shapes_dir.is_dir():
            raise ShapesError(f"shapes folder {shapes_dir} does not exist")
        paths = sorted(shapes_dir.glob("*.ttl"))
        if not paths:
            raise ShapesError(f"shapes folder {shapes_dir} holds no .ttl files")
        files = []
        for path in paths:
            try:
                files.append((path.name, path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as exc:
                raise ShapesError(f"{path}: cannot read shapes: {exc}") from exc
        return cls(base, tuple(files))

    @classmethod
    def from_text(cls, base: str, **files: str) -> "ShapeSource":
        """Build from Turtle texts given by name (for tests and embedded use)."""
        return cls(base, tuple(sorted(files.items())))

    def parse(self) -> Graph:
        """Parse all files into one graph; ``true`` means only ``"true"`` as pySHACL expects."""
        graph = Graph()
        rdflib_bool_patch()
        try:
            for name, text in self.files:
                try:
                    graph.parse(data=text, format="turtle", publicID=self.base)
                except Exception as exc:  # rdflib raises many kinds of syntax errors
                    raise ShapesError(f"shapes file {name}: {exc}") from exc
        finally:
            rdflib_bool_unpatch()
        return graph

    def fingerprint(self) -> str:
        """Hash the shape files and the base, so a build knows when the rules changed."""
        h = hashlib.sha256(self.base.encode())
        for name, text in self.files:
            h.update(b"\0" + name.encode() + b"\0" + text.encode())
        return h.hexdigest()


def field_names(shapes: Graph) -> tuple[dict[Node, str], dict[Node, str]]:
    """Return (shape -> sh:name, path -> sh:name) so results can name fields in the archivist's words."""
    by_shape: dict[Node, str] = {}
    by_path: dict[Node, str] = {}
    for shape, name in shapes.subject_objects(SH.name):
        by_shape[shape] = str(name)
        path = shapes.value(shape, SH.path)
        if isinstance(path, URIRef):
            by_path.setdefault(path, str(name))
    return by_shape, by_path


def local_name(node: Node | None) -> str:
    """Return the last segment of an IRI ("http://purl.org/dc/terms/title" -> "title")."""
    if node is None:
        return ""
    text = str(node)
    for sep in ("#", "/"):
        if sep in text:
            text = text.rsplit(sep, 1)[-1]
    return text
