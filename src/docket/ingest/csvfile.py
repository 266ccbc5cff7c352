"""Read records from a CSV file: a header row of external keys, then one row per record.

Comma-separated, RFC 4180 quoting (a cell may hold commas, quotes and line breaks when quoted),
UTF-8 with or without a byte-order mark. Header names are matched after trimming, lower-casing and
turning spaces and hyphens into underscores ("Signature Date" is ``signature_date``). Several
values in one cell are separated by ``settings.multi_value_separator`` ("|" unless set) and
trimmed; a body cell holds paragraphs separated by a blank line.

What goes wrong and what happens:

- no header, a header naming a column twice, or a header without ``title`` or ``date``: one
  rejection for the whole file, naming the column (no row could be read correctly);
- a row with more or fewer cells than the header: that row is rejected, naming the line it starts
  on; the other rows are read;
- a column the format does not know: every record with a value there is read and warned
  (code ``unknown-field``), quoting the value that was not read;
- an entirely empty row is skipped.

A record's position counts non-empty data rows from 1; its line is where its row starts (a quoted
cell can run over several lines, so this is not the row's index).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Iterable, Iterator, TextIO

from docket.config import Settings
from docket.ingest import fields
from docket.ingest.base import read_source
from docket.ingest.model import Record, Rejection, SourceRef

PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def read(path: Path, name: str, settings: Settings) -> Iterator[Record | Rejection]:
    """Yield a record or a rejection for every non-empty row; see the module docstring."""
    separator = settings.multi_value_separator
    yield from read_source(path, name, settings, lambda text: read_text(text, name, separator))


def read_text(text: str, name: str, separator: str = "|") -> Iterator[Record | Rejection]:
    """Read records from CSV text; ``name`` is how messages call the file."""
    if not separator:
        raise ValueError("the multi-value separator is empty; set DOCKET_MULTI_VALUE_SEPARATOR")
    # A quoted cell may be as long as the file, which the size limit has already bounded.
    if csv.field_size_limit() < len(text) + 1:
        csv.field_size_limit(len(text) + 1)
    reader = csv.reader(io.StringIO(text, newline=""))
    keys: list[str] | None = None
    end = 0  # line where the previous row ended
    position = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            start, progressed = end + 1, reader.line_num > end
            end = reader.line_num
            if keys is not None:
                position += 1
            yield Rejection(SourceRef(name, max(position, 1), start), "",
                            f"cannot read the CSV from line {start}: {exc}", "invalid-csv")
            if keys is None or not progressed:
                return
            continue
        start, end = end + 1, reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if keys is None:
            keys = [_key(cell, i) for i, cell in enumerate(row, 1)]
            problem = _header_problem(keys, row, name, start)
            if problem:
                yield problem
                return
            continue
        position += 1
        source = SourceRef(name, position, start)
        if len(row) != len(keys):
            yield Rejection(source, "", _count_message(len(row), len(keys), start, end), "cell-count")
            continue
        data = {key: _cell_value(key, cell, separator) for key, cell in zip(keys, row) if cell.strip()}
        yield fields.record_from_mapping(data, source, "csv")
    if keys is None:
        yield Rejection(SourceRef(name), "", "the file is empty: a header row naming the columns "
                        f"({', '.join(c.key for c in fields.COLUMNS if c.required)}, ...) is required",
                        "no-header")


def _key(cell: str, index: int) -> str:
    key = re.sub(r"[\s\-]+", "_", cell.strip().lower())
    return key or f"(column {index})"


def _header_problem(keys: list[str], row: list[str], name: str, line: int) -> Rejection | None:
    source = SourceRef(name, line=line)
    for i, key in enumerate(keys):
        if key in keys[:i]:
            return Rejection(source, key, f"the header names column {key!r} twice (columns "
                             f"{keys.index(key) + 1} and {i + 1})", "duplicate-column")
    for col in fields.COLUMNS:
        if col.required and col.key not in keys:
            message = f"the header has no column {col.key!r}, which every record needs"
            if len(row) == 1 and any(sep in row[0] for sep in ";\t"):
                message += "; the header is one cell: is the file separated by semicolons or tabs? " \
                           "Docket reads comma-separated files"
            else:
                shown = ", ".join(repr(k) for k in keys[:12]) + (", ..." if len(keys) > 12 else "")
                message += f" (columns found: {shown})"
            return Rejection(source, col.key, message, "missing-column")
    return None


def _count_message(cells: int, expected: int, start: int, end: int) -> str:
    message = f"the row has {cells} cells but the header has {expected}"
    if end > start:
        message += (f"; the row runs from line {start} to line {end}: is a quoted cell missing its "
                    "closing quote?")
    elif cells > expected:
        message += "; is a cell holding a comma not quoted?"
    return message


def _cell_value(key: str, cell: str, separator: str) -> str | list[str]:
    col = fields.COLUMN_BY_KEY.get(key)
    if col is None:
        return cell  # quoted as it stands in the unknown-field warning
    if col.kind not in fields.LIST_KINDS:
        return cell.strip()
    if col.kind == fields.PARAGRAPHS:
        return PARAGRAPH_BREAK.split(cell)
    # Empty entries are kept: an ISO list lines up with its date list by position.
    return [item.strip() for item in cell.split(separator)]


def write(records: Iterable[Record], stream: TextIO, separator: str = "|") -> None:
    """Write records as CSV in the external format, every column in the header.

    Open ``stream`` with ``newline=""`` (and ``encoding="utf-8-sig"`` for spreadsheet programs).

    Raises ``ValueError`` naming the record and field when a value cannot be written without
    loss (a list item holding the separator, a paragraph holding a blank line).
    """
    # CRLF as RFC 4180 says; with "\n" alone the csv module would not quote a cell holding "\r".
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(fields.KEYS)
    for record in records:
        data = fields.record_to_mapping(record)
        writer.writerow([_cell_text(record, key, data.get(key), separator) for key in fields.KEYS])


def _cell_text(record: Record, key: str, value: object, separator: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, list):
        return str(value)
    kind = fields.COLUMN_BY_KEY[key].kind
    for i, item in enumerate(value, 1):
        if kind == fields.PARAGRAPHS and PARAGRAPH_BREAK.search(item):
            raise ValueError(f"{record.source}: paragraph {i} of '{key}' holds a blank line, "
                             "which CSV reads as a paragraph break")
        if kind != fields.PARAGRAPHS and separator in item:
            raise ValueError(f"{record.source}: item {i} of '{key}' holds the separator "
                             f"{separator!r}; choose another (DOCKET_MULTI_VALUE_SEPARATOR)")
    return ("\n\n" if kind == fields.PARAGRAPHS else separator).join(value)
