"""The benchmark's synthetic records are deterministic, labelled synthetic, and readable by the JSON reader."""

from __future__ import annotations

from collections import Counter

from bench.synthetic import MARKER, generate, write_json
from docket.ingest import jsonfile
from docket.ingest.model import Record


def test_same_seed_same_records_and_record_n_does_not_depend_on_count():
    first = [r.to_dict() for r in generate(50, seed=7)]
    assert first == [r.to_dict() for r in generate(50, seed=7)]
    assert first != [r.to_dict() for r in generate(50, seed=8)]
    assert [r.to_dict() for r in generate(10, seed=7, start=41)] == first[40:]


def test_records_are_labelled_synthetic_and_shaped_like_the_collection():
    records = list(generate(600, seed=3))
    assert all(r.title.startswith(MARKER) and "not a historical document" in r.body[0] for r in records)
    assert all(r.id.startswith("synthetic-") for r in records)
    assert len({r.id for r in records}) == 600
    years = [int(r.date.iso[:4]) for r in records]
    assert min(years) >= 1945 and max(years) <= 1991 and len(set(years)) > 30
    precisions = Counter(r.date.precision for r in records)
    assert precisions["day"] > precisions["month"] > 0 and precisions["year"] > 0
    addressees = Counter(len(r.addressees) for r in records)
    assert addressees[1] > addressees[2] > 0 and addressees[3] + addressees[4] > 0
    senders = Counter(n.written for r in records for n in r.senders)
    assert len(senders) > 100  # many correspondents ...
    assert senders.most_common(1)[0][1] > 5  # ... a few of them frequent
    assert any(not r.record_id for r in records)  # some sources give no record ID


def test_json_output_reads_back_through_the_json_reader(tmp_path):
    paths = write_json(tmp_path, 25, seed=11, per_file=10)
    assert [p.name for p in paths] == ["synthetic-00000.json", "synthetic-00001.json", "synthetic-00002.json"]
    read = [x for p in paths for x in jsonfile.read_text(p.read_text(encoding="utf-8"), p.name)]
    assert all(isinstance(x, Record) for x in read), [str(x) for x in read if not isinstance(x, Record)]
    originals = list(generate(25, seed=11, per_file=10))
    def key(r):
        return r.title, r.date.text, r.date.iso, r.addressees, r.body, r.rights, r.record_id

    assert [key(r) for r in read] == [key(r) for r in originals]
