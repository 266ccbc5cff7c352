"""Validation runs per record, in parallel or not with the same outcome, and reports as SHACL and JSON."""

from __future__ import annotations

import json

import pyshacl
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, SH

from docket.ingest.model import Record, SourceRef
from docket.uris import Minter
from docket.validate import (
    EXIT_CONFORMS,
    EXIT_DOES_NOT_CONFORM,
    EXIT_ERROR,
    VIOLATION,
    WARNING,
    ShapeSource,
    ShapesError,
    ValidationReport,
    Validator,
)

from test_shapes import BASE, PREFIXES  # the same fixtures' prefixes

DOCKET = Namespace(BASE + "ontology#")

CONTEXT = PREFIXES + """
<id/agent/ccp> a foaf:Agent, foaf:Organization ; skos:prefLabel "CCP Central Committee" .
<id/type/telegram> a skos:Concept ; skos:prefLabel "Telegram" .
"""


def record(n: int, *, title: bool = True, dangling: bool = False, unknown_kind: bool = False) -> bytes:
    """Return record r{n} as N-Triples; options break it or give it a warning."""
    ttl = PREFIXES + f"""
    <id/record/r{n}> a dcmitype:Text, rico:Record ; dcterms:date "1954-06-{n % 28 + 1:02d}"^^xsd:date ;
        dcterms:type <id/type/telegram> ; dcterms:identifier "r{n}" ; dcterms:creator <id/agent/ccp> ;
        dcterms:rights "Public domain" .
    """
    if title:
        ttl += f'<id/record/r{n}> dcterms:title "Telegram {n}" .\n'
    if dangling:
        ttl += f"<id/record/r{n}> dcterms:audience <id/agent/missing-{n}> .\n"
    if unknown_kind:
        ttl += f"""<id/record/r{n}> dcterms:audience <id/agent/x-{n}> .
        <id/agent/x-{n}> a foaf:Agent ; skos:prefLabel "X {n}" .\n"""
    return Graph().parse(data=ttl, format="turtle").serialize(format="nt", encoding="utf-8")


def items(count: int = 24):
    for n in range(count):
        yield (f"r{n}", record(n, title=n % 5 != 1, dangling=n % 7 == 3, unknown_kind=n % 4 == 2), f"batch.json, record {n + 1}")


@pytest.fixture(scope="module")
def shapes(repo_root) -> ShapeSource:
    return ShapeSource.read(repo_root / "shapes", BASE)


@pytest.fixture(scope="module")
def validator(shapes):
    with Validator(shapes=shapes, context=Graph().parse(data=CONTEXT, format="turtle"), workers=1) as v:
        yield v


def summary(results):
    return [(r.record, r.source, r.conforms, [f.to_json() for f in r.findings]) for r in results]


def test_parallel_and_serial_validation_agree_and_keep_input_order(shapes, validator):
    serial = list(validator.validate_many(items()))
    with Validator(shapes=shapes, context=CONTEXT_NT(), workers=2, batch_size=5) as parallel:
        results = list(parallel.validate_many(items()))
        assert parallel._pool is not None  # the work really went to two worker processes
    assert summary(results) == summary(serial)
    assert [r.record for r in results] == [f"r{n}" for n in range(24)]
    # The fixture mixes outcomes, so agreement means something.
    assert {r.conforms for r in serial} == {True, False}
    assert any(f.severity == WARNING for r in serial for f in r.findings)


def test_a_handful_of_records_is_validated_without_starting_workers(shapes):
    with Validator(shapes=shapes, context=CONTEXT_NT(), workers=2, batch_size=32) as v:
        results = list(v.validate_many(items(3)))
        assert v._pool is None
    assert [r.record for r in results] == ["r0", "r1", "r2"]


def CONTEXT_NT() -> bytes:
    return Graph().parse(data=CONTEXT, format="turtle").serialize(format="nt", encoding="utf-8")


def test_results_match_plain_pyshacl_on_the_same_data(shapes, validator):
    """pySHACL is the reference: our per-record engine must say exactly what pyshacl.validate says."""
    for n, data in [(1, record(1, title=False, dangling=True)), (2, record(2, unknown_kind=True)), (3, record(3))]:
        ours = validator.validate(f"r{n}", data)
        g = Graph().parse(data=data, format="nt")
        g.parse(data=CONTEXT, format="turtle")
        _conforms, report, _text = pyshacl.validate(g, shacl_graph=shapes.parse(), advanced=False)
        reference = {
            (str(report.value(r, SH.sourceShape)), str(report.value(r, SH.focusNode)),
             str(report.value(r, SH.resultSeverity)).rsplit("#")[-1], str(report.value(r, SH.value)))
            for r in report.objects(None, SH.result)
        }
        mine = {(str(f.shape), str(f.focus), f.severity, str(f.value)) for f in ours.findings}
        assert mine == reference


def test_a_violation_holds_the_record_back_and_says_where(validator):
    result = validator.validate("r1", record(1, title=False), "batch.json, record 2")
    assert not result.conforms
    (f,) = result.findings
    assert (f.severity, f.field, f.message, f.record, f.source) == (
        VIOLATION, "title", "The record has no title", "r1", "batch.json, record 2")
    assert "batch.json, record 2, record r1 [title]: The record has no title" in str(f)


def test_unreadable_record_is_an_error_not_a_crash(validator):
    result = validator.validate("r9", b"<http://example.org/id/record/r9> this is not n-triples", "x.json")
    assert not result.conforms and result.error
    report = ValidationReport(Minter(BASE))
    report.add(result)
    assert report.exit_code == EXIT_ERROR
    assert "x.json, record r9" in report.errors[0]


def make_report(validator) -> ValidationReport:
    report = ValidationReport(Minter(BASE))
    report.extend(validator.validate_many(items(8)))
    report.add_warning(file="seed.txt", record="r0", field="record_id", message="The page gives no record ID",
                       code="no-record-id")
    return report


def test_exit_codes_follow_pyshacl(validator):
    clean = ValidationReport(Minter(BASE))
    clean.add(validator.validate("r0", record(0)))
    assert (clean.conforms, clean.exit_code) == (True, EXIT_CONFORMS)
    clean.add(validator.validate("r2", record(2, unknown_kind=True)))
    clean.add_warning(file="a.txt", record="r2", field="date", message="Two dates disagree", code="date-mismatch")
    assert clean.exit_code == EXIT_CONFORMS  # warnings publish
    failing = make_report(validator)
    assert (failing.conforms, failing.exit_code) == (False, EXIT_DOES_NOT_CONFORM)
    failing.add_error("shapes folder shapes/ does not exist")
    assert failing.exit_code == EXIT_ERROR


def test_report_graph_is_a_shacl_validation_report(validator):
    report = make_report(validator)
    node = URIRef(BASE + "graph/validation#report")
    text = report.to_graph(node).serialize(format="turtle")
    g = Graph().parse(data=text, format="turtle")
    assert (node, RDF.type, SH.ValidationReport) in g
    assert g.value(node, SH.conforms) == Literal(False)
    results = list(g.objects(node, SH.result))
    assert len(results) == len(report.all_findings()) > 0
    for r in results:
        assert (r, RDF.type, SH.ValidationResult) in g
        assert g.value(r, SH.resultSeverity) in {SH.Violation, SH.Warning, SH.Info}
        assert g.value(r, SH.focusNode) is not None
        assert g.value(r, SH.sourceConstraintComponent) is not None
        assert g.value(r, SH.resultMessage) is not None
    no_title = [r for r in results if str(g.value(r, SH.resultMessage)) == "The record has no title"]
    assert no_title and all(g.value(r, DOCKET.field) == Literal("title") for r in no_title)
    assert all(g.value(r, SH.sourceShape) == URIRef(BASE + "shapes#RecordTitleRequired") for r in no_title)


def test_reader_warnings_are_warnings_of_the_same_report(validator):
    report = make_report(validator)
    ingest_record = Record(source=SourceRef("seed.txt", 1, 1), id="r5")
    ingest_record.warn("uploaded_date", "The page gives no upload date", "no-uploaded-date")
    report.add_problems(ingest_record.problems, file=str(ingest_record.source), record=ingest_record.id)
    g = report.to_graph()
    reader = [r for r in g.subjects(SH.sourceConstraintComponent, DOCKET.ReaderCheck)]
    assert len(reader) == 2
    codes = {str(g.value(r, DOCKET.code)) for r in reader}
    assert codes == {"no-record-id", "no-uploaded-date"}
    for r in reader:
        assert g.value(r, SH.resultSeverity) == SH.Warning
        assert g.value(r, SH.focusNode) in {URIRef(BASE + "id/record/r0"), URIRef(BASE + "id/record/r5")}
        assert str(g.value(r, DOCKET.sourceFile)).startswith("seed.txt")
    data = report.to_json()
    warned = [r for r in data["results"] if r["code"] == "no-uploaded-date"]
    assert warned == [{
        "severity": "Warning", "record": "r5", "file": "seed.txt, line 1", "field": "uploaded_date",
        "message": "The page gives no upload date", "focus": BASE + "id/record/r5", "label": None,
        "path": None, "value": None, "shape": None, "component": BASE + "ontology#ReaderCheck",
        "code": "no-uploaded-date",
    }]


def test_json_report_lists_counts_held_back_records_and_every_finding(validator):
    report = make_report(validator)
    data = json.loads(json.dumps(report.to_json()))
    assert set(data) == {"conforms", "created", "counts", "errors", "held_back", "results"}
    assert data["conforms"] is False
    held = [h["record"] for h in data["held_back"]]
    assert held == ["r1", "r3", "r6"]  # no title (1, 6), dangling link (3)
    assert data["held_back"][0] == {"record": "r1", "file": "batch.json, record 2"}
    counts = data["counts"]
    assert counts["records"] == 8 and counts["held_back"] == 3 and counts["conforming"] == 5
    assert counts["violations"] == sum(1 for r in data["results"] if r["severity"] == "Violation") == 3
    assert counts["warnings"] == sum(1 for r in data["results"] if r["severity"] == "Warning") == 3
    dangling = [r for r in data["results"] if r["field"] == "link"]
    assert dangling[0]["value"] == BASE + "id/agent/missing-3" and dangling[0]["path"].endswith("audience")


def test_duplicate_identifiers_hold_back_every_record_involved(validator):
    description = Graph().parse(data=PREFIXES + '<id/dataset/docket> a void:Dataset ; dcterms:title "Docket" .',
                                format="turtle")
    pairs = [(BASE + "id/record/r1", "r1"), (BASE + "id/record/r2", "r2"), (BASE + "id/record/r2", "121160"),
             (BASE + "id/record/r3", "121160")]
    found = validator.validate_dataset(description, pairs)
    assert sorted(f.record for f in found) == ["r2", "r3"]
    report = ValidationReport(Minter(BASE))
    report.add(validator.validate("r1", record(1)))
    report.add_findings(found)
    assert report.held_back() == ["r2", "r3"]
    assert report.exit_code == EXIT_DOES_NOT_CONFORM


def test_missing_or_broken_shapes_are_named(tmp_path):
    with pytest.raises(ShapesError, match="does not exist"):
        ShapeSource.read(tmp_path / "nowhere", BASE)
    (tmp_path / "record.ttl").write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\n<a> sh:path .\n")
    with pytest.raises(ShapesError, match="record.ttl"):
        ShapeSource.read(tmp_path, BASE).parse()


def test_shapes_fingerprint_changes_with_the_rules_and_the_base(shapes, repo_root):
    assert shapes.fingerprint() == ShapeSource.read(repo_root / "shapes", BASE).fingerprint()
    assert shapes.fingerprint() != ShapeSource.read(repo_root / "shapes", "https://other.example/").fingerprint()
    changed = ShapeSource(BASE, shapes.files[:-1])
    assert changed.fingerprint() != shapes.fingerprint()


def test_the_seed_record_conforms_and_its_warnings_are_reported(settings):
    from docket.ingest import ingest
    from docket.mapping import Mapper

    (record,) = ingest([settings.records_dir], settings).records
    mapper = Mapper(settings)
    mapped = mapper.map(record)
    with Validator.from_settings(settings, mapper.authorities_graph() + mapper.ontology_graph(), workers=1) as v:
        outcome = v.validate(record.id, mapped.graph, str(record.source))
        authorities = v.validate_context()
    assert outcome.conforms, [str(f) for f in outcome.findings]
    assert authorities == [], [str(f) for f in authorities]
    report = ValidationReport(Minter.from_settings(settings))
    report.add(outcome)
    report.add_problems(mapped.problems, file=str(record.source), record=record.id)
    assert report.exit_code == EXIT_CONFORMS
    warnings = {f.code: f for f in report.findings}
    assert set(warnings) >= {"no-record-id", "no-uploaded-date", "fuzzy-match"}
    assert all(f.severity == WARNING and f.record == record.id for f in warnings.values())
    assert warnings["no-record-id"].source.startswith("telegram-1954-06-20-ccp-to-zhou-enlai.txt")


def test_text_report_lists_violations_first_and_ends_with_the_summary(validator):
    report = make_report(validator)
    lines = report.lines()
    assert lines[-1] == "8 records: 5 conform, 3 held back; 3 violations, 3 warnings, 0 notes"
    severities = [line.split(":")[0] for line in lines[:-1]]
    assert severities == sorted(severities, key=["Violation", "Warning", "Info"].index)
    assert "Warning: seed.txt, record r0 [record_id]: The page gives no record ID" in lines
