"""Write a validation report as a ``sh:ValidationReport`` graph: N-Triples, Turtle, or an rdflib graph.

A build's report holds several results per record, so the N-Triples are written as text a chunk of
results at a time (``nt_chunks``) and Turtle is Oxigraph's rewriting of them; ``triples`` yields the
same statements as rdflib terms for ``to_graph``. Result nodes are blank: ``_:r0`` is the report
(unless it is named), ``_:r1``… its results.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SH, XSD
from rdflib.term import Node

if TYPE_CHECKING:
    from docket.validate.report import ValidationReport

SEVERITY_IRI = {"Violation": SH.Violation, "Warning": SH.Warning, "Info": SH.Info}
FORMATS = ("nt", "ttl")

_NT_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
_CHUNK_RESULTS = 2000


def nt_text(value: str) -> str:
    """Write a string as an N-Triples literal (no language, no datatype)."""
    # Most text needs no escape, and four scans for a character are cheaper than one translate().
    if "\\" in value or '"' in value or "\n" in value or "\r" in value:
        value = value.translate(_NT_ESCAPES)
    return f'"{value}"'


def nt_term(t: Node) -> str:
    """Write an IRI or literal as N-Triples (blank nodes are named by the caller)."""
    if isinstance(t, URIRef):
        return f"<{t}>"
    assert isinstance(t, Literal), t
    lexical = f'"{str(t).translate(_NT_ESCAPES)}"'
    if t.language:
        return f"{lexical}@{t.language}"
    if t.datatype is not None and str(t.datatype) != str(XSD.string):
        return f"{lexical}^^<{t.datatype}>"
    return lexical


def prefixes(report: ValidationReport) -> dict[str, str]:
    """Return the prefixes a Turtle report is written with."""
    return {"sh": str(SH), "dcterms": str(DCTERMS), "docket": str(report.minter.ontology)}


def to_graph(report: ValidationReport, node: URIRef | None = None) -> Graph:
    """Return the report as an rdflib graph (``node`` names the report's node)."""
    g = Graph()
    for prefix, namespace in prefixes(report).items():
        g.bind(prefix, Namespace(namespace))
    for triple in triples(report, node):
        g.add(triple)
    return g


def to_rdf(report: ValidationReport, format: str = "nt", node: URIRef | None = None) -> bytes:
    """Return the report graph as N-Triples ("nt") or Turtle ("ttl") bytes, without an rdflib graph."""
    _check_format(format)
    text = b"".join(nt_chunks(report, node))
    if format == "nt":
        return text
    return ox.serialize(ox.parse(text, format=ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.TURTLE,
                        prefixes=prefixes(report))


def write_rdf(report: ValidationReport, path: Path | str, format: str = "ttl", node: URIRef | None = None,
              ntriples: Path | None = None) -> None:
    """Write ``to_rdf(report, format, node)`` into the file ``path``, a chunk at a time.

    ``ntriples``: a file of the report's N-Triples if the caller already wrote one (a build loads
    it into the store first), so that they are not made twice.
    """
    _check_format(format)
    with open(path, "wb") as out:
        if format == "nt":
            if ntriples is None:
                out.writelines(nt_chunks(report, node))
            else:
                with open(ntriples, "rb") as given:
                    shutil.copyfileobj(given, out, 1 << 20)
            return
        if ntriples is None:
            parsed = ox.parse(io.BufferedReader(_Reader(nt_chunks(report, node)), 1 << 16),
                              format=ox.RdfFormat.N_TRIPLES)
        else:
            parsed = ox.parse(path=str(ntriples), format=ox.RdfFormat.N_TRIPLES)
        ox.serialize(parsed, out, format=ox.RdfFormat.TURTLE, prefixes=prefixes(report))


def nt_chunks(report: ValidationReport, node: URIRef | None = None) -> Iterator[bytes]:
    """Yield the statements of ``triples`` as N-Triples, in its order, the lines of many results a chunk."""
    docket = str(report.minter.ontology)
    sh, typ = str(SH), f"<{RDF.type}>"
    result_line = f" <{sh}result> "
    p_severity, p_message, p_focus = f"<{sh}resultSeverity>", f"<{sh}resultMessage>", f"<{sh}focusNode>"
    p_component = f"<{sh}sourceConstraintComponent>"
    p_optional = ((f"<{sh}resultPath>", "path"), (f"<{sh}value>", "value"), (f"<{sh}sourceShape>", "shape"))
    p_text = ((f"<{docket}field>", "field"), (f"<{docket}record>", "record"),
              (f"<{docket}sourceFile>", "source"), (f"<{docket}code>", "code"))
    severity = {name: f"<{iri}>" for name, iri in SEVERITY_IRI.items()}
    reader_check = f"<{docket}ReaderCheck>"
    p_record = f"<{docket}record>"
    result_type = f"<{SH.ValidationResult}>"

    subject = nt_term(node) if node is not None else "_:r0"
    first = 0 if node is not None else 1
    head = [f"{subject} {typ} <{SH.ValidationReport}> .\n",
            f"{subject} <{SH.conforms}> {nt_term(Literal(report.conforms))} .\n",
            f"{subject} <{DCTERMS.created}> "
            f"{nt_term(Literal(report.created.isoformat(), datatype=XSD.dateTime))} .\n"]
    head.extend(f"{subject} <{RDFS.comment}> {nt_text(message)} .\n" for message in report.errors)
    chunk = ["".join(head)]
    for n, finding in enumerate(report.iter_findings(), first):
        r = f"_:r{n}"
        focus = finding.focus
        component = finding.component
        lines = [f"{subject}{result_line}{r} .\n{r} {typ} {result_type} .\n"
                 f"{r} {p_severity} {severity[finding.severity]} .\n"
                 f"{r} {p_message} {nt_text(finding.message)}@en .\n"
                 f"{r} {p_focus} {nt_text(finding.source or '') if focus is None else nt_term(focus)} .\n"
                 f"{r} {p_component} {reader_check if component is None else nt_term(component)} .\n"]
        for predicate, name in p_optional:
            # Complex paths and constraint nodes are blank nodes of the shapes graph; their structure
            # is not copied, so they are left out rather than published dangling.
            t = getattr(finding, name)
            if t is not None and not isinstance(t, BNode):
                lines.append(f"{r} {predicate} {nt_term(t)} .\n")
        for predicate, name in p_text:
            value = getattr(finding, name)
            if value:
                lines.append(f"{r} {predicate} {nt_text(value)} .\n")
        for record in dict.fromkeys(m[0] for m in finding.mentions if m[0]):
            lines.append(f"{r} {p_record} {nt_text(record)} .\n")
        chunk.append("".join(lines))
        if len(chunk) >= _CHUNK_RESULTS:
            yield "".join(chunk).encode()
            chunk.clear()
    yield "".join(chunk).encode()


def triples(report: ValidationReport, node: URIRef | None = None) -> Iterator[tuple[Node, Node, Node]]:
    """Yield the report's statements as rdflib terms (``nt_chunks`` writes the same ones as text)."""
    docket = Namespace(str(report.minter.ontology))
    subject = node if node is not None else BNode()
    yield subject, RDF.type, SH.ValidationReport
    yield subject, SH.conforms, Literal(report.conforms)
    yield subject, DCTERMS.created, Literal(report.created.isoformat(), datatype=XSD.dateTime)
    for message in report.errors:
        yield subject, RDFS.comment, Literal(message)
    reader_check, field_, record_, source_, code_ = (docket.ReaderCheck, docket.field, docket.record,
                                                      docket.sourceFile, docket.code)
    for finding in report.iter_findings():
        r = BNode()
        yield subject, SH.result, r
        yield r, RDF.type, SH.ValidationResult
        yield r, SH.resultSeverity, SEVERITY_IRI[finding.severity]
        yield r, SH.resultMessage, Literal(finding.message, lang="en")
        focus = finding.focus if finding.focus is not None else Literal(finding.source or "")
        yield r, SH.focusNode, focus
        yield r, SH.sourceConstraintComponent, finding.component if finding.component is not None else reader_check
        # Complex paths and constraint nodes are blank nodes of the shapes graph; their structure is
        # not copied, so they are left out rather than published dangling.
        for prop, t in ((SH.resultPath, finding.path), (SH.value, finding.value),
                        (SH.sourceShape, finding.shape)):
            if t is not None and not isinstance(t, BNode):
                yield r, prop, t
        if finding.field:
            yield r, field_, Literal(finding.field)
        if finding.record:
            yield r, record_, Literal(finding.record)
        if finding.source:
            yield r, source_, Literal(finding.source)
        if finding.code:
            yield r, code_, Literal(finding.code)
        for record in dict.fromkeys(m[0] for m in finding.mentions if m[0]):
            yield r, record_, Literal(record)


def _check_format(format: str) -> None:
    if format not in FORMATS:
        raise ValueError(f"unknown report format {format!r}; use nt or ttl")


class _Reader(io.RawIOBase):
    """Read an iterator of byte chunks as a binary file (for ``pyoxigraph.parse``)."""

    def __init__(self, chunks: Iterator[bytes]):
        self.chunks, self.pending = chunks, memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending:
            chunk = next(self.chunks, None)
            if chunk is None:
                return 0
            self.pending = memoryview(chunk)
        n = min(len(buffer), len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n
