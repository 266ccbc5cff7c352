"""Validate one record at a time with pySHACL, the shapes harvested once per process.

Each record is validated on its own small data graph: the record's triples plus, from the context
(authorities and ontology), the description of every IRI the record mentions and the class hierarchy.
Batching several records into one data graph would let one record's description of an agent make
another record look complete, and it is slower with pySHACL anyway (per-focus-node costs grow with the
graph). The data graph is an in-memory Oxigraph store: pySHACL then runs the SPARQL-based constraints
on Oxigraph, about eight times faster per record than on an rdflib graph.

Only findings about nodes the record's own graph describes are kept; the authorities are validated
once, on their own (``Engine.validate_context``).
"""

from __future__ import annotations

import dataclasses
from typing import Iterable

import pyoxigraph as ox
from pyshacl.errors import ReportableRuntimeError, ValidationFailure
from pyshacl.graph_abstraction import OxigraphDataGraph
from pyshacl.shapes_graph import ShapesGraph
from pyshacl.validator import Validator as _PyshaclValidator
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH, VOID
from rdflib.term import Node

from docket.validate.fast import DataIndex, FastShapes, needs_reference, to_finding
from docket.validate.report import SEVERITIES, VIOLATION, Finding, RecordResult, severity_name
from docket.validate.shapes import ShapeSource, field_names, local_name

ENGINES = ("fast", "pyshacl")

NT = ox.RdfFormat.N_TRIPLES
_SCHEMA_PREDICATES = {
    ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf"),
    ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subPropertyOf"),
}
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_RICO_RECORD = ox.NamedNode("https://www.ica.org/standards/RiC/ontology#Record")
_IDENTIFIER = ox.NamedNode("http://purl.org/dc/terms/identifier")
_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
_PREF_LABEL = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")


class _DataGraph(OxigraphDataGraph):
    """Let pySHACL test the data graph for truth without counting it.

    pySHACL writes ``datagraph or shapes_graph`` while describing every result, including the many
    intermediate ones of sh:or, sh:not and sh:node; on an Oxigraph store that is a SPARQL COUNT each
    time, a third of the validation time. Our data graphs are never empty when validated.
    """

    def __bool__(self) -> bool:
        return True


class _Validator(_PyshaclValidator):
    """Run pySHACL with a ShapesGraph harvested once instead of once per data graph."""

    def __init__(self, data_graph: OxigraphDataGraph, shapes: Graph, harvested: ShapesGraph,
                 use_shapes: list[str] | None = None):
        super().__init__(data_graph, shacl_graph=shapes, options={"inplace": True, "use_shapes": use_shapes})
        self.shacl_graph = harvested


def as_text(data: str | bytes | Graph) -> bytes:
    """Return N-Triples bytes for a string, bytes or rdflib graph."""
    if isinstance(data, Graph):
        return data.serialize(format="nt", encoding="utf-8")
    return data.encode("utf-8") if isinstance(data, str) else data


class Engine:
    """Hold the parsed shapes and the indexed context; validate records, authorities and the dataset.

    ``engine="fast"`` checks records with ``docket.validate.fast`` and hands every record in which it
    finds a violation (or anything it cannot word as pySHACL would) to pySHACL, whose findings then
    stand; ``engine="pyshacl"`` runs pySHACL on every record. Authorities and the dataset pass always
    run on pySHACL: they are validated once per build.
    """

    def __init__(self, shapes: ShapeSource, context: str | bytes | Graph = b"", engine: str = "pyshacl"):
        if engine not in ENGINES:
            raise ValueError(f"unknown validation engine {engine!r}; choose one of {', '.join(ENGINES)}")
        self.engine = engine
        self.shapes = shapes.parse()
        self._harvested = ShapesGraph(self.shapes)
        self._harvested.shapes  # harvest now, in the initializer, rather than in the first record
        self._field_by_shape, self._field_by_path = field_names(self.shapes)
        # Dataset-level shapes run only in the dataset pass. Records point to the dataset, so its
        # description comes along with every record; checking it there would cost a query per record.
        self.dataset_shapes = sorted(str(s) for s in self.shapes.subjects(SH.targetClass, VOID.Dataset))
        targeted = {s for p in _TARGETS for s in self.shapes.subjects(p, None)}
        self.record_shapes = sorted(str(s) for s in targeted if str(s) not in self.dataset_shapes)
        self._context_text = as_text(context)
        self._describe: dict[ox.NamedNode, list[ox.Quad]] = {}
        self._schema: list[ox.Quad] = []
        for quad in ox.parse(self._context_text, format=NT):
            if isinstance(quad.subject, ox.NamedNode):
                self._describe.setdefault(quad.subject, []).append(quad)
            if quad.predicate in _SCHEMA_PREDICATES:
                self._schema.append(quad)
        self._fast = FastShapes(self.shapes, self._harvested, self.record_shapes) if engine == "fast" else None

    # --- records ----------------------------------------------------------------------------------

    def validate_record(self, record: str, data: str | bytes | Graph, source: str | None = None) -> RecordResult:
        """Validate one record's triples (N-Triples or a graph) with the context it needs."""
        result = RecordResult(record, source)
        try:
            quads = list(ox.parse(as_text(data), format=NT))
        except SyntaxError as exc:
            result.error = f"the record's RDF (N-Triples) cannot be read: {exc}"
            result.findings.append(Finding(VIOLATION, f"The record's data could not be read: {exc}",
                                           record=record, source=source))
            return result
        own = _subject_keys(quads)
        use_shapes, fast = self.record_shapes, []
        checked = self._fast_check(quads, own)
        if checked is not None and not checked[1]:
            fast = checked[0]
            if not self._fast.delegated:
                result.findings.extend(f.with_context(record, source) for f in fast)
                return result
            use_shapes = self._fast.delegated  # only the shapes the fast engine leaves to pySHACL
        store = ox.Store()
        store.extend(quads)
        store.extend(self._context_for(quads))
        try:
            findings = sorted(self._run(store, use_shapes) + fast, key=_order)
        # TypeError: pySHACL on Oxigraph fails following a path from a literal (a literal sender).
        except (ReportableRuntimeError, ValidationFailure, TypeError) as exc:
            result.error = f"pySHACL could not validate the record: {exc}"
            result.findings.append(Finding(VIOLATION, "The record could not be validated", record=record,
                                           source=source))
            return result
        result.findings.extend(f.with_context(record, source) for f in findings if _key(f.focus) in own)
        return result

    def fast_check(self, data: str | bytes | Graph) -> tuple[list[Finding], bool] | None:
        """Check a record with the fast engine alone: (findings, whether pySHACL must decide).

        None when the fast engine cannot check the record at all (no fast engine, or the record
        brings its own class hierarchy). Findings are those ``validate_record`` would report,
        without record and source; shapes left to pySHACL are not run.
        """
        quads = list(ox.parse(as_text(data), format=NT))
        return self._fast_check(quads, _subject_keys(quads))

    def _fast_check(self, quads: list[ox.Quad], own: set) -> tuple[list[Finding], bool] | None:
        if self._fast is None or any(q.predicate in _SCHEMA_PREDICATES for q in quads):
            return None
        data = DataIndex(quads, self._describe, self._schema)
        results = [r for r in self._fast.validate(data) if _key(r.focus) in own]
        findings = sorted((self._fast_finding(r, data) for r in results), key=_order)
        return findings, any(needs_reference(r) for r in results)

    def _context_for(self, quads: list[ox.Quad]) -> Iterable[ox.Quad]:
        seen: set[ox.NamedNode] = set()
        for quad in quads:
            for term in (quad.subject, quad.object):
                if isinstance(term, ox.NamedNode) and term not in seen:
                    seen.add(term)
                    yield from self._describe.get(term, ())
        yield from self._schema

    # --- whole graphs -----------------------------------------------------------------------------

    def validate_context(self, source: str = "authorities") -> list[Finding]:
        """Validate the authorities and ontology on their own, once per run."""
        store = ox.Store()
        store.load(self._context_text, format=NT)
        return [f.with_context(None, source) for f in self._run(store)]

    def validate_dataset(self, data: str | bytes | Graph, identifiers: Iterable[tuple[str, str]] = ()) -> list[Finding]:
        """Run only the dataset-level shapes (those targeting void:Dataset).

        The data graph is ``data`` (the dataset's description, possibly records too) plus, for each
        (record IRI, identifier) pair, the record's type and that identifier.
        """
        if not self.dataset_shapes:
            return []
        store = ox.Store()
        store.load(as_text(data), format=NT)
        quads = []
        for record, identifier in identifiers:
            node = ox.NamedNode(record)
            quads.append(ox.Quad(node, _RDF_TYPE, _RICO_RECORD))
            quads.append(ox.Quad(node, _IDENTIFIER, ox.Literal(identifier)))
        store.extend(quads)
        return self._run(store, self.dataset_shapes)

    # --- pySHACL ----------------------------------------------------------------------------------

    def _run(self, store: ox.Store, use_shapes: list[str] | None = None) -> list[Finding]:
        validator = _Validator(_DataGraph(store), self.shapes, self._harvested, use_shapes)
        _conforms, report, _text = validator.run()
        findings = [self._finding(report, node, store) for node in report.objects(None, SH.result)]
        # The report graph is a set; sort so every run and every worker lists findings alike.
        return sorted(findings, key=_order)

    def _fast_finding(self, result, data: DataIndex) -> Finding:
        finding = to_finding(result, data, _english_first)
        field = (self._field_by_shape.get(finding.shape) or self._field_by_path.get(finding.path)
                 or local_name(finding.path))
        return dataclasses.replace(finding, field=field)

    def _finding(self, report: Graph, node: Node, store: ox.Store) -> Finding:
        shape = report.value(node, SH.sourceShape)
        path = report.value(node, SH.resultPath)
        focus = report.value(node, SH.focusNode)
        messages = sorted(report.objects(node, SH.resultMessage), key=_english_first)
        field = self._field_by_shape.get(shape) or self._field_by_path.get(path) or local_name(path)
        return Finding(
            severity=severity_name(report.value(node, SH.resultSeverity)),
            message=str(messages[0]) if messages else "The data does not conform to the shapes",
            field=field,
            focus=focus,
            path=path,
            value=report.value(node, SH.value),
            shape=shape,
            component=report.value(node, SH.sourceConstraintComponent),
            label=_label(store, focus),
        )


def _order(f: Finding) -> tuple[int, str, str, str, str, str]:
    return (SEVERITIES.index(f.severity), f.field, f.message, str(f.focus), str(f.value), str(f.shape))


def _english_first(message: Node) -> tuple[int, str]:
    lang = message.language if isinstance(message, Literal) else None
    return (0 if lang in (None, "en") else 1, str(message))


def _subject_keys(quads: list[ox.Quad]) -> set:
    """Return the keys (``_key``) of the subjects of ``quads``: the nodes a record's own triples describe."""
    try:  # Oxigraph IRIs and blank nodes, whose key is their text: no call per quad
        return {q.subject.value for q in quads}
    except AttributeError:  # a quoted triple as subject
        return {_key(q.subject) for q in quads}


def _key(node: object) -> str | None:
    """Key an rdflib or Oxigraph IRI/blank node by its text, so the two can be compared."""
    if type(node) is ox.NamedNode or type(node) is ox.BlankNode:
        return node.value
    if node is None:
        return None
    value = getattr(node, "value", None)  # Oxigraph terms
    if isinstance(node, (ox.NamedNode, ox.BlankNode)) and isinstance(value, str):
        return value
    return str(node)


def _label(store: ox.Store, focus: Node | None) -> str | None:
    if not isinstance(focus, URIRef):
        return None
    labels = sorted(q.object.value for q in store.quads_for_pattern(ox.NamedNode(str(focus)), _PREF_LABEL, None))
    return labels[0] if labels else None
