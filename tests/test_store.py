"""Builds are atomic, incremental and reversible; a killed build never touches the published one."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap

import pyoxigraph as ox
import pytest
from rdflib import Graph

from docket.store import (
    BuildError,
    BuildWriter,
    RecordCountDrop,
    StoreBusy,
    StoreError,
    StoreLayout,
    content_hash,
    current_manifest,
    open_current,
    rollback,
    stats,
)

BASE = "http://example.org/"
DAY1 = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.timezone.utc)
DAY2 = dt.datetime(2026, 2, 10, 9, 0, tzinfo=dt.timezone.utc)
DAY3 = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.timezone.utc)


def nt(rid: str, title: str) -> str:
    ttl = f"""
    @prefix dcterms: <http://purl.org/dc/terms/> .
    <{BASE}id/record/{rid}> a <https://www.ica.org/standards/RiC/ontology#Record> ;
        dcterms:identifier "{rid}" ; dcterms:title "{title}" .
    <{BASE}id/record/{rid}#event> dcterms:description "sending of {rid}" .
    """
    return Graph().parse(data=ttl, format="turtle").serialize(format="nt")


def titles(n: int, prefix: str = "Telegram") -> dict[str, str]:
    return {f"r{i}": f"{prefix} {i}" for i in range(n)}


def build(settings, records: dict[str, str], now: dt.datetime, *, force: bool = False, **kw):
    """Build ``records`` (ID -> title) the way the build command does: reuse what is unchanged."""
    with BuildWriter(settings, now=now, **kw) as writer:
        for rid, title in records.items():
            data = nt(rid, title)
            h = content_hash(data)
            if writer.is_unchanged(rid, h):
                writer.reuse(rid)
            else:
                writer.add_record(rid, data, h, source=f"{rid}.txt")
        writer.add_graph("authorities", f'<{BASE}id/agent/a> <http://www.w3.org/2004/02/skos/core#prefLabel> "A" .\n')
        return writer.commit(force=force)


def published_titles(settings) -> dict[str, str]:
    with open_current(settings) as store:
        rows = store.query(
            "SELECT ?id ?t WHERE { GRAPH ?g { ?r <http://purl.org/dc/terms/identifier> ?id ; "
            "<http://purl.org/dc/terms/title> ?t } }")
        return {row["id"].value: row["t"].value for row in rows}


def test_first_build_publishes_one_graph_per_record_and_counts(settings):
    summary = build(settings, titles(5), DAY1)
    assert summary.counts["records"] == 5 and sorted(summary.new) == [f"r{i}" for i in range(5)]
    layout = StoreLayout(settings.store_dir)
    assert layout.current() == summary.path.resolve() and layout.previous() is None
    assert published_titles(settings) == titles(5)
    with open_current(settings) as store:
        graphs = set(store.named_graphs())
        assert {f"{BASE}graph/record/r{i}" for i in range(5)} | {f"{BASE}graph/authorities", f"{BASE}graph/build"} == graphs
        assert store.count(f"{BASE}graph/record/r3") == 4
        assert store.count() == summary.counts["triples"] + current_manifest(settings).graphs["build"]
    info = stats(settings, live=True)
    assert info["counts"]["records"] == 5 and info["counts"]["triples"] == 5 * 4 + 1
    assert info["live"] == {"quads": store_quads(settings), "named_graphs": 7}
    assert info["build"] == summary.build_id and info["created"] == "2026-01-10T09:00:00Z"


def store_quads(settings) -> int:
    with open_current(settings) as store:
        return store.count()


def test_the_published_store_is_read_only(settings):
    build(settings, titles(2), DAY1)
    with open_current(settings) as store:
        assert store.read_only
        with pytest.raises(RuntimeError, match="read-write"):
            store.raw.add(ox.Quad(ox.NamedNode(BASE + "x"), ox.NamedNode(BASE + "p"), ox.Literal("x")))


def test_second_build_switches_and_keeps_the_first_for_rollback(settings):
    first = build(settings, titles(3), DAY1)
    second = build(settings, titles(3, "Cable"), DAY2)
    layout = StoreLayout(settings.store_dir)
    assert layout.current() == second.path.resolve() and layout.previous() == first.path.resolve()
    assert published_titles(settings) == titles(3, "Cable")
    assert rollback(settings) == (first.build_id, second.build_id)
    assert published_titles(settings) == titles(3) and stats(settings)["build"] == first.build_id
    assert rollback(settings) == (second.build_id, first.build_id)  # and back again
    assert published_titles(settings) == titles(3, "Cable")


def test_rollback_without_a_previous_build_says_so(settings):
    with pytest.raises(StoreError, match="no previous build"):
        rollback(settings)
    build(settings, titles(1), DAY1)
    with pytest.raises(StoreError, match="no previous build"):
        rollback(settings)


def test_old_builds_are_cleaned_but_current_and_previous_stay(settings):
    builds = [build(settings, titles(2, f"T{n}"), DAY1 + dt.timedelta(days=n)) for n in range(4)]
    remaining = sorted(p.name for p in (settings.store_dir / "builds").iterdir())
    assert remaining == sorted([builds[2].build_id, builds[3].build_id])


def test_abort_before_commit_leaves_current_intact(settings):
    first = build(settings, titles(3), DAY1)
    writer = BuildWriter(settings, now=DAY2)
    writer.add_record("r0", nt("r0", "Changed"), content_hash("x"))
    writer.abort()
    assert not writer.path.exists()
    assert StoreLayout(settings.store_dir).current() == first.path.resolve()
    assert published_titles(settings) == titles(3)


def test_an_exception_inside_the_with_block_aborts(settings):
    build(settings, titles(2), DAY1)
    with pytest.raises(RuntimeError, match="mapping failed"):
        with BuildWriter(settings, now=DAY2) as writer:
            writer.add_record("r0", nt("r0", "Half"), "h")
            raise RuntimeError("mapping failed")
    assert published_titles(settings) == titles(2)
    assert len(list((settings.store_dir / "builds").iterdir())) == 1


def test_a_second_builder_is_refused_while_one_runs(settings):
    with BuildWriter(settings, now=DAY1) as writer:
        with pytest.raises(StoreBusy, match="another build"):
            BuildWriter(settings, now=DAY2)
        with pytest.raises(StoreBusy):
            rollback(settings)
        writer.add_record("r0", nt("r0", "T"), "h")
        writer.commit()
    build(settings, titles(1), DAY2)  # the lock was released


CRASH_SCRIPT = textwrap.dedent('''
    import sys, time
    from docket.config import Settings
    from docket.store import BuildWriter, content_hash
    from docket.store import layout as L
    from tests.test_store import nt

    store_dir, point = sys.argv[1], sys.argv[2]
    settings = Settings.load(env={}, base_uri="http://example.org/", store_dir=store_dir)

    def pause(name):
        if name == point:
            print("AT", name, flush=True)
            time.sleep(120)

    original_point = L.StoreLayout._point
    def _point(self, link, target):
        original_point(self, link, target)
        pause("switching")  # between moving `previous` and moving `current`
    L.StoreLayout._point = _point
    original_switch = L.StoreLayout.switch
    def switch(self, build):
        pause("manifest-written")
        original_switch(self, build)
    L.StoreLayout.switch = switch

    writer = BuildWriter(settings)
    for i in range(400):
        writer.add_record(f"r{i}", nt(f"r{i}", "Crashed"), content_hash(str(i)))
        if i == 200:
            writer._flush()
            pause("loading")
    writer.commit(force=True)
    print("DONE", flush=True)
''')


@pytest.mark.parametrize("point", ["loading", "manifest-written", "switching"])
def test_kill_9_at_any_point_of_a_build_leaves_current_intact(settings, tmp_path, repo_root, point):
    first = build(settings, titles(3), DAY1)
    script = tmp_path / "crash.py"
    script.write_text(CRASH_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(repo_root)}
    proc = subprocess.Popen([sys.executable, str(script), str(settings.store_dir), point],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.strip() == f"AT {point}", proc.stderr.read()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    layout = StoreLayout(settings.store_dir)
    assert layout.current() == first.path.resolve()
    assert published_titles(settings) == titles(3)
    assert len(list(layout.builds.iterdir())) == 2  # the killed build is there, unlinked
    # The next build clears the leftovers and publishes normally.
    third = build(settings, titles(4), DAY2)
    assert sorted(p.name for p in layout.builds.iterdir()) == sorted([first.build_id, third.build_id])
    assert published_titles(settings) == titles(4)


def test_incremental_build_reuses_unchanged_records_and_keeps_their_time(settings):
    build(settings, titles(4), DAY1)
    records = titles(4)
    records["r1"] = "Telegram 1 (corrected)"
    records["r9"] = "Telegram 9"
    summary = build(settings, records, DAY2)
    assert sorted(summary.unchanged) == ["r0", "r2", "r3"]
    assert summary.changed == ["r1"] and summary.new == ["r9"]
    manifest = current_manifest(settings)
    assert {rid: e.modified for rid, e in manifest.records.items()} == {
        "r0": "2026-01-10T09:00:00Z", "r1": "2026-02-10T09:00:00Z", "r2": "2026-01-10T09:00:00Z",
        "r3": "2026-01-10T09:00:00Z", "r9": "2026-02-10T09:00:00Z"}
    assert published_titles(settings) == records
    with open_current(settings) as store:
        rows = store.query(f"SELECT ?m WHERE {{ GRAPH <{BASE}graph/build> {{ <{BASE}id/record/r0> "
                           "<http://purl.org/dc/terms/modified> ?m } }")
        assert [r["m"].value for r in rows] == ["2026-01-10T09:00:00Z"]
        assert store.count(f"{BASE}graph/record/r1") == 4  # replaced, not added to


def test_reuse_is_refused_when_the_rules_or_authorities_changed(settings):
    build(settings, titles(2), DAY1, fingerprint="shapes-v1")
    with BuildWriter(settings, now=DAY2, fingerprint="shapes-v2") as writer:
        h = content_hash(nt("r0", "Telegram 0"))
        assert not writer.is_unchanged("r0", h)
        with pytest.raises(ValueError, match="cannot be reused"):
            writer.reuse("r0")
        writer.add_record("r0", nt("r0", "Telegram 0"), h)
        writer.add_record("r1", nt("r1", "Telegram 1"), content_hash(nt("r1", "Telegram 1")))
        summary = writer.commit()
    # Re-mapped, but the content did not change, so the modification time stays.
    assert sorted(summary.unchanged) == ["r0", "r1"]
    assert current_manifest(settings).records["r0"].modified == "2026-01-10T09:00:00Z"
    with BuildWriter(settings, now=DAY3, fingerprint="shapes-v2") as writer:
        assert writer.is_unchanged("r0", h)
        writer.abort()


def test_a_vanished_record_becomes_a_tombstone_and_stays_one(settings):
    build(settings, titles(10), DAY1)
    records = titles(10)
    del records["r4"]
    summary = build(settings, records, DAY2)
    assert summary.withdrawn == ["r4"]
    manifest = current_manifest(settings)
    assert "r4" not in manifest.records
    stone = manifest.tombstones["r4"]
    assert (stone.withdrawn, stone.replaced_by, stone.source) == ("2026-02-10", None, "r4.txt")
    with open_current(settings) as store:
        assert not store.contains_graph(f"{BASE}graph/record/r4")
        rows = store.query(f"SELECT ?d WHERE {{ GRAPH <{BASE}graph/build> {{ <{BASE}id/record/r4> "
                           f"<{BASE}ontology#withdrawn> ?d }} }}")
        assert [(r["d"].value, r["d"].datatype.value) for r in rows] == [
            ("2026-02-10", "http://www.w3.org/2001/XMLSchema#date")]
    summary = build(settings, records, DAY3)  # still gone: the tombstone keeps its first date
    assert summary.withdrawn == [] and current_manifest(settings).tombstones["r4"].withdrawn == "2026-02-10"
    records["r4"] = "Telegram 4"
    build(settings, records, DAY3 + dt.timedelta(days=1))  # it came back
    manifest = current_manifest(settings)
    assert "r4" not in manifest.tombstones and "r4" in manifest.records


def test_a_merged_record_points_to_its_replacement(settings):
    build(settings, titles(3), DAY1)
    with BuildWriter(settings, now=DAY2) as writer:
        for rid in ("r0", "r1"):
            writer.reuse(rid)
        writer.merge("r2", "r1")
        summary = writer.commit()
    manifest = current_manifest(settings)
    assert manifest.merges == {"r2": "r1"} and summary.withdrawn == ["r2"]
    with open_current(settings) as store:
        rows = store.query(f"ASK {{ GRAPH <{BASE}graph/build> {{ <{BASE}id/record/r2> "
                           f"<http://purl.org/dc/terms/isReplacedBy> <{BASE}id/record/r1> }} }}")
        assert bool(rows)


def test_a_build_that_loses_many_records_stops_before_the_switch(settings):
    first = build(settings, titles(10), DAY1)
    with BuildWriter(settings, now=DAY2) as writer:
        for rid in ("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"):
            writer.reuse(rid)
        with pytest.raises(RecordCountDrop) as caught:
            writer.commit()
        message = str(caught.value)
        assert "would publish 8 records where the current build publishes 10," in message
        assert "2 records are missing" in message and "r8, r9" in message
        assert StoreLayout(settings.store_dir).current() == first.path.resolve()
        assert published_titles(settings) == titles(10)
        summary = writer.commit(force=True)  # the archivist confirmed
    assert summary.counts["records"] == 8 and sorted(summary.withdrawn) == ["r8", "r9"]
    assert len(published_titles(settings)) == 8


def test_the_drop_guard_ratio_is_a_setting(settings):
    build(settings, titles(10), DAY1)
    lenient = settings.replace(min_record_ratio=0.5)
    assert build(lenient, titles(6), DAY2).counts["records"] == 6
    with pytest.raises(RecordCountDrop):
        build(lenient, titles(2), DAY3)


def test_held_back_records_are_neither_published_nor_withdrawn(settings):
    build(settings, titles(4), DAY1)
    with BuildWriter(settings, now=DAY2, min_record_ratio=0.5) as writer:
        for rid in ("r0", "r1", "r2"):
            writer.reuse(rid)
        writer.add_record("r3", nt("r3", ""), "h3")
        writer.hold_back("r3", "The title is empty", source="r3.txt")
        summary = writer.commit()
    manifest = current_manifest(settings)
    assert summary.held_back == ["r3"] and summary.withdrawn == []
    assert "r3" not in manifest.records and "r3" not in manifest.tombstones
    assert manifest.held_back["r3"] == {"reason": "The title is empty", "source": "r3.txt"}
    assert sorted(published_titles(settings)) == ["r0", "r1", "r2"]


def test_dataset_check_holds_back_records_with_duplicate_identifiers(settings, repo_root):
    from docket.validate import Validator

    validator = Validator(repo_root / "shapes", base_uri=BASE, workers=1)
    description = (f'<{BASE}id/dataset/docket> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
                   f'<http://rdfs.org/ns/void#Dataset> .\n<{BASE}id/dataset/docket> '
                   f'<http://purl.org/dc/terms/title> "Docket" .\n')
    with BuildWriter(settings, now=DAY1, min_record_ratio=0) as writer:
        for rid in ("r0", "r2"):
            writer.add_record(rid, nt(rid, "T"), rid)
        writer.add_record("r1", nt("r1", "T").replace('"r1"', '"r2"'), "r1")  # r1 claims r2's identifier
        findings = writer.check_dataset(validator, description)
        summary = writer.commit()
    assert sorted(f.record for f in findings) == ["r1", "r2"]
    assert sorted(summary.held_back) == ["r1", "r2"]
    assert sorted(published_titles(settings)) == ["r0"]


def test_a_record_without_triples_stops_the_build(settings):
    first = build(settings, titles(2), DAY1)
    with BuildWriter(settings, now=DAY2) as writer:
        writer.reuse("r0")
        writer.add_record("r1", "", "empty")
        with pytest.raises(BuildError, match="1 records have no graph"):
            writer.commit()
    assert StoreLayout(settings.store_dir).current() == first.path.resolve()


def test_bad_ntriples_name_the_record(settings):
    with BuildWriter(settings, now=DAY1) as writer:
        with pytest.raises(ValueError, match=r"record r7 \(a.json, record 7\)"):
            writer.add_record("r7", "<a> <b> nonsense", "h", source="a.json, record 7")
        writer.abort()


def test_a_reader_holding_the_old_build_open_keeps_reading_after_a_switch(settings):
    build(settings, titles(2), DAY1)
    with open_current(settings) as old:
        build(settings, titles(3, "New"), DAY2)
        assert sum(1 for g in old.named_graphs() if "/graph/record/" in g) == 2
    assert published_titles(settings) == titles(3, "New")


def test_content_hash_ignores_key_order_and_reads_records():
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash("x") != content_hash("y")
    from docket.ingest.model import Record, SourceRef

    rec = Record(source=SourceRef("a.txt"), id="r1", title="T")
    assert content_hash(rec) == content_hash(rec.to_dict())


def test_new_mapping_output_for_the_same_source_counts_as_a_change(settings):
    build(settings, titles(2), DAY1, fingerprint="mapping-v1")
    with BuildWriter(settings, now=DAY2, fingerprint="mapping-v2") as writer:
        source_hash = content_hash(nt("r0", "Telegram 0"))  # the source record did not change ...
        writer.add_record("r0", nt("r0", "Telegram 0 (as the new mapping writes it)"), source_hash)
        writer.add_record("r1", nt("r1", "Telegram 1"), content_hash(nt("r1", "Telegram 1")))
        summary = writer.commit()
    # ... but its published triples did, so caches must not keep serving the old ones.
    assert summary.changed == ["r0"] and summary.unchanged == ["r1"]
    records = current_manifest(settings).records
    assert (records["r0"].modified, records["r1"].modified) == ("2026-02-10T09:00:00Z", "2026-01-10T09:00:00Z")


def test_a_large_graph_is_loaded_from_its_file_and_counted(settings, tmp_path):
    report = tmp_path / "validation.nt"
    lines = [f'_:r{i} <http://www.w3.org/ns/shacl#resultMessage> "finding {i}" .\n' for i in range(500)]
    lines += [f"_:report <http://www.w3.org/ns/shacl#result> _:r{i} .\n" for i in range(500)]
    report.write_text("".join(lines), encoding="utf-8")
    with BuildWriter(settings, now=DAY1) as writer:
        writer.add_record("r0", nt("r0", "Telegram 0"), content_hash("r0"), source="r0.txt")
        assert writer.add_graph_file("validation", report) == 1000
        summary = writer.commit()
    assert current_manifest(settings).graphs["validation"] == 1000
    with open_current(settings) as store:
        graph = f"{BASE}graph/validation"
        assert store.count(graph) == 1000
        # Blank nodes stay one node each within the file: every result hangs off the one report node.
        rows = store.query(f"SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?rep "
                           f"<http://www.w3.org/ns/shacl#result> ?r . ?r ?p ?m }} }}")
        assert int(next(iter(rows))["n"].value) == 500
    assert summary.counts["records"] == 1


def test_an_incremental_build_replaces_the_copied_dataset_graphs_whole(settings, tmp_path, monkeypatch):
    """The copy of the current build holds its report and metadata: a new build's replace them, not add to them."""
    monkeypatch.setattr("docket.store.builder._FLUSH_REMOVED", 50)  # the old report's 300 quads: 6 flushes
    def report(n: int, word: str):
        path = tmp_path / f"{word}.nt"
        path.write_text("".join(f'_:r{i} <http://www.w3.org/ns/shacl#resultMessage> "{word} {i}" .\n'
                                for i in range(n)), encoding="utf-8")
        return path

    for day, n, word in ((DAY1, 300, "first"), (DAY2, 120, "second")):
        with BuildWriter(settings, now=day) as writer:
            for rid in ("r0", "r1"):
                data = nt(rid, f"Telegram {rid}")
                if writer.is_unchanged(rid, content_hash(data)):
                    writer.reuse(rid)
                else:
                    writer.add_record(rid, data, content_hash(data), source=f"{rid}.txt")
            writer.add_graph_file("validation", report(n, word))
            summary = writer.commit()
    assert summary.unchanged == ["r0", "r1"]
    with open_current(settings) as store:
        assert store.count(f"{BASE}graph/validation") == 120
        rows = store.query(f"SELECT ?m WHERE {{ GRAPH <{BASE}graph/validation> {{ ?r ?p ?m }} }}")
        assert {row["m"].value.split()[0] for row in rows} == {"second"}
        modified = store.query(f"SELECT ?r ?m WHERE {{ GRAPH <{BASE}graph/build> {{ ?r "
                               "<http://purl.org/dc/terms/modified> ?m } }")
        assert sorted(row["m"].value for row in modified) == [  # the dataset's, then each record's, once
            "2026-01-10T09:00:00Z", "2026-01-10T09:00:00Z", "2026-02-10T09:00:00Z"]
    manifest = current_manifest(settings)
    assert manifest.graphs["validation"] == 120
    assert manifest.counts["graphs"] == 3  # two records and the report (the build's own graph is not counted)
