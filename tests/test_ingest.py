"""`docket ingest` reads folders of mixed files, lists every rejection, and exits 1 when any."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from docket.cli import main
from docket.ingest import ingest
from docket.ingest.registry import IdRegistry

SEED_ID = "1954-06-20-telegram-ccp-central-committee-to-zhou-enlai"


def test_seed_folder_reads_one_record_with_its_two_warnings(settings):
    result = ingest([settings.records_dir], settings)
    assert result.summary() == {"files": 1, "read": 1, "with_warnings": 1, "rejected": 0}
    (record,) = result.records
    assert record.id == SEED_ID
    assert {p.code for p in record.problems} >= {"no-record-id", "no-uploaded-date"}


def test_bad_files_are_listed_and_the_rest_go_through(settings, seed_path, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(seed_path, folder / "seed.txt")
    (folder / "notes.docx").write_bytes(b"PK\x03\x04")
    (folder / "latin1.txt").write_bytes("June 20, 1954\n\nTelegram, Caf\xe9 to X\n".encode("latin-1"))
    (folder / ".hidden.txt").write_text("ignored")
    big = folder / "big.json"
    big.write_text("[" + ",".join(["{}"] * 10) + "]")
    small = settings.replace(max_file_bytes=20)
    result = ingest([folder], small)
    codes = {j.source.file: j.code for j in result.rejections}
    assert codes == {"big.json": "too-large", "latin1.txt": "too-large", "notes.docx": "unknown-format",
                     "seed.txt": "too-large"}
    result = ingest([folder], settings)
    assert [r.source.file for r in result.records] == ["seed.txt"]
    latin1 = next(j for j in result.rejections if j.source.file == "latin1.txt")
    assert latin1.source.line == 3 and "UTF-8" in latin1.message
    assert result.files == 4  # the hidden file is not read


def test_cli_prints_summary_writes_report_and_registry(settings, tmp_path):
    report = tmp_path / "report.json"
    runner = CliRunner()
    env = {"DOCKET_REGISTRY_PATH": str(settings.registry_path)}
    res = runner.invoke(main, ["ingest", str(settings.records_dir), "--report", str(report)], env=env)
    assert res.exit_code == 0, res.output
    assert "1 files: 1 records read, 1 with warnings, 0 rejected" in res.stdout
    data = json.loads(report.read_text())
    assert data["summary"]["read"] == 1
    assert data["records"][0]["id"] == SEED_ID
    assert IdRegistry.open(settings.registry_path).keys  # the new ID was recorded


def test_cli_exits_1_and_names_the_file_when_something_is_rejected(settings, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"title,date\n\xff\xfe,1954\n")
    res = CliRunner().invoke(main, ["ingest", str(bad), "--no-registry"],
                             env={"DOCKET_REGISTRY_PATH": str(settings.registry_path)})
    assert res.exit_code == 1
    assert "bad.csv" in res.stderr and "UTF-8" in res.stderr
    assert "1 rejected" in res.stdout
    assert not settings.registry_path.exists()


def test_missing_path_is_a_listed_rejection(settings, tmp_path):
    result = ingest([tmp_path / "nope.txt"], settings)
    assert [j.code for j in result.rejections] == ["unreadable"]


def test_ingesting_the_data_folder_skips_docket_own_files(settings, tmp_path):
    """`docket ingest data/` reads the records, not the authorities, rights table or ID registry."""
    registry = settings.data_dir / "id-registry.json"
    s = settings.replace(registry_path=registry)
    result = ingest([settings.data_dir], s, registry=IdRegistry(None))
    assert result.rejections == []
    assert [r.source.file for r in result.records] == ["records/telegram-1954-06-20-ccp-to-zhou-enlai.txt"]


def test_ingest_writes_the_graph_of_all_records_with_authorities_and_ontology(settings, tmp_path):
    import pyoxigraph
    from rdflib import Graph, URIRef

    env = {"DOCKET_REGISTRY_PATH": str(settings.registry_path), "DOCKET_BASE_URI": "http://example.org/"}
    out, nq, report = tmp_path / "out.ttl", tmp_path / "out.nq", tmp_path / "r.json"
    for target in (out, nq):
        res = CliRunner().invoke(main, ["ingest", str(settings.records_dir), "--rdf", str(target),
                                        "--report", str(report)], env=env)
        assert res.exit_code == 0, res.output
    graph = Graph().parse(out)
    record = URIRef(f"http://example.org/id/record/{SEED_ID}")
    assert (record, None, None) in graph
    assert (URIRef("http://example.org/id/agent/zhou-enlai"), None, None) in graph  # authorities
    assert (URIRef("http://example.org/ontology#Addressee"), None, None) in graph  # ontology
    graphs = {q.graph_name.value for q in pyoxigraph.parse(path=str(nq), format=pyoxigraph.RdfFormat.N_QUADS)}
    assert {f"http://example.org/graph/record/{SEED_ID}", "http://example.org/graph/authorities",
            "http://example.org/graph/ontology"} <= graphs
    mapping = json.loads(report.read_text())["mapping"]
    assert any(o["method"] == "fuzzy" for o in mapping[0]["outcomes"])
