"""Property tests: no input crashes the JSON or CSV reader, every input ends as records or listed
rejections, records round-trip through both formats, and the reader and the published schema agree."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from jsonschema import Draft202012Validator

from docket.config import Settings
from docket.ingest import csvfile, fields, jsonfile
from docket.ingest.dates import parse_date
from docket.ingest.model import RECORD_FIELDS, DateValue, Name, Record, Rejection, SourceRef

FAST = hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONFIG = Settings.load(env={})

# -- arbitrary input ------------------------------------------------------------------------------



def mostly(good, other):
    """Draw from ``good`` about four times in five (hypothesis dedupes repeated one_of branches)."""
    return st.integers(0, 4).flatmap(lambda i: other if i == 4 else good)


READABLE_DATES = st.sampled_from(["1954", "1954-06", "1954-06-20", "June 20, 1954", "20 June 1954",
                                  "Jun. 20, 1954", "June 1954", "20.06.1954"])
date_like = mostly(READABLE_DATES, st.one_of(
    st.sampled_from(["June 20", "1954-02-30", "", " ", "n.d.", "1954-13"]), st.text(max_size=12)))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20), date_like)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
ISO_LIKE = st.sampled_from(["1954", "1954-06", "1954-06-20", "", "1954-02-30", "20.06.1954", "1954-06-20\n"])


def _value_for(key: str):
    """Mostly values of the right kind for ``key``, sometimes anything at all."""
    col = fields.COLUMN_BY_KEY.get(key)
    if col is None:
        return json_values
    one = {fields.ISO: ISO_LIKE, fields.ISOS: ISO_LIKE, fields.DATE: date_like,
           fields.DATES: date_like}.get(col.kind, st.text(min_size=1, max_size=15) | st.just(""))
    good = st.lists(one, max_size=3) if col.kind in fields.LIST_KINDS else one
    return mostly(good, json_values)


keys = st.one_of(st.sampled_from(fields.KEYS), st.text(max_size=10))


@st.composite
def objects(draw):
    """Objects that are often records, sometimes nearly, sometimes not at all."""
    obj = dict(draw(st.lists(keys.flatmap(lambda k: st.tuples(st.just(k), _value_for(k))), max_size=6)))
    for key in ("title", "date"):
        if draw(st.integers(0, 4)) < 4:  # mostly present: hypothesis favours small integers
            obj[key] = draw(_value_for(key))
    if draw(st.booleans()):  # a date with its ISO companion (a list one only read when it lines up)
        f = draw(st.sampled_from([f for f in fields.FIELDS if f.iso_key]))
        n = draw(st.integers(1, 3))
        if f.kind == fields.DATE:
            obj[f.key], obj[f.iso_key] = draw(date_like), draw(ISO_LIKE)
        else:
            obj[f.key] = draw(st.lists(date_like, min_size=n, max_size=n))
            obj[f.iso_key] = draw(st.lists(ISO_LIKE, min_size=n, max_size=n))
    return obj


def _kinds(items):
    assert all(isinstance(i, (Record, Rejection)) for i in items), items
    for item in items:
        if isinstance(item, Rejection):
            assert item.message and str(item)


@FAST
@given(st.one_of(objects(), st.lists(st.one_of(objects(), json_values), max_size=5), json_values))
def test_any_json_value_ends_as_one_record_or_rejection_per_item(value):
    items = list(jsonfile.read_text(json.dumps(value, ensure_ascii=False), "random.json"))
    _kinds(items)
    expected = len(value) if isinstance(value, list) else 1
    assert len(items) == expected
    assert [i.source.position for i in items] == list(range(1, expected + 1))


@FAST
@given(st.text(max_size=200))
def test_any_text_never_crashes_the_json_reader(text):
    _kinds(list(jsonfile.read_text(text, "random.json")))


cells = st.one_of(st.text(max_size=15), date_like, st.sampled_from(["A|B", " | ", '"', "\n\n", "x\r\ny"]))


def _cell_for(key: str):
    col = fields.COLUMN_BY_KEY.get(key)
    kind = col.kind if col else None
    if kind in (fields.DATE, fields.DATES):
        return mostly(date_like, cells)
    if kind in (fields.ISO, fields.ISOS):
        return mostly(st.sampled_from(["", "1954-06-20", "1954"]), st.one_of(ISO_LIKE, cells))
    return cells


HEADER_NAMES = st.sampled_from(fields.KEYS + ("notes", "", "Title", "DATE", "Signature Date"))


@FAST
@given(
    st.one_of(st.lists(HEADER_NAMES, min_size=1, max_size=6, unique=True),
              st.lists(HEADER_NAMES, min_size=1, max_size=6)),
    st.integers(0, 3),
    st.data(),
)
def test_any_csv_rows_end_as_one_record_or_rejection_per_row(header, force_required, data):
    if force_required < 3:  # mostly: hypothesis favours small integers
        header = ["title", "date"] + [h for h in header if h.lower() not in ("title", "date")]
    keyed = [fields.COLUMN_BY_KEY.get(h.lower().replace(" ", "_")) for h in header]
    right = st.tuples(*[_cell_for(c.key if c else "") for c in keyed]).map(list)
    wrong = st.integers(0, 8).flatmap(lambda n: st.lists(cells, min_size=n, max_size=n))
    rows = data.draw(st.lists(mostly(right, wrong), max_size=5))
    out = io.StringIO(newline="")
    csv.writer(out).writerows([header, *rows])
    items = list(csvfile.read_text(out.getvalue(), "random.csv"))
    _kinds(items)
    if items and isinstance(items[0], Rejection) and items[0].code in ("missing-column", "duplicate-column",
                                                                      "no-header"):
        assert len(items) == 1
        return
    data_rows = [r for r in rows if any(c.strip() for c in r)]
    if not any(h.strip() for h in header):  # an empty header row is skipped: the next row is the header
        return
    assert len(items) == len(data_rows)
    assert [i.source.position for i in items] == list(range(1, len(data_rows) + 1))


@FAST
@given(st.text(max_size=200), st.sampled_from(["|", ";", " / "]))
def test_any_text_never_crashes_the_csv_reader(text, separator):
    _kinds(list(csvfile.read_text(text, "random.csv", separator)))


@FAST
@given(st.binary(max_size=200), st.booleans())
def test_any_bytes_in_a_file_never_crash_either_reader(data, with_bom):
    with tempfile.TemporaryDirectory() as folder:
        for reader, name in ((jsonfile, "f.json"), (csvfile, "f.csv")):
            path = Path(folder) / name
            path.write_bytes((b"\xef\xbb\xbf" if with_bom else b"") + data)
            items = list(reader.read(path, name, CONFIG))
            _kinds(items)


# -- valid records --------------------------------------------------------------------------------


def _text(csv_safe: bool, single_line: bool = False):
    alphabet = st.characters(blacklist_categories=("Cs",), blacklist_characters="|" if csv_safe else "")
    s = st.text(alphabet, min_size=1, max_size=30).map(str.strip).filter(bool)
    if single_line:
        s = s.map(lambda t: " ".join(t.split())).filter(bool)
    return s


def _paragraph(csv_safe: bool):
    s = _text(False)
    return s.filter(lambda p: not csvfile.PARAGRAPH_BREAK.search(p)) if csv_safe else s


ISO_DATES = st.dates(min_value=date(1000, 1, 1), max_value=date(2100, 12, 31))


@st.composite
def date_values(draw, csv_safe: bool, required: bool = False):
    day = draw(ISO_DATES)
    text = draw(st.one_of(
        st.sampled_from([day.isoformat(), day.isoformat()[:7], str(day.year),
                         f"{day:%B} {day.day}, {day.year}", f"{day.day} {day:%B} {day.year}",
                         f"{day:%B} {day.day}", f"{day:%B} {day.year}"]),
        _text(csv_safe),
    ))
    parsed = parse_date(text)
    other = draw(st.sampled_from([day.isoformat(), day.isoformat()[:7], str(day.year)]))
    if parsed is None:
        iso = other if required else draw(st.sampled_from([other, None]))
    else:
        iso = draw(st.sampled_from([parsed, other]))
    return DateValue(text, iso)


@st.composite
def records(draw, csv_safe: bool = False):
    record = Record(SourceRef("generated"))
    for f in fields.FIELDS:
        if not (f.required or draw(st.booleans())):
            continue
        if f.kind == fields.TEXT:
            value = draw(_text(False))
        elif f.kind == fields.TEXTS:
            value = draw(st.lists(_text(csv_safe), min_size=1, max_size=3))
        elif f.kind == fields.NAMES:
            value = [Name.parse(t) for t in draw(st.lists(_text(csv_safe, True), min_size=1, max_size=3))]
        elif f.kind == fields.PARAGRAPHS:
            value = draw(st.lists(_paragraph(csv_safe), min_size=1, max_size=3))
        elif f.kind == fields.DATE:
            value = draw(date_values(csv_safe, required=f.required))
        else:
            value = draw(st.lists(date_values(csv_safe), min_size=1, max_size=3))
        record.found(f.key, value)
    return record


def values(record: Record) -> dict:
    """Every field's value, dates as (text, iso): what the format must carry."""
    def plain(v):
        if isinstance(v, DateValue):
            return (v.text, v.iso)
        if isinstance(v, list):
            return [plain(i) for i in v]
        return v
    return {k: plain(getattr(record, k)) for k in RECORD_FIELDS}


@FAST
@given(records())
def test_record_to_json_to_record_keeps_every_value_and_json_round_trips_exactly(record):
    mapping = fields.record_to_mapping(record)
    text = json.dumps(mapping, ensure_ascii=False)
    (back,) = jsonfile.read_text(text, "rt.json")
    assert isinstance(back, Record), back
    assert values(back) == values(record)
    assert fields.record_to_mapping(back) == json.loads(text)  # JSON -> Record -> JSON
    assert {p.code for p in back.problems} <= {"unreadable-date", "date-iso-differs"}


@FAST
@given(records(csv_safe=True))
def test_record_to_csv_to_record_keeps_every_value(record):
    out = io.StringIO(newline="")
    csvfile.write([record], out)
    (back,) = csvfile.read_text(out.getvalue(), "rt.csv")
    assert isinstance(back, Record), back
    assert values(back) == values(record)


# -- the reader and the published schema agree ----------------------------------------------------

VALIDATOR = Draft202012Validator(
    {"$defs": fields.published_schema()["$defs"], "$ref": "#/$defs/record"})


@FAST
@given(objects())
def test_reader_accepts_only_what_the_schema_accepts_and_only_real_dates(obj):
    result = fields.record_from_mapping(obj, SourceRef("x.json"))
    schema_ok = VALIDATOR.is_valid(obj)
    if isinstance(result, Record):
        assert schema_ok, obj
        dates = [result.date, result.signature_date, result.uploaded_date, *result.other_dates]
        assert all(parse_date(d.iso) == d.iso for d in dates if d and d.iso), dates  # real dates only
    elif schema_ok:
        # The schema cannot read dates; everything else it checks as the reader does.
        assert result.code == "bad-date", result
