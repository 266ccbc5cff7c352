"""The ID registry keeps every record's ID stable across runs, renames and corrections."""

from __future__ import annotations

import json

from docket.ingest.model import DateValue, Record, SourceRef
from docket.ingest.registry import IdRegistry


def make(title="Telegram, CCP Central Committee to Zhou Enlai", iso="1954-06-20", file="a.txt", pos=1,
         record_id="", url=None) -> Record:
    r = Record(source=SourceRef(file, pos))
    r.found("title", title, "title")
    r.found("date", DateValue(iso, iso, "date line"), "date line")
    r.found("record_id", record_id, "Record ID")
    r.found("source_url", url, "citation")
    return r


def test_derives_id_from_date_and_title():
    r = make()
    IdRegistry(None).assign_all([r])
    assert r.id == "1954-06-20-telegram-ccp-central-committee-to-zhou-enlai"


def test_source_record_id_wins_and_url_slug_next():
    a, b = make(record_id="119958"), make(url="https://example.org/document/telegram-ccp-zhou")
    IdRegistry(None).assign_all([a, b])
    assert (a.id, b.id) == ("119958", "telegram-ccp-zhou")


def test_collisions_are_numbered_in_reading_order_and_reported():
    a, b = make(file="a.txt"), make(file="b.txt")
    IdRegistry(None).assign_all([a, b])
    assert a.id == "1954-06-20-telegram-ccp-central-committee-to-zhou-enlai"
    assert b.id == a.id + "-2"
    assert [p.code for p in b.problems] == ["id-collision"]
    assert a.problems == []


def test_ids_survive_a_reload_a_rename_and_a_corrected_title(tmp_path):
    path = tmp_path / "reg.json"
    reg = IdRegistry.open(path)
    first = make()
    reg.assign_all([first])
    reg.save()
    assert json.loads(path.read_text())["version"] == 1

    renamed = make(file="renamed.txt")  # same content, new location
    corrected = make(title="Telegram, CCP Central Committee to Zhou Enlai (corrected)")  # same location
    for again in (renamed, corrected):
        reg2 = IdRegistry.open(path)
        reg2.assign_all([again])
        assert again.id == first.id


def test_a_new_record_sharing_date_and_title_never_takes_a_known_id(tmp_path):
    path = tmp_path / "reg.json"
    reg = IdRegistry.open(path)
    known = make(file="b.txt")
    reg.assign_all([known])
    reg.save()
    # A different document with the same date and title sorts before the known one.
    newcomer, same_known = make(file="a.txt"), make(file="b.txt")
    reg2 = IdRegistry.open(path)
    reg2.assign_all([newcomer, same_known])
    assert same_known.id == known.id
    assert newcomer.id == known.id + "-2"


def test_damaged_registry_is_reported(tmp_path):
    path = tmp_path / "reg.json"
    path.write_text("{not json")
    try:
        IdRegistry.open(path)
    except ValueError as exc:
        assert str(path) in str(exc)
    else:
        raise AssertionError("a damaged registry must not load silently")
