"""Check one record against the shapes in plain Python, about fifty times faster than pySHACL.

The shapes are compiled once into checks over an index of the record's data graph (the same data graph
pySHACL sees: the record's triples, the context describing every IRI it mentions, the class hierarchy).
Core constraints are evaluated directly; SPARQL-based constraints run the very query pySHACL would run
(same prefixes, same pre-bound ``$this``) on an in-memory Oxigraph store of that data graph, and only
for focus nodes the record describes. Results carry the same focus, path, value, severity, message,
shape and constraint component as pySHACL's.

pySHACL stays the reference: ``Engine`` re-runs it on every record in which this engine finds a
violation (so a record is only ever held back on pySHACL's word) or a result it cannot word as pySHACL
would. A shape using a constraint this module does not know is left to pySHACL for every record
(``FastShapes.delegated``). ``tests/test_fast_validation.py`` asserts both engines agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import pyoxigraph as ox
from pyshacl.constraints.core.value_constraints import DatatypeConstraintComponent
from pyshacl.constraints.sparql.sparql_based_constraints import SPARQLBasedConstraint
from pyshacl.graph_abstraction import to_ox, to_rdf
from pyshacl.shapes_graph import ShapesGraph
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from docket.validate.report import Finding, severity_name

_RDF_TYPE = ox.NamedNode(str(RDF.type))
_SUBCLASS = ox.NamedNode(str(RDFS.subClassOf))
_PREF_LABEL = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")

# Predicates of a shape that carry no constraint (or are handled outside the checks).
_INERT = {RDF.type, RDFS.label, RDFS.comment, RDFS.seeAlso, SH.name, SH.description, SH.message, SH.severity,
          SH.targetClass, SH.targetSubjectsOf, SH.property, SH.path, SH.order, SH.group, SH.sparql,
          SH.deactivated, SH.defaultValue, SH.flags}  # sh:flags is read with sh:pattern
_UNSUPPORTED_TARGETS = (SH.targetNode, SH.targetObjectsOf, SH.target)
_COMPONENT = {name: SH[f"{name[0].upper()}{name[1:]}ConstraintComponent"] for name in (
    "minCount", "maxCount", "datatype", "pattern", "hasValue", "class", "node", "uniqueLang", "not", "or",
    "nodeKind", "in")}
_SPARQL_COMPONENT = SH.SPARQLConstraintComponent


class Unsupported(ValueError):
    """A shape uses something this engine does not evaluate; pySHACL must."""


# --- the data graph of one record -------------------------------------------------------------------

class DataIndex:
    """Index one record's data graph by subject: its own triples plus the context of what it mentions."""

    def __init__(self, quads: list[ox.Quad], describe: dict[ox.NamedNode, list[ox.Quad]],
                 schema: list[ox.Quad]):
        self.quads = quads
        self.own: dict[object, dict[ox.NamedNode, list]] = {}
        mentioned: set[ox.NamedNode] = set()
        named = ox.NamedNode
        for q in quads:
            # Each attribute of an Oxigraph quad is a new Python object: read each once.
            subject, predicate, obj = q.subject, q.predicate, q.object
            props = self.own.get(subject)
            if props is None:
                props = self.own[subject] = {}
            values = props.get(predicate)
            if values is None:
                props[predicate] = [obj]
            else:
                values.append(obj)
            if type(subject) is named:
                mentioned.add(subject)
            if type(obj) is named:
                mentioned.add(obj)
        self.describe = describe
        self.mentioned = mentioned
        self.schema = schema
        self._superclasses: dict[object, set] = {}
        self._cache: dict[object, dict[ox.NamedNode, list]] = {}
        self._classes: dict[object, set] = {}

    def properties(self, node: object) -> dict[ox.NamedNode, list]:
        """Return predicate -> objects of ``node`` in the data graph (duplicates removed)."""
        found = self._cache.get(node)
        if found is not None:
            return found
        own = self.own.get(node, {})
        extra = self.describe.get(node, ()) if node in self.mentioned else ()
        if not extra:
            found = own
        else:
            found = {p: list(dict.fromkeys(v)) for p, v in own.items()}
            for q in extra:
                values = found.setdefault(q.predicate, [])
                if q.object not in values:
                    values.append(q.object)
        self._cache[node] = found
        return found

    def values(self, node: object, predicate: ox.NamedNode) -> list:
        return self.properties(node).get(predicate, [])

    def is_instance(self, node: object, cls: ox.NamedNode) -> bool:
        """Say whether ``node`` has ``rdf:type/rdfs:subClassOf*`` ``cls``."""
        return cls in self.classes(node)

    def classes(self, node: object) -> set:
        """Return every class ``node`` is an instance of, through ``rdfs:subClassOf`` too."""
        found = self._classes.get(node)
        if found is None:
            found = set()
            for t in self.values(node, _RDF_TYPE):
                found.add(t)
                found |= self.superclasses(t)
            self._classes[node] = found
        return found

    def superclasses(self, cls: object) -> set:
        found = self._superclasses.get(cls)
        if found is None:
            found, todo = set(), [cls]
            while todo:
                for sup in self.values(todo.pop(), _SUBCLASS):
                    if sup not in found:
                        found.add(sup)
                        todo.append(sup)
            self._superclasses[cls] = found
        return found

    def store(self) -> ox.Store:
        """Return the data graph as an Oxigraph store, for SPARQL-based constraints."""
        store = ox.Store()
        store.extend(self.quads)
        seen: set[ox.NamedNode] = set()
        context = []
        for node in self.mentioned:
            if node not in seen:
                seen.add(node)
                context.extend(self.describe.get(node, ()))
        store.extend(context)
        store.extend(self.schema)
        return store


# --- compiled shapes --------------------------------------------------------------------------------

@dataclass
class _Result:
    shape: "_Shape"
    focus: object
    component: URIRef
    value: object = None
    path: object = None
    messages: list[Literal] | None = None  # already worded (SPARQL); None: the shape's own


@dataclass
class _Shape:
    node: Node
    severity: str
    messages: list[Literal]
    path: ox.NamedNode | None = None
    checks: list[Callable[..., Iterator[_Result]]] = field(default_factory=list)  # (shape, focus, values, data, conforms)
    properties: list["_Shape"] = field(default_factory=list)
    sparql: list[tuple[str, list[Literal], bool]] = field(default_factory=list)  # (query, messages, binds $this)
    class_targets: list[ox.NamedNode] = field(default_factory=list)
    subject_targets: list[ox.NamedNode] = field(default_factory=list)
    deactivated: bool = False


class FastShapes:
    """Compile the targeted shapes once; validate one record's data graph with them."""

    def __init__(self, shapes: Graph, harvested: ShapesGraph, use_shapes: Iterable[str]):
        self.g = shapes
        self.harvested = harvested
        self._compiled: dict[Node, _Shape] = {}
        self.shapes: list[_Shape] = []
        self.delegated: list[str] = []  # shapes left to pySHACL
        for name in use_shapes:
            node = URIRef(name)
            try:
                shape = self._compile(node, targeted=True)
            except Unsupported:
                self.delegated.append(name)
                continue
            self.shapes.append(shape)
        # Which shapes each class and each predicate targets, to find every shape's focus nodes in
        # one pass over a record's nodes.
        self._by_class: dict[ox.NamedNode, list[int]] = {}
        self._by_predicate: dict[ox.NamedNode, list[int]] = {}
        for i, shape in enumerate(self.shapes):
            for cls in shape.class_targets:
                self._by_class.setdefault(cls, []).append(i)
            for predicate in shape.subject_targets:
                self._by_predicate.setdefault(predicate, []).append(i)

    # --- compiling --------------------------------------------------------------------------------

    def _compile(self, node: Node, targeted: bool = False) -> _Shape:
        if node in self._compiled:
            return self._compiled[node]
        g = self.g
        for p in _UNSUPPORTED_TARGETS:
            if (node, p, None) in g:
                raise Unsupported(f"{node}: target {p}")
        if (node, RDF.type, RDFS.Class) in g or (node, RDF.type, URIRef("http://www.w3.org/2002/07/owl#Class")) in g:
            raise Unsupported(f"{node}: implicit class target")
        severity = g.value(node, SH.severity)
        deactivated = g.value(node, SH.deactivated)
        shape = _Shape(node, severity_name(severity) if severity is not None else "Violation",
                       list(g.objects(node, SH.message)),
                       deactivated=bool(deactivated is not None and deactivated.toPython() is True))
        self._compiled[node] = shape  # before the parts, so recursive shapes terminate
        path = g.value(node, SH.path)
        if path is not None:
            if not isinstance(path, URIRef):
                raise Unsupported(f"{node}: complex path")
            shape.path = ox.NamedNode(str(path))
        shape.class_targets = [ox.NamedNode(str(c)) for c in g.objects(node, SH.targetClass)]
        shape.subject_targets = [ox.NamedNode(str(c)) for c in g.objects(node, SH.targetSubjectsOf)]
        for p, o in g.predicate_objects(node):
            if p in _INERT:
                continue
            name = str(p).rsplit("#", 1)[-1] if str(p).startswith(str(SH)) else None
            maker = getattr(self, f"_c_{name}", None) if name else None
            if maker is None:
                raise Unsupported(f"{node}: {p}")
            shape.checks.append(maker(o))
        for prop in g.objects(node, SH.property):
            shape.properties.append(self._compile(prop))
        if (node, SH.sparql, None) in g:
            self._compile_sparql(node, shape)
        return shape

    def _compile_sparql(self, node: Node, shape: _Shape) -> None:
        try:
            constraint = SPARQLBasedConstraint(self.harvested.lookup_shape_from_node(node))
        except KeyError as exc:
            raise Unsupported(f"{node}: SPARQL constraint on a shape pySHACL does not know") from exc
        for helper in constraint.sparql_constraints:
            if helper.deactivated:
                continue
            binds, text = helper.pre_bind_variables(URIRef("urn:docket:focus"))
            if set(binds) - {"this"}:
                raise Unsupported(f"{node}: SPARQL constraint binds {sorted(binds)}")
            messages = list(helper.messages or ())
            shape.sparql.append((helper.apply_prefixes(text), messages, "this" in binds))

    def _shape_list(self, node: Node) -> list[_Shape]:
        return [self._compile(n) for n in Collection(self.g, node)]

    def _c_minCount(self, o):
        n = int(o)
        def check(shape, focus, values, data, conforms):
            if len(values) < n:
                yield _Result(shape, focus, _COMPONENT["minCount"])
        return check

    def _c_maxCount(self, o):
        n = int(o)
        def check(shape, focus, values, data, conforms):
            if len(values) > n:
                yield _Result(shape, focus, _COMPONENT["maxCount"])
        return check

    def _c_datatype(self, o):
        rule = URIRef(str(o))
        # pySHACL's own test of a literal against a datatype, so ill-typed values fail alike.
        probe = DatatypeConstraintComponent.__new__(DatatypeConstraintComponent)
        verdicts: dict[object, bool] = {}

        def matches(v) -> bool:
            if v not in verdicts:
                ok = False
                if isinstance(v, ox.Literal):
                    lit = to_rdf(v)
                    if lit.datatype == rule:
                        ok = getattr(lit, "ill_typed", None) is not True and probe._assert_actual_datatype(lit, rule)
                    elif rule == RDFS.Literal:
                        ok = True
                    elif rule == RDFS.Datatype and lit.datatype:
                        ok = True
                    elif lit.datatype is None and lit.language is None and rule == URIRef(
                            "http://www.w3.org/2001/XMLSchema#string"):
                        ok = probe._assert_actual_datatype(lit, rule)
                    elif rule == RDF.langString and lit.language:
                        ok = probe._assert_actual_datatype(lit, rule)
                verdicts[v] = ok
            return verdicts[v]

        def check(shape, focus, values, data, conforms):
            for v in values:
                if not matches(v):
                    yield _Result(shape, focus, _COMPONENT["datatype"], v)
        return check

    def _c_pattern(self, o):
        flags_text = ""
        # sh:flags belongs to the same shape; read it from there.
        for s in self.g.subjects(SH.pattern, o):
            f = self.g.value(s, SH.flags)
            if f is not None:
                flags_text = str(f)
        flags = 0
        for letter, flag in (("i", re.I), ("m", re.M), ("s", re.S), ("x", re.X)):
            if letter in flags_text:
                flags |= flag
        regex = re.compile(str(o), flags)

        def check(shape, focus, values, data, conforms):
            for v in values:
                if isinstance(v, ox.BlankNode) or not regex.search(v.value):
                    yield _Result(shape, focus, _COMPONENT["pattern"], v)
        return check

    def _c_hasValue(self, o):
        wanted = to_ox(o)
        def check(shape, focus, values, data, conforms):
            if wanted not in values:
                yield _Result(shape, focus, _COMPONENT["hasValue"])
        return check

    def _c_class(self, o):
        cls = ox.NamedNode(str(o))
        def check(shape, focus, values, data, conforms):
            for v in values:
                if isinstance(v, ox.Literal) or not data.is_instance(v, cls):
                    yield _Result(shape, focus, _COMPONENT["class"], v)
        return check

    def _c_node(self, o):
        inner = self._compile(o)
        def check(shape, focus, values, data, conforms):
            for v in values:
                if not conforms(inner, v):
                    yield _Result(shape, focus, _COMPONENT["node"], v)
        return check

    def _c_not(self, o):
        inner = self._compile(o)
        def check(shape, focus, values, data, conforms):
            for v in values:
                if conforms(inner, v):
                    yield _Result(shape, focus, _COMPONENT["not"], v)
        return check

    def _c_or(self, o):
        options = self._shape_list(o)
        def check(shape, focus, values, data, conforms):
            for v in values:
                if not any(conforms(inner, v) for inner in options):
                    yield _Result(shape, focus, _COMPONENT["or"], v)
        return check

    def _c_uniqueLang(self, o):
        if not (isinstance(o, Literal) and o.toPython() is True):
            return lambda *a: iter(())
        def check(shape, focus, values, data, conforms):
            seen, dupes = set(), []
            for v in values:
                if isinstance(v, ox.Literal) and v.language:
                    lang = v.language.lower()
                    if lang in seen and lang not in dupes:
                        dupes.append(lang)
                    seen.add(lang)
            for _ in dupes:
                yield _Result(shape, focus, _COMPONENT["uniqueLang"])
        return check

    def _c_nodeKind(self, o):
        kinds = {
            SH.IRI: (ox.NamedNode,), SH.BlankNode: (ox.BlankNode,), SH.Literal: (ox.Literal,),
            SH.BlankNodeOrIRI: (ox.NamedNode, ox.BlankNode), SH.BlankNodeOrLiteral: (ox.BlankNode, ox.Literal),
            SH.IRIOrLiteral: (ox.NamedNode, ox.Literal),
        }
        if o not in kinds:
            raise Unsupported(f"sh:nodeKind {o}")
        allowed = kinds[o]
        def check(shape, focus, values, data, conforms):
            for v in values:
                if not isinstance(v, allowed):
                    yield _Result(shape, focus, _COMPONENT["nodeKind"], v)
        return check

    def _c_in(self, o):
        allowed = {to_ox(t) for t in Collection(self.g, o)}
        def check(shape, focus, values, data, conforms):
            for v in values:
                if v not in allowed:
                    yield _Result(shape, focus, _COMPONENT["in"], v)
        return check

    # --- validating -------------------------------------------------------------------------------

    def validate(self, data: DataIndex) -> list[_Result]:
        """Return the results for focus nodes the record's own triples describe."""
        results: list[_Result] = []
        store: list[ox.Store] = []  # built once, only if a SPARQL constraint has a focus node

        def conforms(shape: _Shape, node: object) -> bool:
            return not any(True for _ in self._evaluate(shape, node, data, conforms, store))

        for shape, focus_nodes in zip(self.shapes, self._focus_nodes(data)):
            if shape.deactivated:
                continue
            for focus in focus_nodes:
                results.extend(self._evaluate(shape, focus, data, conforms, store))
        return results

    def _focus_nodes(self, data: DataIndex) -> list[list]:
        """Return, per shape in ``self.shapes``, the nodes of the record it targets, in the record's order."""
        found: list[list] = [[] for _ in self.shapes]
        by_class, by_predicate = self._by_class, self._by_predicate
        for node, props in data.own.items():
            targeted: set[int] = set()
            for cls in data.classes(node):
                targeted.update(by_class.get(cls, ()))
            for predicate in props:
                targeted.update(by_predicate.get(predicate, ()))
            for i in targeted:
                found[i].append(node)
        return found

    def _evaluate(self, shape: _Shape, focus: object, data: DataIndex, conforms, store: list
                  ) -> Iterator[_Result]:
        if shape.deactivated:
            return
        values = data.values(focus, shape.path) if shape.path is not None else [focus]
        for check in shape.checks:
            yield from check(shape, focus, values, data, conforms)
        for prop in shape.properties:
            yield from self._evaluate(prop, focus, data, conforms, store)
        for query, messages, binds_this in shape.sparql:
            if not store:
                store.append(data.store())
            subs = {ox.Variable("this"): focus} if binds_this else None
            for row in _distinct_rows(store[0].query(query, substitutions=subs)):
                yield self._sparql_result(shape, focus, row, messages)

    def _sparql_result(self, shape: _Shape, focus: object, row: dict, messages: list[Literal]) -> _Result:
        this, path, value = row.pop("this", None), row.pop("path", None), row.pop("value", None)
        if value is None and shape.path is None:
            value = focus
        bound = {k: v for k, v in row.items()}
        for key, term in (("this", this), ("path", path), ("value", value)):
            if term is not None:
                bound[key] = term
        worded = []
        own = list(shape.messages)
        for m in messages:
            if m not in own:
                worded.append(Literal(_fill(str(m.value), bound)))
        worded.extend(Literal(_fill(str(m.value), bound), lang=m.language) for m in own)
        return _Result(shape, this or focus, _SPARQL_COMPONENT, value, path, worded)


def _distinct_rows(solutions) -> Iterator[dict]:
    """Yield each solution as {variable: rdflib term}, skipping those pySHACL would drop as repeats."""
    names = [v.value for v in solutions.variables]
    seen = []
    for solution in solutions:
        row = {name: to_rdf(solution[name]) for name in names if solution[name] is not None}
        key = (row.get("this"), row.get("path"), row.get("value"),
               {k: v for k, v in row.items() if k not in ("this", "path", "value")})
        if key in seen:
            continue
        seen.append(key)
        yield row


def _fill(message: str, bound: dict) -> str:
    for var, val in bound.items():
        message = re.sub("{{[?$]{}}}".format(var), str(val), message)
    return message


def to_finding(result: _Result, data: DataIndex, english_first: Callable) -> Finding:
    """Turn a result into a Finding as ``Engine._finding`` words pySHACL's."""
    shape = result.shape
    messages = result.messages if result.messages is not None else list(shape.messages)
    messages = sorted(messages, key=english_first)
    focus = result.focus if isinstance(result.focus, Node) else to_rdf(result.focus)
    value = result.value if result.value is None or isinstance(result.value, Node) else to_rdf(result.value)
    path = result.path
    if path is None and shape.path is not None:
        path = URIRef(shape.path.value)
    label = None
    if isinstance(focus, URIRef):
        labels = sorted(v.value for v in data.values(ox.NamedNode(str(focus)), _PREF_LABEL))
        label = labels[0] if labels else None
    return Finding(
        severity=shape.severity,
        message=str(messages[0]) if messages else "",
        focus=focus,
        path=path,
        value=value,
        shape=shape.node,
        component=result.component,
        label=label,
    )


def needs_reference(result: _Result) -> bool:
    """Say whether pySHACL must decide: a violation, or a result without a message to word it."""
    has_message = bool(result.messages) if result.messages is not None else bool(result.shape.messages)
    return result.shape.severity == "Violation" or not has_message or isinstance(result.focus, ox.BlankNode)


__all__ = ["DataIndex", "FastShapes", "Unsupported", "needs_reference", "to_finding"]
