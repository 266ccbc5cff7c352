"""Map known rights statements to rights URIs through the table ``data/rights.csv``.

The table has the columns ``phrase,uri,kind,label``. A statement matches a row when the row's phrase,
normalised, occurs in the statement, normalised; rows are tried in file order and the first match
wins, so put specific phrases before general ones. Normalising folds case, accents, curly quotes
and dashes, drops punctuation and collapses white space, so a reflowed or re-punctuated statement
still matches. ``kind`` is ``statement`` (a rightsstatements.org statement, published with
edm:rights) or ``license`` (published with dcterms:license as well). The statement text itself is
always published too; an unknown statement is reported, never dropped.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, Literal, URIRef

from docket.mapping.vocab import DCTERMS, RDF, RDFS, SKOS

KINDS = ("statement", "license")
COLUMNS = ("phrase", "uri", "kind", "label")


class RightsTableError(ValueError):
    """Say what is wrong with the rights table, and on which line."""


@dataclass(frozen=True)
class RightsEntry:
    """One row of the rights table."""

    phrase: str
    uri: URIRef
    kind: str
    label: str
    line: int

    @property
    def key(self) -> str:
        return normalise(self.phrase)


def normalise(text: str) -> str:
    """Fold a statement for matching: case, accents, quotes, dashes, punctuation, white space."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


class RightsTable:
    """Hold the table's rows in order; ``match(statement)`` finds the first that applies."""

    def __init__(self, entries: list[RightsEntry]):
        self.entries = entries

    @classmethod
    def load(cls, path: Path) -> "RightsTable":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise RightsTableError(f"rights table {path}: cannot be read ({exc})") from None
        rows = list(csv.reader(text.splitlines()))
        if not rows or tuple(c.strip() for c in rows[0]) != COLUMNS:
            raise RightsTableError(f"rights table {path}, line 1: the header must be {','.join(COLUMNS)}")
        entries = []
        for line, row in enumerate(rows[1:], 2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(COLUMNS):
                raise RightsTableError(f"rights table {path}, line {line}: expected {len(COLUMNS)} cells, "
                                       f"found {len(row)}")
            phrase, uri, kind, label = (cell.strip() for cell in row)
            if not normalise(phrase):
                raise RightsTableError(f"rights table {path}, line {line}: the phrase is empty")
            if not re.match(r"^https?://[^\s<>\"{}|\\^`]+$", uri):
                raise RightsTableError(f"rights table {path}, line {line}: {uri!r} is not an http(s) URI")
            if kind not in KINDS:
                raise RightsTableError(f"rights table {path}, line {line}: kind must be "
                                       f"{' or '.join(KINDS)}, not {kind!r}")
            if not label:
                raise RightsTableError(f"rights table {path}, line {line}: the label is empty")
            entries.append(RightsEntry(phrase, URIRef(uri), kind, label, line))
        return cls(entries)

    def match(self, statement: str) -> RightsEntry | None:
        """Return the first row whose phrase the statement contains, or None."""
        text = normalise(statement)
        padded = f" {text} "
        for entry in self.entries:
            if f" {entry.key} " in padded:
                return entry
        return None

    def graph(self) -> Graph:
        """Describe every rights URI in the table (label and type), for the authorities graph."""
        graph = Graph()
        seen: set[URIRef] = set()
        for entry in self.entries:
            if entry.uri in seen:
                continue
            seen.add(entry.uri)
            cls = DCTERMS.RightsStatement if entry.kind == "statement" else DCTERMS.LicenseDocument
            graph.add((entry.uri, RDF.type, cls))
            graph.add((entry.uri, SKOS.prefLabel, Literal(entry.label, lang="en")))
            graph.add((entry.uri, RDFS.label, Literal(entry.label, lang="en")))
        return graph
