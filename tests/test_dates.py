"""Dates are read at the precision the source gives, and nothing else is taken for a date."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from docket.ingest.dates import find_dates, parse_date


@pytest.mark.parametrize("text,iso", [
    ("June 20, 1954", "1954-06-20"), ("Jun. 20, 1954", "1954-06-20"), ("20 June 1954", "1954-06-20"),
    ("June 1954", "1954-06"), ("1954", "1954"), ("1954-06-20", "1954-06-20"), ("1954-06", "1954-06"),
    ("20.06.1954", "1954-06-20"), ("Sept. 3, 1949", "1949-09-03"), ("c. 1954", "1954"),
    ("June\u00a020, 1954", "1954-06-20"), ("[June 20, 1954]", "1954-06-20"), ("June 20th, 1954", "1954-06-20"),
])
def test_reads_archive_dates(text, iso):
    assert parse_date(text) == iso


@pytest.mark.parametrize("text", ["February 30, 1954", "June 20", "1954-13-01", "yesterday", "", "Smarch 3, 1950"])
def test_rejects_what_is_not_a_date(text):
    assert parse_date(text) is None


def test_year_completes_a_date_without_one():
    assert parse_date("June 20", year=1954) == "1954-06-20"


def test_finds_dates_in_running_text():
    assert find_dates('"Telegram," June 20, 1954, History and Public Policy Program, 3 May 1951') == [
        "June 20, 1954", "3 May 1951"]


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)))
def test_every_written_form_of_a_date_reads_back(d):
    for text in (d.strftime("%B %-d, %Y"), d.strftime("%-d %B %Y"), d.isoformat(), d.strftime("%b. %-d, %Y")):
        assert parse_date(text) == d.isoformat()


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises(text):
    result = parse_date(text)
    assert result is None or len(result) in (4, 7, 10)
