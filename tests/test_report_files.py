"""The validation report's files: streamed, yet the same text as the report's JSON and RDF forms."""

from __future__ import annotations

import datetime as _dt
import io
import json

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import XSD

from docket.cli.pipeline import write_report_files
from docket.ingest.model import Problem
from docket.uris import Minter
from docket.validate import Finding, ValidationReport
from docket.validate import report_rdf
from docket.validate.report import RecordResult

BASE = "http://example.org/"
SH = "http://www.w3.org/ns/shacl#"


class Ingested:
    def to_report(self) -> dict:
        return {"records": 3, "rejected": [{"file": "b.csv", "reason": "no \"id\"\nat all: ü"}], "skipped": {}}


def report() -> ValidationReport:
    m = Minter(BASE)
    r = ValidationReport(m, created=_dt.datetime(2024, 5, 1, 12, 0, tzinfo=_dt.timezone.utc))
    r.add(RecordResult("r1", "a.json, record 1", [
        Finding("Violation", 'Title "missing"\nsee \\ notes', "title", m.record("r1"), URIRef(BASE + "p"),
                None, URIRef(SH + "TitleShape"), URIRef(SH + "MinCountConstraintComponent"), "Letter ü", "r1",
                "a.json, record 1"),
        Finding("Warning", "Odd date", "date", m.record("r1"), BNode(), Literal("1950-02-28", datatype=XSD.date),
                BNode(), URIRef(SH + "DatatypeConstraintComponent"), record="r1", source="a.json, record 1"),
        Finding("Info", "Said in French", "title", m.record("r1"), value=Literal("Lettre", lang="fr"),
                record="r1"),
    ]))
    r.add(RecordResult("r2", "a.json, record 2"))
    r.add_warning(file="seed.txt, line 4", record="r2", field="senders", message="No authority for 'Xan'",
                  code="unreconciled")
    r.add_warning(file="seed.txt", record=None, field="", message="A file without records", code="empty")
    for record, field_name in (("r1", "senders"), ("r2", "addressees"), ("r2", "mention in body")):
        r.add_problems([Problem(field_name, f"{field_name}: 'Xan Vel' matches no authority entry; published as a "
                                f"new unreconciled agent <{BASE}id/agent/xan-vel>", "unreconciled",
                                focus=f"{BASE}id/agent/xan-vel")], file=f"{record}.json", record=record)
    r.add_findings([Finding("Violation", "Identifier used twice", focus=URIRef(BASE + "id/dataset/docket"),
                            value=m.record("r2"))])
    r.errors.append('shapes "x" unreadable\nline 2')
    return r


def test_json_is_written_as_json_dumps_writes_it():
    r = report()
    out = io.StringIO()
    r.write_json(out, {"ingest": Ingested().to_report()})
    assert out.getvalue() == json.dumps(r.to_json() | {"ingest": Ingested().to_report()}, indent=1,
                                        ensure_ascii=False)
    empty = ValidationReport(Minter(BASE))
    out = io.StringIO()
    empty.write_json(out)
    assert out.getvalue() == json.dumps(empty.to_json(), indent=1, ensure_ascii=False)


def test_the_report_files_read_back(tmp_path):
    r = report()
    write_report_files(r, Ingested(), tmp_path)
    data = json.loads((tmp_path / "validation.json").read_text(encoding="utf-8"))
    assert data["ingest"] == Ingested().to_report()
    assert [Finding.from_json(f).message for f in data["results"]] == [f.message for f in r.all_findings()]
    assert (tmp_path / "validation.ttl").read_bytes() == r.to_rdf("ttl")


@pytest.mark.parametrize("fmt,rdflib_format", [("nt", "nt"), ("ttl", "turtle")])
def test_streamed_rdf_is_to_rdf(tmp_path, fmt, rdflib_format):
    r = report()
    r.write_rdf(tmp_path / "streamed", fmt)  # written a chunk at a time
    whole = r.to_rdf(fmt)
    (tmp_path / "made.nt").write_bytes(r.to_rdf("nt"))
    r.write_rdf(tmp_path / "given", fmt, ntriples=tmp_path / "made.nt")  # from N-Triples the caller wrote
    assert (tmp_path / "streamed").read_bytes() == whole == (tmp_path / "given").read_bytes()
    graph = Graph().parse(data=whole, format=rdflib_format)
    assert isomorphic(graph, r.to_graph())
    assert b'Title \\"missing\\"\\nsee \\\\ notes' in whole  # escaped alike in N-Triples and Turtle


def test_a_named_report_node(tmp_path):
    r = report()
    named = r.to_rdf("nt", report=URIRef(BASE + "graph/validation#report"))
    assert named != r.to_rdf("nt") and named.startswith(f"<{BASE}graph/validation#report>".encode())


def test_a_build_writes_the_turtle_from_the_triples_it_loaded(tmp_path, monkeypatch):
    r = report()
    loaded = r.to_rdf("nt")  # what the build loads into the store, just before writing the files
    made = []
    original = report_rdf.nt_chunks
    monkeypatch.setattr(report_rdf, "nt_chunks", lambda *a: made.append(1) or original(*a))
    (tmp_path / "loaded.nt").write_bytes(loaded)
    write_report_files(r, Ingested(), tmp_path, tmp_path / "loaded.nt")
    assert made == []
    assert isomorphic(Graph().parse(tmp_path / "validation.ttl"), Graph().parse(data=loaded, format="nt"))


def test_an_unreconciled_name_is_one_finding_that_names_every_record():
    r = report()
    [name] = [f for f in r.all_findings() if f.mentions]
    assert name.focus == URIRef(BASE + "id/agent/xan-vel") and name.record is None
    assert name.message.startswith("'Xan Vel' matches no authority entry")  # the field is the mention's
    assert name.field == "senders, addressees, mention in body"
    assert name.mentions == (("r1", "r1.json", "senders"), ("r2", "r2.json", "addressees"),
                             ("r2", "r2.json", "mention in body"))
    assert str(name).endswith("; named in 2 records: r1, r2")
    assert r.counts()["warnings"] == 4  # r1's odd date, r2's reader warning, the file's, and the name once
    # Read back (a rebuild carries over reused records' findings), it joins the same name's finding.
    again = ValidationReport(Minter(BASE))
    again.add_findings([Finding.from_json(name.to_json())])
    assert again.all_findings() == [name]
    # In the graph the result is about the new resource and names each record once, so a record's page
    # finds it.
    g = r.to_graph()
    [result] = g.subjects(URIRef(SH + "focusNode"), URIRef(BASE + "id/agent/xan-vel"))
    assert set(g.objects(result, URIRef(SH + "focusNode"))) == {URIRef(BASE + "id/agent/xan-vel")}
    assert set(g.objects(result, URIRef(BASE + "ontology#record"))) == {Literal("r1"), Literal("r2")}


def test_a_long_report_lists_every_violation_and_counts_the_warnings_and_notes_past_the_limit():
    report = ValidationReport(Minter("http://example.org/"))
    shape = URIRef("http://example.org/shapes#DateShape")
    report.add_findings([Finding("Warning", f"'Name {i}' matches no authority entry", record=f"r{i}",
                                 code="unreconciled") for i in range(5)])
    report.add_findings([Finding("Warning", "The date is before 1900", field="date", shape=shape, record=f"d{i}")
                         for i in range(3)])
    report.add_findings([Finding("Info", "No rights table entry", record=f"n{i}", code="rights") for i in range(2)])
    report.add_findings([Finding("Violation", "A record needs a sender", field="sender", record="bad")])

    lines = report.lines(limit=3)
    assert lines[0] == "Violation: record bad [sender]: A record needs a sender"  # always listed, first
    assert [line.split(":")[0] for line in lines[1:4]] == ["Warning"] * 3
    assert lines[4] == "... and 7 more findings (the whole report: validation.json and validation.ttl in the build):"
    assert lines[5:8] == ["  3 warnings: date, http://example.org/shapes#DateShape", "  2 warnings: unreconciled",
                          "  2 notes: rights"]
    assert lines[8] == report.summary() and len(lines) == 9
    # Without a limit, or under it, every finding is listed as before.
    assert report.lines() == report.lines(limit=100)
    assert len(report.lines()) == 12
