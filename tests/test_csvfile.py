"""The CSV reader: header, cells, separators, line numbers, encodings, and the writer's refusals."""

from __future__ import annotations

import io
import json

import pytest

from docket.ingest import csvfile, fields, jsonfile
from docket.ingest.model import FOUND, Record, Rejection, SourceRef


def read(tmp_path, text, settings, name="in.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return list(csvfile.read(path, name, settings))


def test_rows_become_records_with_position_line_and_provenance(tmp_path, settings):
    a, b = read(tmp_path, "title,date\nA,1954-06-20\nB,June 1955\n", settings)
    assert (a.title, a.date.iso, a.source.position, a.source.line) == ("A", "1954-06-20", 1, 2)
    assert (b.title, b.date.iso, b.source.position, b.source.line) == ("B", "1955-06", 2, 3)
    assert a.layout == "csv" and a.status("date").status == FOUND
    assert a.status("date").source == "CSV column 'date'" and a.problems == []


def test_header_names_are_normalised(tmp_path, settings):
    (record,) = read(tmp_path, " Title ,DATE,Signature Date,signature-date-iso\nA,1954,June 20,1954-06-20\n",
                     settings)
    assert record.signature_date.iso == "1954-06-20" and record.problems == []


def test_multi_valued_cells_are_split_and_trimmed(tmp_path, settings):
    text = 'title,date,senders,subjects\nA,1954," Filippov [Stalin] | Mao  Zedong ",War| |Peace|\n'
    (record,) = read(tmp_path, text, settings)
    assert [n.written for n in record.senders] == ["Filippov [Stalin]", "Mao Zedong"]
    assert record.senders[0].identified_as == "Stalin"
    assert record.subjects == ["War", "Peace"]


def test_separator_comes_from_settings(tmp_path, settings):
    (record,) = read(tmp_path, "title,date,subjects\nA,1954,War; Peace|Love\n",
                     settings.replace(multi_value_separator=";"))
    assert record.subjects == ["War", "Peace|Love"]


def test_body_cell_splits_on_blank_lines(tmp_path, settings):
    text = 'title,date,body\nA,1954,"First paragraph,\nstill first.\n\nSecond [sic].\r\n \r\nThird."\n'
    (record,) = read(tmp_path, text, settings)
    assert record.body == ["First paragraph,\nstill first.", "Second [sic].", "Third."]


def test_multi_line_quoted_cell_keeps_line_numbers_right(tmp_path, settings):
    text = 'title,date,body\nA,1954,"one\n\ntwo\n\nthree"\nB,1955,x\n"C\nC",1956,y\n'
    a, b, c = read(tmp_path, text, settings)
    assert [r.source.line for r in (a, b, c)] == [2, 7, 8]
    assert [r.source.position for r in (a, b, c)] == [1, 2, 3]
    assert c.title == "C\nC"


def test_wrong_cell_count_rejects_that_row_only(tmp_path, settings):
    text = "title,date,summary\nA,1954,ok\nB,June 20, 1954,oops\nC\nD,1956,ok\n"
    items = read(tmp_path, text, settings)
    assert [type(i).__name__ for i in items] == ["Record", "Rejection", "Rejection", "Record"]
    long, short = items[1], items[2]
    assert (long.code, long.source.line) == ("cell-count", 3)
    assert "4 cells but the header has 3" in long.message and "comma" in long.message
    assert str(long).startswith("in.csv, line 3")
    assert (short.code, short.source.line) == ("cell-count", 4)


def test_unclosed_quote_is_explained(tmp_path, settings):
    items = read(tmp_path, 'title,date\nA,1954\n"B,1955\nC,1956\n', settings)
    assert isinstance(items[0], Record)
    (rej,) = items[1:]
    assert rej.code == "cell-count" and rej.source.line == 3 and "closing quote" in rej.message


def test_entirely_empty_rows_are_skipped(tmp_path, settings):
    items = read(tmp_path, "\ntitle,date\n\n,\n  ,  \nA,1954\n\n", settings)
    assert [(r.title, r.source.line, r.source.position) for r in items] == [("A", 6, 1)]


def test_missing_required_column_rejects_the_file_once(tmp_path, settings):
    (rej,) = read(tmp_path, "headline,date\nA,1954\nB,1955\n", settings)
    assert (rej.code, rej.field, rej.source.line) == ("missing-column", "title", 1)
    assert "'headline'" in rej.message


def test_semicolon_file_gets_a_hint(tmp_path, settings):
    (rej,) = read(tmp_path, "title;date\nA;1954\n", settings)
    assert rej.code == "missing-column" and "semicolons" in rej.message


def test_duplicate_column_rejects_the_file(tmp_path, settings):
    (rej,) = read(tmp_path, "title,date,Title\nA,1954,B\n", settings)
    assert (rej.code, rej.field) == ("duplicate-column", "title") and "columns 1 and 3" in rej.message


def test_empty_file_needs_a_header(tmp_path, settings):
    (rej,) = read(tmp_path, "", settings)
    assert rej.code == "no-header" and "title" in rej.message


def test_header_only_reads_nothing(tmp_path, settings):
    assert read(tmp_path, "title,date\n", settings) == []


def test_unknown_column_warns_each_record_with_a_value(tmp_path, settings):
    a, b = read(tmp_path, "title,date,notes,\nA,1954,check the date,\nB,1955,,stray\n", settings)
    assert [(p.field, p.code) for p in a.problems] == [("notes", "unknown-field")]
    assert "'check the date'" in a.problems[0].message and "CSV column 'notes'" in a.problems[0].message
    assert [(p.field, p.code) for p in b.problems] == [("(column 4)", "unknown-field")]
    assert "'stray'" in b.problems[0].message


def test_bad_date_rejects_the_row_naming_line_field_and_value(tmp_path, settings):
    a, b = read(tmp_path, "title,date\nA,the day after\nB,1955\n", settings)
    assert isinstance(a, Rejection) and isinstance(b, Record)
    assert (a.field, a.code, a.source.line) == ("date", "bad-date", 2)
    assert "'the day after'" in a.message and str(a).startswith("in.csv, line 2, field 'date'")


def test_empty_title_rejects_the_row(tmp_path, settings):
    a, b = read(tmp_path, 'title,date\n"  ",1954\nB,1955\n', settings)
    assert (a.field, a.code, a.source.line) == ("title", "empty-title", 2)
    assert isinstance(b, Record)


def test_bad_iso_companion_rejects_the_row(tmp_path, settings):
    (rej,) = read(tmp_path, "title,date,date_iso\nA,June 20,20-06-1954\n", settings)
    assert (rej.field, rej.code) == ("date_iso", "bad-date")


def test_date_list_with_parallel_iso_list(tmp_path, settings):
    (record,) = read(tmp_path, "title,date,other_dates,other_dates_iso\nA,1954,June 20|July 1954,1954-06-20|\n",
                     settings)
    assert [(d.text, d.iso) for d in record.other_dates] == [("June 20", "1954-06-20"), ("July 1954", "1954-07")]


def test_bom_is_accepted(tmp_path, settings):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbftitle,date\r\nA,1954\r\n")
    (record,) = csvfile.read(path, "bom.csv", settings)
    assert record.title == "A" and record.problems == []


def test_invalid_utf8_names_the_line(tmp_path, settings):
    path = tmp_path / "latin1.csv"
    path.write_bytes("title,date\nA,1954\nCafé,1955\n".encode("latin-1"))
    (rej,) = csvfile.read(path, "latin1.csv", settings)
    assert (rej.code, rej.source.line) == ("encoding", 3)
    assert "UTF-8" in rej.message and "line 3" in str(rej)


def test_too_large_file_is_rejected(tmp_path, settings):
    path = tmp_path / "big.csv"
    path.write_text("title,date\n" + "A,1954\n" * 100)
    (rej,) = csvfile.read(path, "big.csv", settings.replace(max_file_bytes=100))
    assert rej.code == "too-large" and "big.csv" in str(rej)


def test_huge_cell_within_the_size_limit_is_read(tmp_path, settings):
    body = "x" * 300_000  # larger than the csv module's default field limit (131072)
    (record,) = read(tmp_path, f'title,date,body\nA,1954,"{body}"\n', settings)
    assert record.body == [body]


def test_chinese_text_and_curly_quotes_are_unharmed(tmp_path, settings):
    text = 'title,date,body,subjects\n"电报 “Geneva”, ‘draft’",1954,"他说：“同意。”\n\n[sic] …",日内瓦会议|Indochina\n'
    (record,) = read(tmp_path, text, settings)
    assert record.title == "电报 “Geneva”, ‘draft’"
    assert record.body == ["他说：“同意。”", "[sic] …"]
    assert record.subjects == ["日内瓦会议", "Indochina"]


def test_example_csv_holds_the_same_records_as_the_example_json(repo_root, settings):
    folder = repo_root / "docs" / "examples"
    from_csv = list(csvfile.read(folder / "records.csv", "records.csv", settings))
    from_json = list(jsonfile.read(folder / "records.json", "records.json", settings))
    assert all(isinstance(r, Record) and not r.problems for r in from_csv) and len(from_csv) == 3
    assert [fields.record_to_mapping(r) for r in from_csv] == [fields.record_to_mapping(r) for r in from_json]
    stream = io.StringIO(newline="")
    csvfile.write(from_json, stream)
    assert stream.getvalue() == (folder / "records.csv").read_bytes().decode("utf-8")


def test_writer_refuses_values_it_cannot_write_back(settings):
    record = Record(SourceRef("x.json", 2), title="A")
    record.found("subjects", ["War|Peace"])
    with pytest.raises(ValueError, match=r"x.json, record 2: item 1 of 'subjects' holds the separator"):
        csvfile.write([record], io.StringIO())
    record.subjects = []
    record.found("body", ["one\n\ntwo"])
    with pytest.raises(ValueError, match="paragraph 1 of 'body' holds a blank line"):
        csvfile.write([record], io.StringIO())


def test_written_csv_reads_back_the_same(settings):
    source = json.loads(
        '{"title": "T, with comma", "date": "June 20", "date_iso": "1954-06-20", "body": ["a \\"q\\"", "b\\rc"],'
        ' "other_dates": ["x", "June 21, 1954"], "other_dates_iso": ["1954-06-22", ""]}')
    record = fields.record_from_mapping(source, SourceRef("s.json"))
    stream = io.StringIO(newline="")
    csvfile.write([record], stream)
    (back,) = csvfile.read_text(stream.getvalue(), "s.csv")
    assert fields.record_to_mapping(back) == source
