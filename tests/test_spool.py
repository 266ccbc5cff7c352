"""A spooled ingest gives exactly the records, IDs and warnings an in-memory ingest gives."""

from __future__ import annotations

import itertools
import json
import os

from docket.ingest import ingest
from docket.ingest.registry import IdRegistry
from docket.ingest.spool import RecordSpool

from conftest import ROOT, make_settings


def _folder(tmp_path, seed_path):
    records = tmp_path / "records"
    records.mkdir()
    (records / "seed.txt").write_text(seed_path.read_text(encoding="utf-8"), encoding="utf-8")
    examples = json.loads((ROOT / "docs" / "examples" / "records.json").read_text(encoding="utf-8"))
    # Twice under other names: the same date and title collide, so the registry numbers and warns.
    for name in ("examples.json", "again.json"):
        (records / name).write_text(json.dumps(examples), encoding="utf-8")
    return records


def test_spooled_records_equal_the_in_memory_ones(tmp_path, seed_path):
    folder, settings = _folder(tmp_path, seed_path), make_settings(tmp_path)
    plain = ingest([folder], settings, registry=IdRegistry(None))
    spool = RecordSpool(tmp_path / "spool")
    with ingest([folder], settings, registry=IdRegistry(None), spool=spool) as spooled:
        assert spooled.records is spool and len(spool) == len(plain.records) == 7
        assert [r.to_dict() for r in spool] == [r.to_dict() for r in plain.records]
        assert any(p.code == "id-collision" for r in spool for p in r.problems)
        assert spooled.with_warnings == plain.with_warnings
        assert spooled.to_report() == plain.to_report()
        assert spool[3].to_dict() == plain.records[3].to_dict()
        # Two passes side by side (the build hashes while a worker reads) do not disturb each other.
        pairs = list(zip(spool, itertools.islice(spool, 1, None)))
        assert [(a.id, b.id) for a, b in pairs] == list(zip([r.id for r in plain.records],
                                                            [r.id for r in plain.records][1:]))
        assert os.listdir(tmp_path / "spool") == []  # an anonymous file: nothing left even after kill -9
    assert spool._file.closed


def test_fingerprint_ignores_where_a_record_was_read_and_sees_what_it_says(tmp_path, seed_path):
    folder, settings = _folder(tmp_path, seed_path), make_settings(tmp_path)
    first = ingest([folder], settings, registry=IdRegistry(None)).records
    moved = tmp_path / "moved"
    folder.rename(moved)
    again = ingest([moved], settings, registry=IdRegistry(None)).records
    assert [r.fingerprint() for r in first] == [r.fingerprint() for r in again]
    changed = again[0]
    changed.title += " (corrected)"
    assert changed.fingerprint() != first[0].fingerprint()
