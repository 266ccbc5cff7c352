"""The JSON reader: one record or a list, schema checks, clear rejections, the published schema and doc."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator

from docket.ingest import fields, jsonfile
from docket.ingest.model import FOUND, RECORD_FIELDS, Record, Rejection

GOOD = {"title": "Telegram, CCP Central Committee to Zhou Enlai", "date": "June 20, 1954"}


def read(tmp_path, text, settings, name="in.json"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return list(jsonfile.read(path, name, settings))


def one(tmp_path, obj, settings):
    (item,) = read(tmp_path, json.dumps(obj, ensure_ascii=False), settings)
    return item


def test_single_object_is_record_1(tmp_path, settings):
    record = one(tmp_path, GOOD, settings)
    assert isinstance(record, Record)
    assert record.source.position == 1 and record.source.line == 1
    assert record.date.iso == "1954-06-20" and record.layout == "json"
    assert record.status("title").status == FOUND
    assert record.status("title").source == "JSON field 'title'"
    assert record.problems == []


def test_list_gives_each_item_its_position_and_line(tmp_path, settings):
    text = '[\n  {"title": "A", "date": "1954"},\n  {"title": "B",\n   "date": "1955-03"}\n]\n'
    a, b = read(tmp_path, text, settings)
    assert (a.title, a.source.position, a.source.line) == ("A", 1, 2)
    assert (b.title, b.source.position, b.source.line, b.date.iso) == ("B", 2, 3, "1955-03")


def test_empty_list_reads_nothing(tmp_path, settings):
    assert read(tmp_path, " [ ] ", settings) == []


def test_invalid_json_names_line_and_column(tmp_path, settings):
    (rej,) = read(tmp_path, '[\n {"title": "A", "date": "1954"},\n {"title": "B" "date": "1954"}\n]', settings)
    assert isinstance(rej, Rejection) and rej.code == "invalid-json"
    assert rej.source.line == 3 and "line 3, column 16" in rej.message


def test_two_values_in_one_file_is_explained(tmp_path, settings):
    (rej,) = read(tmp_path, '{"title": "A", "date": "1954"}\n{"title": "B", "date": "1954"}\n', settings)
    assert rej.code == "invalid-json" and rej.source.line == 2 and "one JSON value" in rej.message


def test_deeply_nested_json_is_rejected_not_raised(tmp_path, settings):
    (rej,) = read(tmp_path, "[" * 100_000, settings)
    assert rej.code == "invalid-json"


@pytest.mark.parametrize("text, kind", [("5", "a number"), ('"x"', "a string"), ("null", "null")])
def test_top_level_not_a_record(tmp_path, settings, text, kind):
    (rej,) = read(tmp_path, text, settings)
    assert rej.code == "not-an-object" and kind in rej.message


def test_list_item_not_an_object_is_rejected_alone(tmp_path, settings):
    items = read(tmp_path, json.dumps([GOOD, [1, 2], "text", {**GOOD, "title": "Second"}]), settings)
    assert [type(i).__name__ for i in items] == ["Record", "Rejection", "Rejection", "Record"]
    assert items[1].source.position == 2 and "a list, not a record object" in items[1].message
    assert items[3].source.position == 4 and items[3].title == "Second"


def test_bad_date_names_field_and_quotes_value(tmp_path, settings):
    rej = one(tmp_path, {**GOOD, "date": "Juno 20, 1954"}, settings)
    assert isinstance(rej, Rejection)
    assert (rej.field, rej.code) == ("date", "bad-date")
    assert "'Juno 20, 1954'" in rej.message and "in.json" in str(rej)


def test_impossible_date_is_rejected(tmp_path, settings):
    rej = one(tmp_path, {**GOOD, "date": "February 30, 1954"}, settings)
    assert rej.field == "date" and rej.code == "bad-date"


@pytest.mark.parametrize("title", ["", "   ", None])
def test_empty_title_is_rejected(tmp_path, settings, title):
    rej = one(tmp_path, {**GOOD, "title": title}, settings)
    assert (rej.field, rej.code) == ("title", "empty-title")


def test_missing_title_and_date_are_both_listed(tmp_path, settings):
    rej = one(tmp_path, {"summary": "no title here"}, settings)
    assert rej.code == "no-date" and "no title" in rej.message and "no date" in rej.message


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("senders", "Mao Zedong", "'senders' must be a list of strings, not a string"),
        ("senders", ["Mao Zedong", 7], "item 2 of 'senders' must be a string, not a number"),
        ("summary", ["a"], "'summary' must be a string, not a list"),
        ("title", 1954, "'title' must be a string, not a number"),
        ("body", {"p": "x"}, "'body' must be a list of strings, not an object"),
        ("date", True, "'date' must be a string, not a boolean"),
    ],
)
def test_wrong_type_names_field_and_expected_type(tmp_path, settings, key, value, expected):
    rej = one(tmp_path, {**GOOD, key: value}, settings)
    assert isinstance(rej, Rejection)
    assert (rej.field, rej.code) == (key, "wrong-type")
    assert expected in rej.message


def test_every_fault_of_a_record_is_listed_at_once(tmp_path, settings):
    rej = one(tmp_path, {"title": "", "date": "someday", "senders": "X"}, settings)
    assert "someday" in rej.message and "no title" in rej.message and "'senders'" in rej.message


def test_unknown_field_is_a_warning_quoting_the_value(tmp_path, settings):
    record = one(tmp_path, {**GOOD, "titel": "Telegram", "provenance": {"title": "derived"}}, settings)
    assert isinstance(record, Record)
    problems = {p.field: p for p in record.problems}
    assert problems["titel"].code == "unknown-field"
    assert "'Telegram'" in problems["titel"].message and "did you mean 'title'" in problems["titel"].message
    assert problems["provenance"].code == "unknown-field"
    assert record.status("title").status == FOUND  # provenance is not an input


def test_duplicate_key_keeps_the_last_and_warns(tmp_path, settings):
    (record,) = read(tmp_path, '{"title": "First", "date": "1954", "title": "Second"}', settings)
    assert record.title == "Second"
    (problem,) = record.problems
    assert problem.code == "duplicate-field" and "'First'" in problem.message


def test_null_means_absent(tmp_path, settings):
    record = one(tmp_path, {**GOOD, "subtitle": None, "senders": None}, settings)
    assert record.subtitle is None and record.senders == [] and record.problems == []


def test_record_id_may_be_a_whole_number(tmp_path, settings):
    assert one(tmp_path, {**GOOD, "record_id": 121234}, settings).record_id == "121234"
    assert one(tmp_path, {**GOOD, "record_id": 1.5}, settings).field == "record_id"


def test_names_dates_and_companions(tmp_path, settings):
    record = one(tmp_path, {
        **GOOD,
        "senders": ["Filippov [Stalin]", "  Mao   Zedong "],
        "signature_date": "June 20", "signature_date_iso": "1954-06-20",
        "other_dates": ["June 21", "July 1954"], "other_dates_iso": ["1954-06-21", ""],
        "uploaded_date": "sometime",
    }, settings)
    assert [(n.written, n.name, n.identified_as) for n in record.senders] == [
        ("Filippov [Stalin]", "Filippov", "Stalin"), ("Mao Zedong", "Mao Zedong", None)]
    assert (record.signature_date.text, record.signature_date.iso) == ("June 20", "1954-06-20")
    assert [(d.text, d.iso) for d in record.other_dates] == [("June 21", "1954-06-21"), ("July 1954", "1954-07")]
    assert (record.uploaded_date.text, record.uploaded_date.iso) == ("sometime", None)
    assert [p.code for p in record.problems] == ["unreadable-date"]


def test_companion_that_disagrees_wins_with_a_warning(tmp_path, settings):
    record = one(tmp_path, {**GOOD, "date_iso": "1954-06-21"}, settings)
    assert record.date.iso == "1954-06-21"
    assert [p.code for p in record.problems] == ["date-iso-differs"]


@pytest.mark.parametrize("obj, field", [
    ({**GOOD, "date_iso": "20/06/1954"}, "date_iso"),
    ({**GOOD, "other_dates": ["June 21"], "other_dates_iso": ["1954-06-21", "1954-06-22"]}, "other_dates_iso"),
    ({**GOOD, "signature_date_iso": "1954-06-20"}, "signature_date_iso"),
    ({**GOOD, "other_dates": ["June 21", "June 22"], "other_dates_iso": ["1954-06-21", "22.06.1954"]},
     "other_dates_iso"),
])
def test_bad_companions_are_rejected(tmp_path, settings, obj, field):
    rej = one(tmp_path, obj, settings)
    assert (rej.field, rej.code) == (field, "bad-date")


def test_chinese_text_and_curly_quotes_are_unharmed(tmp_path, settings):
    body = ["Lin said: “我们原则上同意。” (‘We agree.’) [sic]", "第二段 — ends here…"]
    record = one(tmp_path, {**GOOD, "title": "电报 “Geneva”", "body": body}, settings)
    assert record.title == "电报 “Geneva”" and record.body == body


def test_bom_is_accepted(tmp_path, settings):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode())
    (record,) = jsonfile.read(path, "bom.json", settings)
    assert record.title == GOOD["title"]


def test_invalid_utf8_names_the_line(tmp_path, settings):
    path = tmp_path / "bad.json"
    path.write_bytes(b'[\n{"title": "A", "date": "1954"},\n{"title": "Caf\xe9", "date": "1954"}\n]')
    (rej,) = jsonfile.read(path, "bad.json", settings)
    assert rej.code == "encoding" and rej.source.line == 3 and "UTF-8" in rej.message


def test_200_mb_file_is_rejected_without_reading_it(tmp_path, settings):
    path = tmp_path / "huge.json"
    with path.open("wb") as f:
        f.truncate(200 * 1024 * 1024)  # sparse: no disk used, no time spent
    (rej,) = jsonfile.read(path, "huge.json", settings)
    assert rej.code == "too-large" and "209,715,200 bytes" in rej.message and str(rej).startswith("huge.json")


def test_unreadable_file_is_rejected(tmp_path, settings):
    (rej,) = jsonfile.read(tmp_path / "missing.json", "missing.json", settings)
    assert rej.code == "unreadable" and "missing.json" in str(rej)


# -- the example files, the published schema and the documentation -------------------------------


def test_example_file_round_trips_exactly(repo_root, settings):
    path = repo_root / "docs" / "examples" / "records.json"
    records = list(jsonfile.read(path, "records.json", settings))
    assert all(isinstance(r, Record) and not r.problems for r in records) and len(records) == 3
    assert json.loads(jsonfile.dumps(records)) == json.loads(path.read_text(encoding="utf-8"))


def test_published_schema_is_valid_and_matches_the_field_table(repo_root):
    path = repo_root / "src" / "docket" / "schemas" / "record.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert path.read_text(encoding="utf-8") == fields.schema_text(), (
        "regenerate: python -m docket.ingest.fields schema > src/docket/schemas/record.schema.json")
    assert fields.published_schema() == schema  # what the package loads is that file


def test_schema_accepts_the_example_file_and_rejects_wrong_types(repo_root):
    validator = Draft202012Validator(fields.published_schema())
    data = json.loads((repo_root / "docs" / "examples" / "records.json").read_text(encoding="utf-8"))
    assert not list(validator.iter_errors(data))
    assert not list(validator.iter_errors(data[0]))  # a single record is a valid file too
    assert list(validator.iter_errors({**GOOD, "senders": "X"}))
    assert list(validator.iter_errors([{**GOOD, "title": " "}]))
    assert list(validator.iter_errors({"title": "no date"}))


def test_field_table_covers_the_model():
    assert {f.key for f in fields.FIELDS} == set(RECORD_FIELDS)


def test_doc_lists_every_field_in_the_generated_table(repo_root):
    doc = (repo_root / "docs" / "record-format.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- fields:start -->\n(.*?)<!-- fields:end -->", doc, re.S)
    assert table, "docs/record-format.md lost its field-table markers"
    assert table.group(1) == fields.markdown_table(), "regenerate: python -m docket.ingest.fields table"
    for key in fields.KEYS:
        assert f"| `{key}` |" in table.group(1)


def test_doc_examples_read_cleanly_and_agree(repo_root, settings, tmp_path):
    from docket.ingest import csvfile

    doc = (repo_root / "docs" / "record-format.md").read_text(encoding="utf-8")
    json_block = re.search(r"```json\n(.*?)```", doc, re.S).group(1)
    csv_block = re.search(r"```csv\n(.*?)```", doc, re.S).group(1)
    (from_json,) = jsonfile.read_text(json_block, "doc.json")
    (from_csv,) = csvfile.read_text(csv_block, "doc.csv")
    assert isinstance(from_json, Record) and not from_json.problems
    assert isinstance(from_csv, Record) and not from_csv.problems
    assert fields.record_to_mapping(from_json) == fields.record_to_mapping(from_csv) == json.loads(json_block)
    assert from_json.title == "Telegram, CCP Central Committee to Zhou Enlai"
    assert from_json.citations == ["ZX vol. 4, p. 509"] and from_json.translators[0].written == "Chen Jian"
    assert from_json.signature_date.iso == "1954-06-20"


# -- the compiled schema decides as jsonschema does ---------------------------------------------------

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st  # noqa: E402

from docket.ingest.jsonfile import _compiled, _validator  # noqa: E402

_FIELDS = sorted(fields.published_schema()["$defs"]["record"]["properties"])
_scalar = st.one_of(st.text(max_size=8), st.sampled_from(["", " ", "\n", "June 20, 1954", "x"]), st.integers(),
                    st.floats(allow_nan=False), st.booleans(), st.none())
_value = st.one_of(_scalar, st.lists(_scalar, max_size=3), st.lists(st.text(max_size=5), max_size=3),
                   st.dictionaries(st.text(max_size=4), _scalar, max_size=2))
_objects = st.dictionaries(st.one_of(st.sampled_from(_FIELDS), st.text(max_size=6)), _value, max_size=8)


def _fast_verdict(obj) -> bool:
    import fastjsonschema

    try:
        _compiled()(obj)
        return True
    except fastjsonschema.JsonSchemaException:
        return False


@hsettings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(obj=_objects, title=st.one_of(st.none(), _value), date=st.one_of(st.none(), _value))
def test_the_compiled_schema_accepts_exactly_what_jsonschema_accepts(obj, title, date):
    for key, value in (("title", title), ("date", date)):
        if value is not None:
            obj[key] = value
    assert _fast_verdict(obj) == (not list(_validator().iter_errors(obj))), obj


def test_the_compiled_schema_passes_every_example(repo_root):
    data = json.loads((repo_root / "docs" / "examples" / "records.json").read_text(encoding="utf-8"))
    assert data and all(_fast_verdict(obj) for obj in data)
