"""`docket build` publishes valid records, holds back violating ones, and rebuilds incrementally."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from docket.cli import main
from docket.store import current_manifest, open_current

from conftest import ROOT, make_settings

SEED_ID = "1954-06-20-telegram-ccp-central-committee-to-zhou-enlai"


def run(settings, *args):
    env = {f"DOCKET_{k.upper()}": str(v) for k, v in
           dict(base_uri=settings.base_uri, registry_path=settings.registry_path, store_dir=settings.store_dir,
                validation_workers=1).items()}
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture
def folder(tmp_path, seed_path):
    records = tmp_path / "records"
    records.mkdir()
    (records / "seed.txt").write_text(seed_path.read_text(encoding="utf-8"), encoding="utf-8")
    examples = json.loads((ROOT / "docs" / "examples" / "records.json").read_text(encoding="utf-8"))
    (records / "examples.json").write_text(json.dumps(examples), encoding="utf-8")
    return records


def test_build_publishes_and_reports(tmp_path, folder):
    s = make_settings(tmp_path)
    res = run(s, "build", str(folder))
    assert res.exit_code == 0, res.output
    assert "4 records published (4 new" in res.stdout
    assert re.search(r"4 records read in \d+\.\d s", res.stdout), res.stdout
    # Where the time went, phase by phase in the order they ran.
    took = re.search(r"triples, ([\d.]+) s \(records ([\d.]+) s, report ([\d.]+) s, final load and checks "
                     r"([\d.]+) s, derived files ([\d.]+) s\)", res.stdout)
    assert took, res.stdout
    assert sum(map(float, took.groups()[1:])) <= float(took.group(1)) + 0.5
    # ...and as it went, on standard error: each phase as it ends, and what comes next.
    lines = [m for m in (re.fullmatch(r"(.*) in [\d.]+ s(?:; (.*))?", line) for line in res.stderr.splitlines()) if m]
    assert [m.group(1) for m in lines] == [
        "records mapped, validated and loaded", "validation report written", "store checked",
        "dumps, indexes, sitemaps and VoID written"], res.stderr
    assert lines[0].group(2) == "writing the validation report"
    # ...and, in the last phase, each derived file as it is written (the pages' and the harvesting
    # files on two threads: their lines may interleave).
    steps = re.findall(r"^  (.*) written, [\d.]+ s into the phase$", res.stderr, re.MULTILINE)
    assert sorted(steps) == sorted(["search index, statistics and resource index", "record index", "dumps",
                                    "sitemaps", "VoID description", "OAI-PMH index"]), res.stderr
    assert steps[-1] == "OAI-PMH index"
    manifest = current_manifest(s)
    assert SEED_ID in manifest.records
    store = open_current(s)
    graphs = set(store.named_graphs())
    assert f"http://example.org/graph/record/{SEED_ID}" in graphs
    assert {"http://example.org/graph/authorities", "http://example.org/graph/ontology",
            "http://example.org/graph/validation"} <= graphs
    build_dir = s.store_dir / "current"
    report = json.loads((build_dir / "validation.json").read_text())
    codes = {f["code"] for f in report["results"] if f["record"] == SEED_ID}
    assert {"no-record-id", "no-uploaded-date", "fuzzy-match"} <= codes


def test_each_unreconciled_name_is_one_finding_naming_every_record_and_field(tmp_path, folder):
    from docket.ingest import ingest
    from docket.mapping import Mapper

    s = make_settings(tmp_path)
    assert run(s, "build", str(folder)).exit_code == 0
    report = json.loads((s.store_dir / "current" / "validation.json").read_text())
    names = [f for f in report["results"] if f["code"] == "unreconciled"]
    reported = sorted((m["record"], m["field"], f"{m['field']}: {f['message']}") for f in names for m in f["mentions"])
    mapper = Mapper(s)
    outcomes = [(r, o) for r in ingest([folder], s).records for o in mapper.map(r).unreconciled]
    expected = sorted((r.id, o.field, o.message()) for r, o in outcomes if not o.candidates)
    assert reported == expected and len(expected) >= 3
    # One finding per new resource, about it, and each mention names the record's file.
    assert len({f["focus"] for f in names}) == len(names) == len({str(o.uri) for _, o in outcomes if not o.candidates})
    assert all(f["record"] is None and m["file"] for f in names for m in f["mentions"])
    assert sum(len(f["mentions"]) > 1 for f in names) >= 1, "the fixture names some resource twice"
    # Names fitting several entries equally are still one finding per record: each needs a decision.
    ambiguous = sorted((f["record"], f["field"], f["message"]) for f in report["results"] if f["code"] == "ambiguous-name")
    assert ambiguous == sorted((r.id, o.field, o.message()) for r, o in outcomes if o.candidates)
    # No shape repeats the mapping's warning in vaguer words.
    assert not [f for f in report["results"] if (f.get("path") or "").endswith("#unreconciled")]


def test_rebuild_reuses_unchanged_records_and_keeps_their_report(tmp_path, folder):
    s = make_settings(tmp_path)
    assert run(s, "build", str(folder)).exit_code == 0
    first = current_manifest(s)
    before = json.loads((s.store_dir / "current" / "validation.json").read_text())
    res = run(s, "build", str(folder))
    assert res.exit_code == 0, res.output
    assert "(0 new, 0 changed, 4 unchanged)" in res.stdout
    # The report's summary says why it counts findings for no record validated this time.
    assert "0 records: 0 conform, 0 held back;" in res.stderr
    assert "(and 4 unchanged records reused, their findings kept)" in res.stderr
    second = current_manifest(s)
    assert second.records[SEED_ID].modified == first.records[SEED_ID].modified
    report = json.loads((s.store_dir / "current" / "validation.json").read_text())
    assert any(f["code"] == "fuzzy-match" for f in report["results"])

    def findings(data):  # order aside: reused records' findings are carried over after the new ones
        return sorted(json.dumps(f | {"mentions": sorted(f.get("mentions", []), key=json.dumps)}, sort_keys=True)
                      for f in data["results"])

    assert findings(report) == findings(before)
    assert any(len(f.get("mentions", [])) > 1 for f in report["results"])


def test_a_violating_record_is_held_back_and_the_others_published(tmp_path, folder):
    bad = {"title": "Letter with no sender", "date": "1955-01-02", "body": ["Text."],
           "rights": "Public domain."}
    (folder / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    s = make_settings(tmp_path)
    res = run(s, "build", str(folder))
    assert res.exit_code == 1
    assert "1 held back" in res.stdout
    assert "sender" in res.stderr.lower()
    assert len(current_manifest(s).records) == 4


def test_a_missing_folder_stops_before_the_switch_unless_forced(tmp_path, folder):
    s = make_settings(tmp_path)
    assert run(s, "build", str(folder)).exit_code == 0
    before = current_manifest(s).build_id
    (folder / "examples.json").unlink()
    res = run(s, "build", str(folder))
    assert res.exit_code != 0 and current_manifest(s).build_id == before
    res = run(s, "build", str(folder), "--force")
    assert res.exit_code == 0, res.output
    manifest = current_manifest(s)
    assert len(manifest.records) == 1 and len(manifest.tombstones) == 3


def test_a_store_folder_that_cannot_be_made_is_a_clear_error(tmp_path, folder):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # a folder cannot be made inside a file, even by root
    s = make_settings(tmp_path).replace(store_dir=blocker / "store")
    res = run(s, "build", str(folder))
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit), res.exception  # no crash; 1: held back
    assert "Error: the build could not be written under" in res.output and "Traceback" not in res.output


def test_a_build_that_would_drop_most_records_stops_with_exit_status_2(tmp_path, folder):
    s = make_settings(tmp_path)
    assert run(s, "build", str(folder)).exit_code == 0
    before = current_manifest(s).build_id
    examples = json.loads((folder / "examples.json").read_text(encoding="utf-8"))
    (folder / "examples.json").write_text(json.dumps(examples[:1]), encoding="utf-8")
    res = run(s, "build", str(folder))
    assert res.exit_code == 2, res.output  # nothing published; 1 would mean some records were held back
    assert "Nothing was switched" in res.output and "force the build" in res.output and "Traceback" not in res.output
    assert current_manifest(s).build_id == before


def test_rollback_and_stats(tmp_path, folder):
    s = make_settings(tmp_path)
    assert run(s, "build", str(folder)).exit_code == 0
    first = current_manifest(s).build_id
    assert run(s, "build", str(folder), "--full").exit_code == 0
    assert current_manifest(s).build_id != first
    res = run(s, "rollback")
    assert res.exit_code == 0 and first in res.stdout
    assert current_manifest(s).build_id == first
    stats = json.loads(run(s, "stats").stdout)
    assert stats["counts"]["records"] == 4


def test_validate_uses_pyshacl_exit_codes(tmp_path, folder, seed_path):
    s = make_settings(tmp_path)
    rdf, js = tmp_path / "report.ttl", tmp_path / "report.json"
    res = run(s, "validate", str(seed_path), "--rdf", str(rdf), "--json", str(js))
    assert res.exit_code == 0, res.output
    from rdflib import Graph
    from rdflib.namespace import SH

    graph = Graph().parse(rdf)
    assert (None, SH.conforms, None) in graph
    assert json.loads(js.read_text())["conforms"] is True
    (folder / "bad.json").write_text(json.dumps({"title": "No sender", "date": "1955", "rights": "x"}))
    assert run(s, "validate", str(folder / "bad.json")).exit_code == 1
    (folder / "broken.ttl").write_text("x")
    assert run(s, "--set", f"shapes_dir={folder}", "validate", str(seed_path)).exit_code == 2


def test_no_build_yet_is_a_clear_error(tmp_path):
    s = make_settings(tmp_path)
    res = run(s, "stats")
    assert res.exit_code == 1 and "docket build" in res.output


def _unreconciled(s):
    """Return (resources described in the unreconciled graph, those any record graph describes)."""
    import pyoxigraph as ox

    from docket.uris import Minter

    m = Minter(s.base_uri)
    graph = str(m.graph("unreconciled"))
    with open_current(s) as store:
        flagged = f"<{m.ontology}unreconciled>"
        rows = store.query(f"SELECT DISTINCT ?g ?x WHERE {{ GRAPH ?g {{ ?x {flagged} true }} }}")
        where: dict[str, set[str]] = {}
        for row in rows:
            where.setdefault(row["g"].value, set()).add(row["x"].value)
        count = sum(1 for _ in store.raw.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
    return where.pop(graph, set()), where, count


def test_resources_for_unreconciled_names_are_described_once_in_their_own_graph(tmp_path, folder):
    from docket.ingest import ingest
    from docket.mapping import Mapper

    s = make_settings(tmp_path)
    assert run(s, "build", str(folder)).exit_code == 0
    names, in_records, count = _unreconciled(s)
    mapper = Mapper(s)
    records = {r.id: r for r in ingest([folder], s).records}
    expected = {str(o.uri) for r in records.values() for o in mapper.map(r).unreconciled if o.uri}
    assert names == expected and len(names) >= 3
    assert in_records == {}, "no record graph repeats a name's description"
    assert current_manifest(s).graphs["unreconciled"] == count
    # A record's description still labels and types the names it links.
    from docket.serve.describe import describe_record

    record_id, result = next((rid, mapper.map(r)) for rid, r in records.items() if mapper.map(r).unreconciled)
    with open_current(s) as store:
        desc = describe_record(store, mapper.minter, record_id)
    for outcome in result.unreconciled:
        if outcome.uri:
            assert desc.label(str(outcome.uri)) and desc.types(str(outcome.uri))

    # Rebuilt with one example record left: the others are withdrawn, and the names only they gave go.
    examples = json.loads((ROOT / "docs" / "examples" / "records.json").read_text(encoding="utf-8"))
    assert isinstance(examples, list) and len(examples) > 1
    (folder / "examples.json").write_text(json.dumps(examples[:1]), encoding="utf-8")
    res = run(s, "build", str(folder), "--force")
    assert res.exit_code == 0, res.output
    names_after, in_records, count = _unreconciled(s)
    kept = {str(o.uri) for rid in current_manifest(s).records for o in mapper.map(records[rid]).unreconciled if o.uri}
    assert names_after == kept and kept and kept < names and in_records == {}
    assert current_manifest(s).graphs["unreconciled"] == count
    # And back: an incremental build reuses what it kept and adds the other records' names again.
    (folder / "examples.json").write_text(json.dumps(examples), encoding="utf-8")
    res = run(s, "build", str(folder))
    assert res.exit_code == 0 and "unchanged)" in res.stdout and " 0 unchanged" not in res.stdout, res.output
    assert _unreconciled(s)[0] == names


def _free(monkeypatch, free: int) -> None:
    """Make the store's disk report ``free`` bytes free."""
    from collections import namedtuple

    import docket.store.space as space_module

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(space_module.shutil, "disk_usage", lambda path: usage(10 * free + 1, 0, free))


def test_a_build_the_disk_cannot_hold_stops_before_it_starts(tmp_path, folder, monkeypatch):
    from docket.store.layout import StoreLayout
    from docket.store.space import disk_bytes

    s = make_settings(tmp_path)
    assert run(s, "build", str(folder)).exit_code == 0
    before = current_manifest(s).build_id
    current = StoreLayout(s.store_dir).current()
    full_size = disk_bytes(current)
    _free(monkeypatch, full_size // 2)
    res = run(s, "build", str(folder), "--full")
    assert res.exit_code == 2, res.output
    assert "not enough free disk" in res.output and "--no-space-check" in res.output
    assert "Traceback" not in res.output
    assert current_manifest(s).build_id == before
    assert sorted(p.resolve() for p in (s.store_dir / "builds").iterdir()) == [current]  # nothing begun
    # Told to go on, it builds (the disk here is not really that small).
    assert run(s, "build", str(folder), "--full", "--no-space-check").exit_code == 0
    assert current_manifest(s).build_id != before


def test_an_incremental_build_needs_no_room_for_the_store_it_hard_links(tmp_path, folder, monkeypatch):
    from docket.store.layout import StoreLayout
    from docket.store.space import disk_bytes

    s = make_settings(tmp_path)
    assert run(s, "build", str(folder)).exit_code == 0
    layout = StoreLayout(s.store_dir)
    current = layout.current()
    rest = disk_bytes(current) - disk_bytes(layout.store_path(current))
    _free(monkeypatch, int(rest * 1.5))
    assert rest * 1.5 < disk_bytes(current), "the store should be most of a build"
    assert run(s, "build", str(folder)).exit_code == 0  # incremental: fits
    assert run(s, "build", str(folder), "--full").exit_code == 2  # a full build does not


def test_disk_bytes_counts_a_hard_linked_file_once(tmp_path):
    import os

    from docket.store.space import disk_bytes

    (tmp_path / "a").write_bytes(b"x" * 100_000)
    once = disk_bytes(tmp_path)
    os.link(tmp_path / "a", tmp_path / "b")
    assert disk_bytes(tmp_path) == once >= 100_000


def test_a_build_lists_its_violations_but_counts_warnings_past_a_limit_unless_asked_for_all(tmp_path, folder,
                                                                                            monkeypatch):
    import docket.cli

    monkeypatch.setattr(docket.cli, "FINDINGS_SHOWN", 3)
    s = make_settings(tmp_path)
    res = run(s, "build", str(folder))
    assert res.exit_code == 0, res.output
    listed = [line for line in res.stderr.splitlines() if line.startswith(("Warning: ", "Info: "))]
    assert len(listed) == 3
    assert re.search(r"^\.\.\. and \d+ more findings \(the whole report: validation\.json", res.stderr, re.MULTILINE)
    assert re.search(r"^  \d+ warnings: unreconciled$", res.stderr, re.MULTILINE), res.stderr
    everything = run(s, "build", "--all-findings", str(folder))
    assert len([line for line in everything.stderr.splitlines() if line.startswith(("Warning: ", "Info: "))]) > 3
    assert "more findings" not in everything.stderr
