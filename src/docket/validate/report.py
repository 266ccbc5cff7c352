"""Hold validation outcomes: one finding per problem, one result per record, one report per run.

A ``Finding`` is a SHACL validation result in plain form (severity, focus node, field, message, shape,
value), or a warning handed in by the readers or the mapping (file, record, field, message, code). The
``ValidationReport`` gathers them and writes them as a ``sh:ValidationReport`` graph and as JSON; reader
warnings become ``sh:Warning`` results whose ``sh:sourceConstraintComponent`` is ``docket:ReaderCheck``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import pyoxigraph as ox

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SH, XSD
from rdflib.term import Node

from docket.uris import Minter, is_slug

VIOLATION = "Violation"
WARNING = "Warning"
INFO = "Info"
SEVERITIES = (VIOLATION, WARNING, INFO)

# pySHACL's exit codes, which `docket validate` keeps.
EXIT_CONFORMS = 0
EXIT_DOES_NOT_CONFORM = 1
EXIT_ERROR = 2

_SEVERITY_IRI = {VIOLATION: SH.Violation, WARNING: SH.Warning, INFO: SH.Info}
_SEVERITY_NAME = {v: k for k, v in _SEVERITY_IRI.items()}


_NT_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


class _Text(str):
    """A term already written as N-Triples."""


def _nt_term(t: Node) -> str:
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


def severity_name(node: Node | str) -> str:
    """Turn ``sh:Violation`` (or "violation", "Warning", ...) into "Violation", "Warning" or "Info"."""
    if isinstance(node, URIRef) and node in _SEVERITY_NAME:
        return _SEVERITY_NAME[node]
    text = str(node).rsplit("#", 1)[-1].capitalize()
    if text not in SEVERITIES:
        raise ValueError(f"unknown severity {node!r}; severities are {', '.join(SEVERITIES)}")
    return text


@dataclass(frozen=True, slots=True)  # slots: a build of 100,000 records holds about 2 million
class Finding:
    """Describe one problem found in a record, an authority, the dataset, or a source file.

    RDF terms (``focus``, ``path``, ``value``, ``shape``, ``component``) are kept as rdflib terms so the
    report graph repeats them exactly; the JSON form shows them as text.
    """

    severity: str
    message: str
    field: str = ""
    focus: Node | None = None
    path: Node | None = None
    value: Node | None = None
    shape: Node | None = None
    component: Node | None = None
    label: str | None = None  # the focus node's preferred label, when it has one
    record: str | None = None  # the record's stable ID
    source: str | None = None  # file and position the record came from
    code: str | None = None  # reader/mapping warning code ("no-record-id", "unreconciled", ...)

    @property
    def blocks(self) -> bool:
        """Say whether this finding holds its record back (only violations do)."""
        return self.severity == VIOLATION

    def with_context(self, record: str | None, source: str | None) -> "Finding":
        """Return a copy that names the record and source file."""
        return dataclasses.replace(self, record=record, source=source)

    def to_json(self) -> dict[str, Any]:
        data = {
            "severity": self.severity,
            "record": self.record,
            "file": self.source,
            "field": self.field,
            "message": self.message,
            "focus": _text(self.focus),
            "label": self.label,
            "path": _text(self.path),
            "value": _text(self.value),
            "shape": _text(self.shape),
            "component": _text(self.component),
            "code": self.code,
        }
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Finding":
        """Read a finding back from ``to_json`` (values that look like IRIs come back as IRIs)."""

        def iri(text: str | None) -> Node | None:
            return None if text is None else URIRef(text)

        value = data.get("value")
        return cls(
            severity=data["severity"],
            message=data["message"],
            field=data.get("field") or "",
            focus=iri(data.get("focus")),
            path=iri(data.get("path")),
            value=None if value is None else (URIRef(value) if value.startswith(("http://", "https://", "urn:")) else Literal(value)),
            shape=iri(data.get("shape")),
            component=iri(data.get("component")),
            label=data.get("label"),
            record=data.get("record"),
            source=data.get("file"),
            code=data.get("code"),
        )

    def __str__(self) -> str:
        where = ", ".join(x for x in (self.source, f"record {self.record}" if self.record else None) if x)
        field_part = f" [{self.field}]" if self.field else ""
        value = f" ({_text(self.value)})" if self.value is not None and self.code is None else ""
        return f"{self.severity}: {where or _text(self.focus)}{field_part}: {self.message}{value}"


@dataclass
class RecordResult:
    """Give the outcome of validating one record: it conforms when no finding is a violation."""

    record: str
    source: str | None = None
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None  # validation itself failed for this record (unreadable RDF, engine error)

    @property
    def conforms(self) -> bool:
        return self.error is None and not any(f.blocks for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "file": self.source,
            "conforms": self.conforms,
            "error": self.error,
            "findings": [f.to_json() for f in self.findings],
        }


def _text(node: Node | None) -> str | None:
    return None if node is None else str(node)


class ValidationReport:
    """Gather record results, dataset-level and authority findings, and reader warnings of one run."""

    def __init__(self, minter: Minter, created: _dt.datetime | None = None):
        self.minter = minter
        self.created = created or _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
        self.records: list[RecordResult] = []
        self.findings: list[Finding] = []  # findings not tied to one record's validation run
        self.errors: list[str] = []  # what stopped validation itself (unreadable shapes, ...)

    # --- filling it -------------------------------------------------------------------------------

    def add(self, result: RecordResult) -> None:
        self.records.append(result)
        if result.error:
            self.errors.append(f"{result.source or '?'}, record {result.record}: {result.error}")

    def extend(self, results: Iterable[RecordResult]) -> None:
        for result in results:
            self.add(result)

    def add_findings(self, findings: Iterable[Finding]) -> None:
        """Add findings of the dataset pass or of the authorities; they are reported, not per record."""
        self.findings.extend(findings)

    def add_warning(
        self,
        *,
        file: str | None,
        record: str | None,
        field: str,
        message: str,
        code: str,
        severity: str = WARNING,
    ) -> Finding:
        """Add a warning from a reader or the mapping (unreconciled name, fuzzy match, date disagreement)."""
        severity = severity_name(severity)
        focus: Node | None = None
        if record and is_slug(record):
            focus = self.minter.record(record)
        finding = Finding(
            severity=severity,
            message=message,
            field=field,
            focus=focus,
            component=self.minter.ontology.ReaderCheck,
            record=record or None,
            source=file,
            code=code,
        )
        self.findings.append(finding)
        return finding

    def add_problems(self, problems: Iterable[Any], *, file: str | None, record: str | None) -> None:
        """Add ``Problem``s (field, message, code, severity) of one record: its reader's and its mapping's.

        Takes ``Record.problems`` or ``MappingResult.problems`` (which already holds the reader's).
        """
        for problem in problems:
            self.add_warning(
                file=file,
                record=record or None,
                field=problem.field,
                message=problem.message,
                code=problem.code,
                severity=problem.severity,
            )

    def add_error(self, message: str) -> None:
        """Note that validation itself failed; the exit code becomes 2."""
        self.errors.append(message)

    # --- reading it -------------------------------------------------------------------------------

    def all_findings(self) -> list[Finding]:
        out = [f for r in self.records for f in r.findings]
        out.extend(self.findings)
        return out

    @property
    def conforms(self) -> bool:
        return not self.errors and not any(f.blocks for f in self.all_findings())

    def held_back(self) -> list[str]:
        """List the IDs of records that may not be published, in the order they were validated.

        A record is held back by its own violations, and by a dataset-level violation whose value is
        the record (a duplicate identifier).
        """
        ids = [r.record for r in self.records if not r.conforms]
        seen = set(ids)
        for f in self.findings:
            if f.blocks and isinstance(f.value, URIRef):
                split = self.minter.split(str(f.value))
                if split and split[0] == "record" and split[1] not in seen:
                    seen.add(split[1])
                    ids.append(split[1])
        return ids

    def counts(self) -> dict[str, int]:
        findings = self.all_findings()
        held = self.held_back()
        return {
            "records": len(self.records),
            "conforming": len(self.records) - sum(1 for r in self.records if not r.conforms),
            "held_back": len(held),
            "violations": sum(1 for f in findings if f.severity == VIOLATION),
            "warnings": sum(1 for f in findings if f.severity == WARNING),
            "infos": sum(1 for f in findings if f.severity == INFO),
            "errors": len(self.errors),
        }

    @property
    def exit_code(self) -> int:
        """Return 0 when everything conforms, 1 when something does not, 2 when validation failed."""
        if self.errors:
            return EXIT_ERROR
        return EXIT_CONFORMS if self.conforms else EXIT_DOES_NOT_CONFORM

    # --- writing it -------------------------------------------------------------------------------

    def summary(self) -> str:
        """Say in one line how the run went ("12 records: 11 conform, 1 held back; 1 violation, ...")."""
        c = self.counts()
        line = (f"{c['records']} records: {c['conforming']} conform, {c['held_back']} held back; "
                f"{c['violations']} violations, {c['warnings']} warnings, {c['infos']} notes")
        if c["errors"]:
            line += f"; {c['errors']} errors"
        return line

    def lines(self) -> list[str]:
        """Return the report as text: errors, then every finding (violations first), then the summary."""
        order = {s: i for i, s in enumerate(SEVERITIES)}
        out = [f"Error: {message}" for message in self.errors]
        out.extend(str(f) for f in sorted(self.all_findings(), key=lambda f: order[f.severity]))
        out.append(self.summary())
        return out

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON-ready data: counts, held-back records, then every finding."""
        by_record = {r.record: r for r in self.records}
        return {
            "conforms": self.conforms,
            "created": self.created.isoformat().replace("+00:00", "Z"),
            "counts": self.counts(),
            "errors": list(self.errors),
            "held_back": [
                {"record": rid, "file": by_record[rid].source if rid in by_record else None}
                for rid in self.held_back()
            ],
            "results": [f.to_json() for f in self.all_findings()],
        }

    def to_graph(self, report: URIRef | None = None) -> Graph:
        """Return the report as a ``sh:ValidationReport`` graph (``report`` names its node)."""
        g = Graph()
        for prefix, namespace in self._prefixes().items():
            g.bind(prefix, namespace)
        for triple in self._triples(report):
            g.add(triple)
        return g

    def to_rdf(self, format: str = "nt", report: URIRef | None = None) -> bytes:
        """Return the report graph as N-Triples ("nt") or Turtle ("ttl") bytes, without an rdflib graph.

        The same triples as ``to_graph``; a build's report holds several results per record, so for
        100,000 records it is written as text, in seconds rather than many minutes.
        """
        if format not in ("nt", "ttl"):
            raise ValueError(f"unknown report format {format!r}; use nt or ttl")
        cache: dict[Node, str] = {}
        numbers = itertools.count()

        def bnode() -> _Text:
            return _Text(f"_:r{next(numbers)}")

        def literal(value: object, lang: str | None = None) -> Node:
            if not isinstance(value, str):
                return Literal(value)  # typed (the report's sh:conforms)
            text = f'"{value.translate(_NT_ESCAPES)}"'
            return _Text(f"{text}@{lang}" if lang else text)

        def term(t: Node) -> str:
            if isinstance(t, _Text):
                return t
            found = cache.get(t)
            if found is None:
                found = cache[t] = _nt_term(t)
            return found

        text = "".join(f"{term(s)} {term(p)} {term(o)} .\n"
                       for s, p, o in self._triples(report, literal, bnode)).encode()
        if format == "nt":
            return text
        prefixes = {k: str(v) for k, v in self._prefixes().items()}
        return ox.serialize(ox.parse(text, format=ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.TURTLE,
                            prefixes=prefixes)

    def _prefixes(self) -> dict[str, Namespace]:
        return {"sh": Namespace(str(SH)), "dcterms": Namespace(str(DCTERMS)),
                "docket": Namespace(str(self.minter.ontology))}

    def _triples(self, report: URIRef | None = None, literal: Callable[..., Node] = Literal,
                 bnode: Callable[[], Node] = BNode) -> Iterator[tuple[Node, Node, Node]]:
        """Yield the report's triples; ``literal(value, lang=None)`` and ``bnode()`` make its new terms."""
        docket = Namespace(str(self.minter.ontology))
        node = report if report is not None else bnode()
        yield node, RDF.type, SH.ValidationReport
        yield node, SH.conforms, literal(self.conforms)
        yield node, DCTERMS.created, Literal(self.created.isoformat(), datatype=XSD.dateTime)
        for message in self.errors:
            yield node, RDFS.comment, literal(message)
        reader_check, field_, record_, source_, code_ = (docket.ReaderCheck, docket.field, docket.record,
                                                          docket.sourceFile, docket.code)
        for finding in self.all_findings():
            r = bnode()
            yield node, SH.result, r
            yield r, RDF.type, SH.ValidationResult
            yield r, SH.resultSeverity, _SEVERITY_IRI[finding.severity]
            yield r, SH.resultMessage, literal(finding.message, lang="en")
            focus = finding.focus if finding.focus is not None else literal(finding.source or "")
            yield r, SH.focusNode, focus
            yield r, SH.sourceConstraintComponent, finding.component if finding.component is not None else reader_check
            # Complex paths and constraint nodes are blank nodes of the shapes graph; their structure is
            # not copied, so they are left out rather than published dangling.
            for prop, t in ((SH.resultPath, finding.path), (SH.value, finding.value),
                            (SH.sourceShape, finding.shape)):
                if t is not None and not isinstance(t, BNode):
                    yield r, prop, t
            if finding.field:
                yield r, field_, literal(finding.field)
            if finding.record:
                yield r, record_, literal(finding.record)
            if finding.source:
                yield r, source_, literal(finding.source)
            if finding.code:
                yield r, code_, literal(finding.code)

