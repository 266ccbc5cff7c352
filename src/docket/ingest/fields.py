"""Describe the structured record format shared by the JSON and CSV readers: one table, every field.

Each ``Field`` is a ``Record`` field under the same name (the JSON property and CSV column), with
its kind, an example and help text. The JSON Schema (``schemas/record.schema.json``), the field
table in ``docs/record-format.md`` and both readers are driven by this table; tests check that the
published schema and document still match it (regenerate them with
``python -m docket.ingest.fields schema|table``).

Dates keep the text as written ("June 20, 1954") and are read to ISO 8601. When the text alone does
not give the record's ISO date (a signature's "June 20" dated by the record's year), the ISO form
travels in a companion key ``<key>_iso``; for a date list that is a parallel list whose empty entries
mean "read the date from its text". ``record_to_mapping`` writes a companion only when it is needed,
so a mapping it wrote reads back and writes out again unchanged.

Values given are recorded as found (``JSON field 'title'`` / ``CSV column 'title'``). The format
carries no provenance, stable ID or problems: those belong to a reading, not to the record.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from docket.ingest.dates import parse_date
from docket.ingest.model import RECORD_FIELDS, DateValue, Name, Record, Rejection, SourceRef

TEXT = "text"
TEXTS = "text list"
NAMES = "name list"
DATE = "date"
DATES = "date list"
PARAGRAPHS = "paragraphs"
ISO = "ISO date"  # companion of a date
ISOS = "ISO date list"  # companion of a date list

LIST_KINDS = frozenset({TEXTS, NAMES, DATES, PARAGRAPHS, ISOS})

EXPECTS = {
    TEXT: "a string",
    TEXTS: "a list of strings",
    NAMES: "a list of strings",
    DATE: "a string",
    DATES: "a list of strings",
    PARAGRAPHS: "a list of strings",
    ISO: "a string",
    ISOS: "a list of strings",
}

ISO_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
_ISO = re.compile(ISO_PATTERN)
ISO_HELP = "an ISO 8601 date (YYYY, YYYY-MM or YYYY-MM-DD)"


@dataclass(frozen=True)
class Field:
    """Describe one key of the external format."""

    key: str  # the external key; for a Record field also its attribute name
    kind: str
    help: str
    example: Any
    required: bool = False
    of: str = ""  # for an ISO companion: the date key it belongs to

    @property
    def iso_key(self) -> str | None:
        """Return the companion key holding the ISO form, for dates."""
        return f"{self.key}_iso" if self.kind in (DATE, DATES) else None


FIELDS: tuple[Field, ...] = (
    Field("record_id", TEXT, "The record's identifier in the source archive or database. "
          "A whole number is accepted in JSON and read as its decimal string.", "R-1954-0001"),
    Field("source_url", TEXT, "Address of the record's page at the source archive.",
          "https://archive.example.org/document/r-1954-0001"),
    Field("date", DATE, "The record's date as written; read to ISO 8601 at the precision given.",
          "June 20, 1954", required=True),
    Field("other_dates", DATES, "Further dates the source states for the record (a second "
          "date that disagrees, a date of receipt), as written.", ["June 21, 1954"]),
    Field("title", TEXT, "The record's title, as the source gives it.",
          "Telegram, CCP Central Committee to Zhou Enlai", required=True),
    Field("subtitle", TEXT, "A quoted subtitle the title carries.", "Arriving in Nanning on the 29th"),
    Field("doc_type", TEXT, "Kind of document: Telegram, Cable, Memorandum, Minutes, Letter, "
          "Record of Conversation, ...", "Telegram"),
    Field("senders", NAMES, "Who sent it, as written; an identification in brackets is kept "
          "(\"Filippov [Stalin]\").", ["CCP Central Committee"]),
    Field("addressees", NAMES, "To whom it is addressed, as written.", ["Zhou Enlai"]),
    Field("intermediaries", NAMES, "Who was to convey it (\"for conveying to\").",
          ["(CCP) Guangxi Provincial Committee"]),
    Field("participants", NAMES, "Who took part, for conversations and meetings.",
          ["Mao Zedong", "Ho Chi Minh"]),
    Field("authors", NAMES, "Authors as the source's author label names them.", ["Filippov [Stalin]"]),
    Field("salutation", TEXT, "The opening address line, as written.",
          "(CCP) Guangxi Provincial Committee for conveying to Comrade Zhou Enali:"),
    Field("body", PARAGRAPHS, "The text, one string per paragraph, editorial brackets kept exactly. "
          "In CSV one cell, paragraphs separated by a blank line.",
          ["Under the circumstances that the Geneva Conference has made progress ...",
           "Please discuss with Comrades Ho (Chi Minh), Vo (Nguyen Giap) and Wei (Guoqing) ..."]),
    Field("signature", TEXT, "The signature line, as written.", "CCP Central Committee"),
    Field("signature_date", DATE, "The date under the signature, as written.", "June 20"),
    Field("signature_place", TEXT, "The place under the signature.", "Beijing"),
    Field("summary", TEXT, "The archive's summary or abstract of the record.",
          "Telegram from the CCP Central Committee to Zhou Enlai on the Geneva Conference ..."),
    Field("citations", TEXTS, "Where the original or the published source is found.",
          ["ZX vol. 4, p. 509"]),
    Field("original_archive", TEXT, "The archive holding the original.",
          "Archive of the Ministry of Foreign Affairs"),
    Field("translators", NAMES, "Who translated the text.", ["Chen Jian"]),
    Field("translation_statement", TEXT, "The translation credit as written.",
          "Translated for CWIHP by Chen Jian."),
    Field("translated_for", TEXT, "For whom the translation was made.", "CWIHP"),
    Field("original_language", TEXT, "Language of the original.", "Chinese"),
    Field("funder_credit", TEXT, "The funder's credit line as written.",
          "This document was made possible with support from the Example Foundation."),
    Field("rights", TEXT, "The rights statement as written.",
          "The History and Public Policy Program welcomes reuse of Digital Archive materials "
          "for research and educational purposes."),
    Field("uploaded_date", DATE, "When the archive first published the record online.",
          "November 3, 2011"),
    Field("languages", TEXTS, "Languages of the text as given here (a translation's language).",
          ["English"]),
    Field("associated_agents", TEXTS, "People and organizations the archive associates with the record.",
          ["Ho Chi Minh", "Vo Nguyen Giap", "Wei Guoqing"]),
    Field("associated_places", TEXTS, "Places the archive associates with the record.",
          ["Vietnam", "Geneva (Switzerland)"]),
    Field("associated_topics", TEXTS, "Topics the archive associates with the record.",
          ["Geneva Conference of 1954"]),
    Field("subjects", TEXTS, "Subject headings.", ["First Indochina War, 1946-1954"]),
    Field("collections", TEXTS, "Collections the record belongs to.", ["China and the Geneva Conference"]),
)
# Only the fields the model has: the table may run ahead of the model by a field.
FIELDS = tuple(f for f in FIELDS if f.key in RECORD_FIELDS)
FIELD_BY_KEY = {f.key: f for f in FIELDS}


def _companion(f: Field) -> Field:
    if f.kind == DATE:
        return Field(f.iso_key or "", ISO, f"The ISO form of '{f.key}', given only when its text does "
                     "not read as that date by itself (a date without a year, a corrected date).",
                     parse_date(f.example) or "1954-06-20", of=f.key)
    return Field(f.iso_key or "", ISOS, f"ISO forms of '{f.key}', one per date, in the same order; an "
                 "empty entry means that date is read from its text.", ["1954-06-21"], of=f.key)


def _columns() -> tuple[Field, ...]:
    out: list[Field] = []
    for f in FIELDS:
        out.append(f)
        if f.iso_key:
            out.append(_companion(f))
    return tuple(out)


COLUMNS: tuple[Field, ...] = _columns()  # every external key, companions after their dates
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS)


def json_type(value: Any) -> str:
    """Name a Python value's JSON type for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def quote(value: str, limit: int = 80) -> str:
    """Quote a value for a message, shortened to ``limit`` characters."""
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return "'" + text + "'"


def _integral(value: Any) -> bool:
    # JSON Schema counts 12.0 as an integer; so must the reader, or the two would disagree.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _valid_iso(text: str) -> bool:
    return bool(_ISO.fullmatch(text)) and parse_date(text) == text


def value_error(key: str, value: Any) -> tuple[str, str] | None:
    """Return (message, code) when ``value`` is not acceptable for ``key``, else None.

    Checks type, an empty title or date, and the form of ISO companions; the published schema
    states the same rules, and tests hold the two together.
    """
    col = COLUMN_BY_KEY[key]
    if col.required and (value is None or (isinstance(value, str) and not value.strip())):
        if key == "title":
            return "the record has no title", "empty-title"
        return (f"the record has no {key}; give it as written (1954-06-20, June 20, 1954, 1954-06 "
                "or 1954)", "no-date")
    if value is None:
        return None
    expects = EXPECTS[col.kind]
    if col.kind not in LIST_KINDS:
        if key == "record_id" and _integral(value):
            return None
        if not isinstance(value, str):
            return f"'{key}' must be {expects}, not {json_type(value)}", "wrong-type"
        if col.kind == ISO and not _valid_iso(value):
            return f"'{key}' must be {ISO_HELP}, not {quote(value)}", "bad-date"
        return None
    if not isinstance(value, list):
        return f"'{key}' must be {expects}, not {json_type(value)}", "wrong-type"
    for i, item in enumerate(value, 1):
        if not isinstance(item, str):
            return f"item {i} of '{key}' must be a string, not {json_type(item)}", "wrong-type"
        if col.kind == ISOS and item and not _valid_iso(item):
            return f"item {i} of '{key}' must be {ISO_HELP} or empty, not {quote(item)}", "bad-date"
    return None


def _label(fmt: str) -> str:
    return "CSV column" if fmt == "csv" else "JSON field"


def record_from_mapping(data: Any, source: SourceRef, fmt: str = "json") -> Record | Rejection:
    """Read one record from a mapping of external keys to values, or say why it cannot be read.

    ``fmt`` ("json" or "csv") names where values were found and becomes the record's layout. The
    CSV reader hands in cells already split into lists. Every problem that stops the record is
    listed in one rejection, so they can all be fixed at once.
    """
    if not isinstance(data, dict):
        return Rejection(source, "", f"expected a record object, not {json_type(data)}", "not-an-object")
    label = _label(fmt)
    errors: list[tuple[str, str, str]] = []  # (key, message, code)
    for col in COLUMNS:
        if col.key in data or col.required:
            err = value_error(col.key, data.get(col.key))
            if err:
                errors.append((col.key, *err))
    record = Record(source=source, layout=fmt)
    wrong = {key for key, _, _ in errors}
    for f in FIELDS:
        if f.key in wrong or f.iso_key in wrong:
            continue
        where = f"{label} {f.key!r}"
        if f.kind == DATE:
            errors.extend(_read_date(record, f, data, where))
        elif f.kind == DATES:
            errors.extend(_read_dates(record, f, data, where))
        elif data.get(f.key) is not None:
            value = _value(f, data[f.key])
            if value:
                record.found(f.key, value, where)
    if errors:
        errors.sort(key=lambda e: KEYS.index(e[0]) if e[0] in KEYS else len(KEYS))
        key, _, code = errors[0]
        return Rejection(source, key, "; ".join(m for _, m, _ in errors), code)
    for key in data:
        if key not in COLUMN_BY_KEY:
            record.warn(str(key), _unknown_message(key, data[key], label), "unknown-field")
    return record


def _value(f: Field, value: Any) -> Any:
    if f.kind == TEXT:
        return str(int(value)) if f.key == "record_id" and not isinstance(value, str) else value.strip()
    items = [item.strip() for item in value]
    if f.kind == NAMES:
        return [Name.parse(item) for item in items if item]
    return [item for item in items if item]


def _read_date(record: Record, f: Field, data: dict, where: str) -> list[tuple[str, str, str]]:
    text = (data.get(f.key) or "").strip()
    iso = data.get(f.iso_key) or None
    if not text:
        if iso:
            return [(f.iso_key or "", f"'{f.iso_key}' is given without '{f.key}'; put the date as "
                     f"written in '{f.key}' (an ISO date is accepted there too)", "bad-date")]
        return []
    value, problem = _date(text, iso, f.key, where)
    if problem and f.key == "date":
        return [(f.key, problem, "bad-date")]
    if problem:
        record.warn(f.key, problem + "; kept as written, without an ISO date", "unreadable-date")
    _warn_conflict(record, f.key, text, iso)
    record.found(f.key, value, where)
    return []


def _read_dates(record: Record, f: Field, data: dict, where: str) -> list[tuple[str, str, str]]:
    texts = [t.strip() for t in data.get(f.key) or []]
    isos = data.get(f.iso_key)
    if isos is not None and len(isos) != len(texts):
        return [(f.iso_key or "", f"'{f.iso_key}' has {_count(len(isos), 'entry', 'entries')} but '{f.key}' "
                 f"has {_count(len(texts), 'date', 'dates')}; give one per date, empty for a date read from its text", "bad-date")]
    values: list[DateValue] = []
    for i, (text, iso) in enumerate(zip(texts, isos or [""] * len(texts)), 1):
        if not text:
            if iso:
                return [(f.iso_key or "", f"item {i} of '{f.iso_key}' has no date in '{f.key}'",
                         "bad-date")]
            continue
        value, problem = _date(text, iso or None, f.key, where)
        if problem:
            record.warn(f.key, f"item {i}: {problem}; kept as written, without an ISO date",
                        "unreadable-date")
        _warn_conflict(record, f.key, text, iso or None)
        values.append(value)
    if values:
        record.found(f.key, values, where)
    return []


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _date(text: str, iso: str | None, key: str, where: str) -> tuple[DateValue, str | None]:
    if iso:
        return DateValue(text, iso, where), None
    parsed = parse_date(text)
    problem = None
    if parsed is None:
        problem = (f"cannot read {key} {quote(text)}: write it as 1954-06-20, June 20, 1954, 1954-06 "
                   f"or 1954, or give its ISO form in '{key}_iso'")
    return DateValue(text, parsed, where), problem


def _warn_conflict(record: Record, key: str, text: str, iso: str | None) -> None:
    parsed = parse_date(text)
    if iso and parsed and parsed != iso:
        record.warn(key, f"{key} {quote(text)} reads as {parsed}, but '{key}_iso' gives {iso}; "
                    f"{iso} is used", "date-iso-differs")


def _unknown_message(key: Any, value: Any, label: str) -> str:
    shown = quote(value) if isinstance(value, str) else json_type(value)
    message = f"unknown {label} {str(key)!r} is not part of the record format and was not read (value: {shown})"
    close = difflib.get_close_matches(str(key).lower(), KEYS, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    return message


def record_to_mapping(record: Record) -> dict[str, Any]:
    """Return the record in the external format: absent fields omitted, companions only where needed."""
    out: dict[str, Any] = {}
    for f in FIELDS:
        value = getattr(record, f.key)
        if f.kind == DATE:
            if value is not None and (value.text or value.iso):
                text = value.text or value.iso
                out[f.key] = text
                if value.iso and parse_date(text) != value.iso:
                    out[f.iso_key] = value.iso  # type: ignore[index]
        elif f.kind == DATES:
            dates = [d for d in value if d.text or d.iso]
            if dates:
                texts = [d.text or d.iso for d in dates]
                isos = [d.iso if d.iso and parse_date(t) != d.iso else "" for d, t in zip(dates, texts)]
                out[f.key] = texts
                if any(isos):
                    out[f.iso_key] = isos  # type: ignore[index]
        elif f.kind == NAMES:
            if value:
                out[f.key] = [n.written for n in value]
        elif f.kind in LIST_KINDS:
            if value:
                out[f.key] = list(value)
        elif value:
            out[f.key] = value
    return out


# -- the published schema and document table, generated from the table above ------------------

SCHEMA_RESOURCE = "schemas/record.schema.json"


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema (2020-12) for a record file, as generated from ``COLUMNS``."""
    props: dict[str, Any] = {}
    for c in COLUMNS:
        if c.kind in LIST_KINDS:
            item: dict[str, Any] = {"type": "string"}
            if c.kind == ISOS:
                item["pattern"] = "^$|" + ISO_PATTERN
            prop: dict[str, Any] = {"type": ["array", "null"], "items": item}
        elif c.required:
            prop = {"type": "string", "pattern": "\\S"}
        elif c.key == "record_id":
            prop = {"type": ["string", "integer", "null"]}
        else:
            prop = {"type": ["string", "null"]}
            if c.kind == ISO:
                prop["pattern"] = ISO_PATTERN
        props[c.key] = {"description": f"{c.kind}: {c.help}", **prop, "examples": [c.example]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Docket record file",
        "description": "One archival record, or a list of records. Generated from "
        "docket/ingest/fields.py; see docs/record-format.md.",
        "oneOf": [{"$ref": "#/$defs/record"}, {"type": "array", "items": {"$ref": "#/$defs/record"}}],
        "$defs": {
            "record": {
                "type": "object",
                "description": "One record. Properties not listed here are allowed by the schema; "
                "Docket reads the record and warns that they were not read (code unknown-field). "
                "null stands for an absent value.",
                "required": [c.key for c in COLUMNS if c.required],
                "properties": props,
                "additionalProperties": True,
            }
        },
    }


@lru_cache(maxsize=1)
def published_schema() -> dict[str, Any]:
    """Load the schema file shipped with the package."""
    text = resources.files("docket").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    return json.loads(text)


def schema_text() -> str:
    """Return the schema file's text as generated."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def markdown_table() -> str:
    """Return the field table of ``docs/record-format.md``."""
    rows = ["| Key | Kind | Required | Example (JSON) | Meaning |", "|---|---|---|---|---|"]
    for c in COLUMNS:
        example = json.dumps(c.example, ensure_ascii=False)
        if len(example) > 70:
            example = example[:68] + "…"
        cells = [f"`{c.key}`", c.kind, "yes" if c.required else "", f"`{example}`", c.help]
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # pragma: no cover - a maintenance helper
    what = sys.argv[1] if len(sys.argv) > 1 else "table"
    sys.stdout.write(schema_text() if what == "schema" else markdown_table())
