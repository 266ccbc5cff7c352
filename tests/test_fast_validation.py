"""The fast engine finds exactly what pySHACL finds, and a record is only ever held back on pySHACL's word.

Compared on every fixture of the shape tests (one conforming record, then one change per constraint),
on synthetic records (which carry unreconciled names, fuzzy matches and agents of unknown kind), and
on the seed record: same severity, message, field, focus, path, value, shape, component and label.
"""

from __future__ import annotations

import pytest
from rdflib import Graph

from bench.synthetic import generate
from docket.ingest import ingest
from docket.ingest.registry import IdRegistry
from docket.mapping import Mapper
from docket.validate import VIOLATION, WARNING, Engine, ShapeSource, Validator
from test_shapes import BASE, CONTEXT, record_data

# (properties removed from the conforming record, Turtle added to it): each breaks or keeps one rule.
CASES = [
    ((), ""),
    (("title",), ""),
    ((), '<id/record/r1> dcterms:title "A second title" .'),
    (("title",), '<id/record/r1> dcterms:title "Telegram"@en .'),
    (("title",), '<id/record/r1> dcterms:title "  \\n " .'),
    (("date",), ""),
    ((), '<id/record/r1> dcterms:date "1954-06-21"^^xsd:date .'),
    (("date",), '<id/record/r1> dcterms:date "1954-02-30"^^xsd:date .'),
    (("date",), '<id/record/r1> dcterms:date "1954-13"^^xsd:gYearMonth .'),
    (("date",), '<id/record/r1> dcterms:date "1954-06"^^xsd:gYearMonth .'),
    (("date",), '<id/record/r1> dcterms:date "1799"^^xsd:gYear .'),
    (("date",), '<id/record/r1> dcterms:date "2101-01-01"^^xsd:date .'),
    (("date",), '<id/record/r1> dcterms:date "1954" .'),
    (("type",), ""),
    (("type",), "<id/record/r1> dcterms:type <id/agent/zhou-enlai> ."),
    (("creator",), ""),
    (("creator",), "<id/record/r1> dcterms:creator <id/agent/nameless> ."),
    (("creator",), "<id/record/r1> dcterms:creator <id/type/telegram> ."),
    (("rights",), ""),
    (("rights",), '<id/record/r1> dcterms:rights "" .'),
    (("identifier",), ""),
    (("identifier",), '<id/record/r1> dcterms:identifier "" .'),
    (("identifier",), "<id/record/r1> dcterms:identifier <http://example.com/r1> ."),
    (("http://www.w3.org/1999/02/22-rdf-syntax-ns#type",), "<id/record/r1> a rico:Record ."),
    ((), "<id/record/r1> dcterms:subject <id/topic/nowhere> ."),
    ((), "<id/record/r1#event> dcterms:subject <id/place/nowhere> ."),
    ((), "<id/record/r1> dcterms:spatial <id/place/geneva> ; dcterms:references <http://example.com/x> ."),
    ((), "<id/record/r1> dcterms:contributor <id/agent/new> . <id/agent/new> a foaf:Agent, foaf:Person ."),
    ((), '<id/record/r1> dcterms:contributor <id/agent/new> . <id/agent/new> a foaf:Agent, foaf:Person ; '
         'skos:prefLabel "New"@en, "Neu"@en, "Nouveau"@fr ; docket:unreconciled true .'),
    ((), '<id/record/r1> dcterms:contributor <id/agent/new> . <id/agent/new> a foaf:Agent ; '
         'skos:prefLabel "Someone" ; docket:unreconciled true .'),
    ((), '<id/record/r1> dcterms:spatial <id/place/new> . <id/place/new> a dcterms:Location ; '
         'skos:prefLabel "Hanoi" ; docket:unreconciled true .'),
    ((), "<id/record/r1> dcterms:spatial <id/place/new> . <id/place/new> a dcterms:Location ."),
    ((), '<id/record/r1> dcterms:spatial <id/place/new> . <id/place/new> a dcterms:Location ; '
         'skos:prefLabel "Ha Noi"@vi, "Hanoi"@VI .'),
    ((), '<id/record/r1> dcterms:subject <id/topic/new> . <id/topic/new> a skos:Concept ; '
         'skos:prefLabel "Aid" ; docket:unreconciled "true"^^xsd:boolean .'),
    ((), "<id/record/r1> dcterms:subject <id/topic/new> . <id/topic/new> a skos:Concept ."),
    ((), '<id/record/r1#event> sem:hasBeginTimeStamp "1954-06-21"^^xsd:date .'),
    ((), '<id/record/r1#event> sem:hasEndTimeStamp "1954-06-19"^^xsd:date .'),
    ((), '<id/record/r1#event> sem:hasEndTimeStamp "1954"^^xsd:gYear .'),
    ((), '<id/record/r1#event> sem:hasEndTimeStamp "1953-12"^^xsd:gYearMonth .'),
    ((), '<id/record/r1#event> sem:hasEndTimeStamp "soon" .'),
    ((), '<id/record/r1#event2> a sem:Event ; sem:hasBeginTimeStamp "1954-06"^^xsd:gYearMonth ; '
         'sem:hasEndTimeStamp "1954-05-31"^^xsd:date .'),
    ((), '<id/event/war> a sem:Event ; skos:prefLabel "A war" ; docket:unreconciled true ; '
         'sem:hasBeginTimeStamp "1946"^^xsd:gYear . <id/record/r1> dcterms:subject <id/event/war> .'),
]


@pytest.fixture(scope="module")
def engines(repo_root) -> tuple[Engine, Engine]:
    shapes = ShapeSource.read(repo_root / "shapes", BASE)
    context = Graph().parse(data=CONTEXT, format="turtle")
    return Engine(shapes, context, engine="fast"), Engine(shapes, context, engine="pyshacl")


def assert_same(fast: Engine, reference: Engine, record: str, data: bytes) -> list:
    """Assert the fast engine's own findings equal pySHACL's; return them."""
    checked = fast.fast_check(data)
    assert checked is not None
    found, must_ask = checked
    expected = [f.with_context(None, None) for f in reference.validate_record(record, data).findings]
    assert found == expected
    assert must_ask is any(f.severity == VIOLATION for f in expected)
    return found


@pytest.mark.parametrize("without,extra", CASES)
def test_fast_engine_finds_what_pyshacl_finds_on_every_shape_fixture(engines, without, extra):
    fast, reference = engines
    assert_same(fast, reference, "r1", record_data(without, extra))


def test_the_fixtures_exercise_violations_and_warnings_of_every_record_shape(engines):
    fast, _ = engines
    shapes, severities = set(), set()
    for without, extra in CASES:
        for finding in fast.fast_check(record_data(without, extra))[0]:
            shapes.add(str(finding.shape).rsplit("#", 1)[-1])
            severities.add(finding.severity)
    assert severities == {VIOLATION, WARNING}
    assert {"RecordLinks", "EventOrder", "RecordSenderNamed", "RecordDateDatatype", "AgentKind",
            "PlaceNameOnePerLanguage", "RecordIdentifierNotEmpty"} <= shapes


def test_fast_engine_agrees_with_pyshacl_on_synthetic_records_and_the_seed(settings, seed_path):
    mapper = Mapper(settings)
    context = mapper.authorities_graph() + mapper.ontology_graph()
    shapes = ShapeSource.read(settings.shapes_dir, settings.base_uri)
    fast, reference = Engine(shapes, context, engine="fast"), Engine(shapes, context, engine="pyshacl")
    seed = ingest([seed_path], settings, registry=IdRegistry(None)).records
    found = {VIOLATION: 0, WARNING: 0}
    for n, record in enumerate([*seed, *generate(60, seed=11)]):
        data = mapper.map(record).graph.serialize(format="nt", encoding="utf-8")
        for finding in assert_same(fast, reference, record.id, data):
            found[finding.severity] = found.get(finding.severity, 0) + 1
        # Damaged copies, so that the engines also have to agree on what they report, not only on silence:
        # agents of unknown kind (warnings), and a record without its title or its date (violations).
        lines = data.splitlines(keepends=True)
        cut = (b"foaf/0.1/Person>", b"foaf/0.1/Organization>") if n % 2 else (b"terms/title>", b"terms/date>")
        damaged = b"".join(line for line in lines if not any(c in line for c in cut))
        for finding in assert_same(fast, reference, record.id, damaged):
            found[finding.severity] = found.get(finding.severity, 0) + 1
    assert found[WARNING] > 60 and found[VIOLATION] > 30, found  # the comparison is not empty


def test_a_record_is_held_back_only_on_pyshacls_word(engines, monkeypatch):
    fast, reference = engines
    calls = []
    original = Engine._run

    def spy(self, store, use_shapes=None):
        calls.append(self.engine)
        return original(self, store, use_shapes)

    monkeypatch.setattr(Engine, "_run", spy)
    conforming = record_data(extra='<id/record/r1> dcterms:contributor <id/agent/new> . <id/agent/new> a '
                                   'foaf:Agent ; skos:prefLabel "New" .')  # of unknown kind: a warning
    result = fast.validate_record("r1", conforming, "fixture.ttl")
    assert calls == [] and result.conforms and result.findings  # warnings only: no need to ask pySHACL
    violating = record_data(("title",))
    result = fast.validate_record("r1", violating, "fixture.ttl")
    assert calls == ["fast"] and not result.conforms
    assert result.findings == reference.validate_record("r1", violating, "fixture.ttl").findings


def test_a_record_bringing_its_own_class_hierarchy_goes_to_pyshacl(engines):
    fast, reference = engines
    data = record_data(extra="<id/type/memo> a <http://example.org/Kind> . "
                             "<http://example.org/Kind> <http://www.w3.org/2000/01/rdf-schema#subClassOf> "
                             "skos:Concept .")
    assert fast.fast_check(data) is None
    assert fast.validate_record("r1", data).findings == reference.validate_record("r1", data).findings


def test_a_literal_where_a_sender_should_be_is_held_back_not_a_crash(engines):
    # pySHACL on Oxigraph raises TypeError following a path from a literal; the record is held back.
    fast, _ = engines
    data = record_data(("creator",), '<id/record/r1> dcterms:creator "Zhou Enlai" .')
    found, must_ask = fast.fast_check(data)
    assert must_ask
    assert {str(f.shape).rsplit("#", 1)[-1] for f in found} == {"RecordSenderIsAgent", "RecordSenderNamed"}
    result = fast.validate_record("r1", data, "fixture.ttl")
    assert not result.conforms and result.error and "pySHACL could not validate" in result.error


def test_validator_takes_the_engine_from_settings(settings, repo_root):
    with Validator.from_settings(settings.replace(validation_engine="pyshacl")) as v:
        assert v.engine.engine == "pyshacl"
    with Validator.from_settings(settings) as v:
        assert v.engine.engine == "fast"
    with pytest.raises(ValueError, match="unknown validation engine"):
        Validator(repo_root / "shapes", engine="quick")


# --- the report, written without rdflib -------------------------------------------------------------


def plain_strings(graph: Graph) -> Graph:
    """Write "x"^^xsd:string as "x": one RDF term, which rdflib alone tells apart."""
    from rdflib import Literal
    from rdflib.namespace import XSD

    out = Graph()
    for s, p, o in graph:
        if isinstance(o, Literal) and o.datatype == XSD.string:
            o = Literal(str(o))
        out.add((s, p, o))
    return out


@pytest.mark.parametrize("fmt,rdflib_format", [("nt", "nt"), ("ttl", "turtle")])
def test_report_written_quickly_is_the_same_graph_as_to_graph(engines, fmt, rdflib_format):
    from rdflib.compare import isomorphic

    from docket.uris import Minter
    from docket.validate import ValidationReport

    fast, _ = engines
    report = ValidationReport(Minter(BASE))
    # Not the ill-typed date: rdflib warns reading it back, and warnings are errors here.
    for n, (without, extra) in enumerate(c for c in CASES[:14] if "02-30" not in c[1]):
        report.add(fast.validate_record(f"r{n}", record_data(without, extra), f"fixture-{n}.ttl"))
    report.errors.append('a "quoted"\nerror')
    assert any(f.severity == VIOLATION for f in report.all_findings())
    fast_graph = Graph().parse(data=report.to_rdf(fmt), format=rdflib_format)
    assert len(fast_graph) > 50
    assert isomorphic(plain_strings(fast_graph), plain_strings(report.to_graph()))
    with pytest.raises(ValueError, match="unknown report format"):
        report.to_rdf("xml")
