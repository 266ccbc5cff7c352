"""Hold validation outcomes: one finding per problem, one result per record, one report per run.

A ``Finding`` is a SHACL validation result in plain form (severity, focus node, field, message, shape,
value), or a warning handed in by the readers or the mapping (file, record, field, message, code). The
``ValidationReport`` gathers them and writes them as JSON, and as a ``sh:ValidationReport`` graph
(``report_rdf``); reader warnings become ``sh:Warning`` results whose ``sh:sourceConstraintComponent`` is ``docket:ReaderCheck``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
from collections import Counter
from dataclasses import dataclass, field
from json.encoder import encode_basestring  # the C one json.dumps uses
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TextIO

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from docket.uris import Minter, is_slug
from docket.validate import report_rdf
from docket.validate.report_rdf import SEVERITY_IRI

VIOLATION = "Violation"
WARNING = "Warning"
INFO = "Info"
_PLURAL = {VIOLATION: "violations", WARNING: "warnings", INFO: "notes"}
SEVERITIES = (VIOLATION, WARNING, INFO)

# pySHACL's exit codes, which `docket validate` keeps.
EXIT_CONFORMS = 0
EXIT_DOES_NOT_CONFORM = 1
EXIT_ERROR = 2

# The mapping's warning code that is aggregated: one finding per unreconciled name, not per mention.
AGGREGATED_CODE = "unreconciled"

_SEVERITY_NAME = {v: k for k, v in SEVERITY_IRI.items()}


def _json_nested(value: Any, level: int = 1) -> str:
    """Write ``value`` as ``json.dumps(indent=1, ensure_ascii=False)`` does ``level`` levels down."""
    # Strings escape their newlines, so every newline of the text is one of the layout's.
    return json.dumps(value, indent=1, ensure_ascii=False).replace("\n", "\n" + " " * level)


def _json_result(data: dict[str, Any]) -> str:
    """Write one finding's ``to_json()`` two levels down, as ``json.dumps(indent=1)`` does within a report."""
    if not data:
        return "  {}"
    items = ",\n".join(
        f"   {encode_basestring(key)}: "
        f"{encode_basestring(value) if type(value) is str else 'null' if value is None else _json_nested(value, 3)}"
        for key, value in data.items())
    return f"  {{\n{items}\n  }}"


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
    # (record, file, field) of every place an aggregated finding was met: an unreconciled name is one
    # finding however many records name it (``record`` and ``source`` are then None).
    mentions: tuple[tuple[str | None, str | None, str], ...] = ()

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
        if self.mentions:
            data["mentions"] = [{"record": r, "file": f, "field": fd} for r, f, fd in self.mentions]
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
            mentions=tuple((m.get("record"), m.get("file"), m.get("field") or "") for m in data.get("mentions") or ()),
        )

    def __str__(self) -> str:
        where = ", ".join(x for x in (self.source, f"record {self.record}" if self.record else None) if x)
        field_part = f" [{self.field}]" if self.field else ""
        value = f" ({_text(self.value)})" if self.value is not None and self.code is None else ""
        return f"{self.severity}: {where or _text(self.focus)}{field_part}: {self.message}{value}{self._named_in()}"

    def _named_in(self, shown: int = 5) -> str:
        if not self.mentions:
            return ""
        records = list(dict.fromkeys(r for r, _, _ in self.mentions if r))
        more = f" and {len(records) - shown} more" if len(records) > shown else ""
        return f"; named in {len(records)} record{'s' if len(records) != 1 else ''}: {', '.join(records[:shown])}{more}"


@dataclass(slots=True)  # one per record validated: a million in a large build
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
        self.reused = 0  # records an incremental build kept unchanged, with their earlier findings
        # Unreconciled names, one finding each: (severity, focus IRI, message) -> (finding, its mentions).
        self._aggregated: dict[tuple[str, str, str], tuple[Finding, list[tuple]]] = {}

    # --- filling it -------------------------------------------------------------------------------

    def add(self, result: RecordResult) -> None:
        self.records.append(result)
        if result.error:
            self.errors.append(f"{result.source or '?'}, record {result.record}: {result.error}")

    def extend(self, results: Iterable[RecordResult]) -> None:
        for result in results:
            self.add(result)

    def add_findings(self, findings: Iterable[Finding]) -> None:
        """Add findings of the dataset pass or of the authorities; they are reported, not per record.

        An aggregated finding (one with ``mentions``, as read back from an earlier report) joins the
        finding of the same name, so that a rebuild's report names each unreconciled name once.
        """
        for finding in findings:
            if finding.mentions:
                key = (finding.severity, str(finding.focus), finding.message)
                for record, source, field_name in finding.mentions:
                    self._mention(key, lambda: finding, record, source, field_name)
            else:
                self.findings.append(finding)

    def _mention(self, key: tuple[str, str, str], finding: Callable[[], Finding], record: str | None,
                 source: str | None, field_name: str) -> None:
        """Note one mention of the aggregated finding ``key``; ``finding()`` makes it when it is new."""
        entry = self._aggregated.get(key)
        if entry is None:
            entry = self._aggregated[key] = (dataclasses.replace(finding(), field="", record=None, source=None,
                                                                 mentions=()), [])
        entry[1].append((record, source, field_name))

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
            if problem.code == AGGREGATED_CODE and problem.focus:
                # The same words in every record that names it: one finding, with where it was met.
                prefix = f"{problem.field}: "
                message = problem.message[len(prefix):] if problem.message.startswith(prefix) else problem.message
                severity = severity_name(problem.severity)
                self._mention((severity, problem.focus, message), lambda: Finding(
                    severity, message, focus=URIRef(problem.focus), component=self.minter.ontology.ReaderCheck,
                    code=problem.code), record or None, file, problem.field)
                continue
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
        return list(self.iter_findings())

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
        if self.reused:
            line += f" (and {self.reused} unchanged records reused, their findings kept)"
        return line

    def lines(self, limit: int | None = None) -> list[str]:
        """Return the report as text: errors, then every finding (violations first), then the summary.

        With ``limit``, every error and violation is still listed (they explain what was held back),
        but at most ``limit`` warnings and notes; the rest are counted by kind (their code, else the
        field and shape), so a build of a million records does not print a million lines.
        """
        order = {s: i for i, s in enumerate(SEVERITIES)}
        out = [f"Error: {message}" for message in self.errors]
        shown = 0
        untold: Counter[tuple[str, str]] = Counter()
        for f in sorted(self.all_findings(), key=lambda f: order[f.severity]):
            if limit is None or f.blocks or shown < limit:
                out.append(str(f))
                shown += not f.blocks
            else:
                untold[(f.severity, f.code or ", ".join(x for x in (f.field, _text(f.shape)) if x) or f.message)] += 1
        if untold:
            out.append(f"... and {sum(untold.values())} more findings (the whole report: validation.json and "
                       "validation.ttl in the build):")
            out.extend(f"  {n} {_PLURAL[severity]}: {kind}" for (severity, kind), n in
                       sorted(untold.items(), key=lambda item: (order[item[0][0]], -item[1], item[0][1])))
        out.append(self.summary())
        return out

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON-ready data: counts, held-back records, then every finding."""
        return self._json_head() | {"results": [f.to_json() for f in self.all_findings()]}

    def _json_head(self) -> dict[str, Any]:
        by_record = {r.record: r.source for r in self.records}
        return {
            "conforms": self.conforms,
            "created": self.created.isoformat().replace("+00:00", "Z"),
            "counts": self.counts(),
            "errors": list(self.errors),
            "held_back": [{"record": rid, "file": by_record.get(rid)} for rid in self.held_back()],
        }

    def write_json(self, out: TextIO, extra: dict[str, Any] | None = None) -> None:
        """Write ``to_json()`` with the keys of ``extra`` after it, as ``json.dump(..., indent=1)`` would.

        The same text, with ``ensure_ascii=False``, but one finding at a time: a report of millions
        of findings is never a list of dicts in memory.
        """
        out.write("{\n")
        for key, value in self._json_head().items():
            out.write(f" {encode_basestring(key)}: {_json_nested(value)},\n")
        out.write(' "results": [')
        separator = "\n"
        for finding in self.iter_findings():
            out.write(separator)
            out.write(_json_result(finding.to_json()))
            separator = ",\n"
        out.write("\n ]" if separator != "\n" else "]")
        for key, value in (extra or {}).items():
            out.write(f",\n {encode_basestring(key)}: {_json_nested(value)}")
        out.write("\n}")

    def iter_findings(self) -> Iterator[Finding]:
        """Yield what ``all_findings`` lists, without the list."""
        for r in self.records:
            yield from r.findings
        yield from self.findings
        for finding, mentions in self._aggregated.values():
            fields = ", ".join(dict.fromkeys(f for _, _, f in mentions if f))
            yield dataclasses.replace(finding, field=fields, mentions=tuple(mentions))

    def to_graph(self, report: URIRef | None = None) -> Graph:
        """Return the report as a ``sh:ValidationReport`` graph (``report`` names its node)."""
        return report_rdf.to_graph(self, report)

    def to_rdf(self, format: str = "nt", report: URIRef | None = None) -> bytes:
        """Return the report graph as N-Triples ("nt") or Turtle ("ttl") bytes (``report_rdf.to_rdf``)."""
        return report_rdf.to_rdf(self, format, report)

    def write_rdf(self, path: Path | str, format: str = "ttl", report: URIRef | None = None,
                  ntriples: Path | None = None) -> None:
        """Write ``to_rdf(format, report)`` into the file ``path`` (``report_rdf.write_rdf``)."""
        report_rdf.write_rdf(self, path, format, report, ntriples)
