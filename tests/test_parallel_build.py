"""Mapping runs in the validation workers: a build with two workers publishes and reports exactly what one does."""

from __future__ import annotations

from bench.synthetic import generate
from docket.cli.pipeline import build
from docket.ingest import IngestResult


def report_without_time(outcome) -> dict:
    data = outcome.report.to_json()
    data.pop("created")
    return data


def test_two_workers_build_what_one_builds(settings, tmp_path):
    # Enough records for the workers to start (two batches each); one breaks a rule.
    records = list(generate(140, seed=5))
    records[7].title = "  "
    ingested = IngestResult(records=records)
    one = build(ingested, settings.replace(validation_workers=1, store_dir=tmp_path / "one"), full=True)
    two = build(ingested, settings.replace(validation_workers=2, store_dir=tmp_path / "two"), full=True)
    assert report_without_time(one) == report_without_time(two)
    assert one.summary.counts == two.summary.counts
    assert one.summary.counts["records"] == 139 and one.summary.held_back == [records[7].id]
    assert len(one.report.all_findings()) > 140  # warnings of every record came back from the workers
