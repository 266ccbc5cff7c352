"""Read records from a JSON file holding one record object or a list of them.

Each object is checked against the published schema (``schemas/record.schema.json``, Draft
2020-12), then read by ``fields.record_from_mapping``. The schema allows properties it does not
list, so an unknown key is never a rejection: the record is read and carries a warning (code
``unknown-field``) quoting what was not read. A key given twice in one object keeps its last value,
as JSON parsers do, with a warning quoting the earlier one.

A record's position is its 1-based index in the list (1 for a single object) and its line is where
the object starts, so a rejection points into the file. Invalid JSON rejects the whole file with the
line and column of the fault: past a syntax error nothing can be read reliably.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

import fastjsonschema
from jsonschema import Draft202012Validator

from docket.config import Settings
from docket.ingest import fields
from docket.ingest.base import read_source
from docket.ingest.model import Record, Rejection, SourceRef

_WS = re.compile(r"[ \t\n\r]*")


class _Object(dict):
    """A JSON object that remembers keys given more than once."""

    duplicates: list[tuple[str, Any]]


def _pairs(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object()
    obj.duplicates = []
    for key, value in pairs:
        if key in obj:
            obj.duplicates.append((key, obj[key]))
        obj[key] = value
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs)


def read(path: Path, name: str, settings: Settings) -> Iterator[Record | Rejection]:
    """Yield a record or a rejection for every object in the file; see the module docstring."""
    yield from read_source(path, name, settings, lambda text: read_text(text, name))


def read_text(text: str, name: str) -> Iterator[Record | Rejection]:
    """Read records from JSON text; ``name`` is how messages call the file."""
    try:
        is_list, items = _parse(text)
    except json.JSONDecodeError as exc:
        hint = " (a file holds one JSON value: a record or a list of records)" if exc.msg == "Extra data" else ""
        yield Rejection(SourceRef(name, line=exc.lineno), "",
                        f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}{hint}",
                        "invalid-json")
        return
    except RecursionError:
        yield Rejection(SourceRef(name), "", "not readable: the JSON is nested too deeply", "invalid-json")
        return
    if not is_list and not isinstance(items[0][0], dict):
        value, line = items[0]
        yield Rejection(SourceRef(name, 1, line), "", "expected a record object or a list of record "
                        f"objects, not {fields.json_type(value)}", "not-an-object")
        return
    for position, (value, line) in enumerate(items, 1):
        source = SourceRef(name, position, line)
        if not isinstance(value, dict):
            yield Rejection(source, "", f"list item {position} is {fields.json_type(value)}, "
                            "not a record object", "not-an-object")
            continue
        yield read_object(value, source)


def read_object(obj: dict, source: SourceRef) -> Record | Rejection:
    """Check one object against the schema and read it."""
    try:
        _compiled()(obj)
        errors: list = []
    except fastjsonschema.JsonSchemaException:  # jsonschema says what is wrong, and decides
        errors = sorted(_validator().iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path])
    result = fields.record_from_mapping(obj, source, "json")
    if errors and isinstance(result, Record):
        # The reader states the schema's rules in its own words and rejects what the schema does
        # (a test holds them together); should they ever part, the schema wins.
        return _schema_rejection(obj, errors, source)
    if isinstance(result, Record):
        for key, earlier in getattr(obj, "duplicates", []):
            shown = fields.quote(earlier) if isinstance(earlier, str) else fields.json_type(earlier)
            result.warn(key, f"JSON field {key!r} is given more than once; the last value is read, "
                        f"an earlier one ({shown}) is not", "duplicate-field")
    return result


def _schema_rejection(obj: dict, errors: list, source: SourceRef) -> Rejection:
    error = errors[0]
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    key = str(error.absolute_path[0]) if error.absolute_path else ""
    return Rejection(source, key, f"{path or 'record'}: {fields.quote(error.message, 200)}", "schema")


@lru_cache(maxsize=1)
def _compiled() -> Callable[[Any], Any]:
    """Return the schema compiled to Python by fastjsonschema: a valid record is passed ten times as fast.

    Only a record it refuses is checked again by jsonschema, for every error and its path; a test
    holds the two to the same verdicts.
    """
    schema = fields.published_schema()
    return fastjsonschema.compile({"$defs": schema["$defs"], "$ref": "#/$defs/record"})


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = fields.published_schema()
    return Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/record"})


def _parse(text: str) -> tuple[bool, list[tuple[Any, int]]]:
    """Return whether the top level is a list, and each item with the line where it starts.

    Walks a top-level list item by item (``raw_decode``) to learn each item's line; raises
    ``json.JSONDecodeError`` with the position of the first fault.
    """
    idx = _WS.match(text, 0).end()  # type: ignore[union-attr]
    lines = _LineCounter(text)
    if not text.startswith("[", idx):
        value, end = _DECODER.raw_decode(text, idx)
        _expect_end(text, end)
        return False, [(value, lines.at(idx))]
    items: list[tuple[Any, int]] = []
    idx = _WS.match(text, idx + 1).end()  # type: ignore[union-attr]
    if text.startswith("]", idx):
        _expect_end(text, idx + 1)
        return True, items
    while True:
        value, end = _DECODER.raw_decode(text, idx)
        items.append((value, lines.at(idx)))
        idx = _WS.match(text, end).end()  # type: ignore[union-attr]
        if text.startswith(",", idx):
            idx = _WS.match(text, idx + 1).end()  # type: ignore[union-attr]
        elif text.startswith("]", idx):
            _expect_end(text, idx + 1)
            return True, items
        else:
            raise json.JSONDecodeError("Expecting ',' delimiter", text, idx)


def _expect_end(text: str, idx: int) -> None:
    end = _WS.match(text, idx).end()  # type: ignore[union-attr]
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)


class _LineCounter:
    """Turn increasing offsets into line numbers without rescanning the text."""

    def __init__(self, text: str):
        self.text, self.offset, self.line = text, 0, 1

    def at(self, offset: int) -> int:
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def dumps(records: list[Record]) -> str:
    """Write records as a JSON list in the external format (the inverse of ``read_text``)."""
    return json.dumps([fields.record_to_mapping(r) for r in records], ensure_ascii=False, indent=2) + "\n"
