"""Read the parts both page layouts share: lines, the date, body and signature, Document Information.

Used by ``docket.ingest.pages``; see there for the layouts themselves.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

from docket.ingest.citations import find_statement
from docket.ingest.dates import date_value, parse_date
from docket.ingest.model import INFO, DateValue, Name, Record, Rejection, SourceRef
from docket.ingest.titles import canonical_type, continues_name, split_names

# Stripped from line ends. The ideographic space is not: it indents Chinese paragraphs as written.
_EDGE = " \t\u00a0\u202f\u2007\u200b\ufeff\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029"


@dataclass(frozen=True)
class Line:
    """Hold one non-blank line of a page."""

    no: int  # 1-based line number in the file
    text: str  # as written, without the spaces around it
    key: str  # spaces normalised and case folded: only for recognising structure


def split_lines(text: str) -> list[Line]:
    """Return the page's non-blank lines; a line of non-breaking spaces is blank."""
    out = []
    for no, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        body = raw.strip(_EDGE)
        key = " ".join(body.split()).casefold()
        if key:
            out.append(Line(no, body, key))
    return out


def quote(text: str, limit: int = 80) -> str:
    """Quote text for a message, shortened to ``limit`` characters."""
    return "'" + (text if len(text) <= limit else text[: limit - 1] + "…") + "'"


# -- dates --------------------------------------------------------------------------------------

_DATE_WORDS = (
    {calendar.month_name[i].lower() for i in range(1, 13)}
    | {calendar.month_abbr[i].lower() for i in range(1, 13)}
    | {"sept", "c", "ca", "circa", "about", "early", "late", "mid", "spring", "summer", "autumn", "fall",
       "winter", "undated", "n", "d", "no", "date", "unknown", "st", "nd", "rd", "th", "of", "and", "or"}
)
_LETTERS = re.compile(r"[^\W\d_]+")


def looks_like_date(key: str) -> bool:
    """Say whether a line is meant as a date, readable or not ("June 31, 1954", "Undated")."""
    if len(key) > 40:
        return False
    if parse_date(key):
        return True
    words = _LETTERS.findall(key.casefold())
    if any(w not in _DATE_WORDS for w in words):
        return False
    return any(ch.isdigit() for ch in key) or "undated" in words or "date" in words


def settle_date(
    rec: Record, name: str, date_line: Line | None, candidates: list[tuple[str, str]]
) -> Rejection | None:
    """Set the record's date from the date line, else from the title or citation; note disagreements.

    ``candidates`` are (date as written, where) pairs from the title and the citation.
    """
    others = [d for d in (date_value(text, where) for text, where in candidates) if d.iso]
    if date_line is not None:
        stated = date_value(date_line.text, "date line")
        if stated.iso:
            rec.found("date", stated, "date line")
        elif others:
            first = others.pop(0)
            rec.derived("date", first, first.where)
            rec.warn("date", f"the date line {quote(date_line.text)} cannot be read as a date; the date "
                     f"{quote(first.text)} was taken from the {first.where}", "bad-date")
        else:
            return Rejection(
                SourceRef(name, 1, line=date_line.no),
                "date",
                f"cannot read the date line {quote(date_line.text)} as a date (expected e.g. 'June 20, 1954', "
                "'20 June 1954', 'June 1954' or '1954'), and neither the title nor a citation gives one",
                "bad-date",
            )
    elif others:
        first = others.pop(0)
        rec.derived("date", first, first.where)
        kind = "title" if first.where == "title" else "citation"
        rec.warn("date", f"the page has no date line; the date {quote(first.text)} was taken from the "
                 f"{first.where}", f"date-from-{kind}")
    else:
        return Rejection(rec.source, "date", "the page has no date line, and neither the title nor a "
                         "citation gives a date", "no-date")
    main = rec.date
    assert main is not None and main.iso
    extra: list[DateValue] = []
    for d in others:
        if _disagree(d.iso or "", main.iso) and (d.iso, d.where) not in {(e.iso, e.where) for e in extra}:
            extra.append(d)
            rec.warn("date", f"the {main.where} gives {quote(main.text)} ({main.iso}) but the {d.where} gives "
                     f"{quote(d.text)} ({d.iso}); both are kept", "date-disagreement")
    if extra:
        rec.found("other_dates", extra, ", ".join(dict.fromkeys(d.where for d in extra)))
    return None


def _disagree(a: str, b: str) -> bool:
    # "1954-06" and "1954-06-20" agree: one only says less than the other.
    return not (a.startswith(b) or b.startswith(a))


_CN_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0}
_CN_DATE = re.compile(
    r"^(?:(?P<y>[〇零一二三四五六七八九0-9]{4})年)?(?P<m>[一二三四五六七八九十0-9]{1,3})月"
    r"(?P<d>[一二三四五六七八九十0-9]{1,3})[日号]$"
)


def chinese_date(text: str, year: int | None) -> str | None:
    """Read a date written in Chinese ("六月二十日", "1954年6月20日"); the year completes it."""
    m = _CN_DATE.match("".join(text.split()))
    if not m:
        return None
    y = int("".join(str(_cn_digit(c)) for c in m.group("y"))) if m.group("y") else year
    month, day = _cn_number(m.group("m")), _cn_number(m.group("d"))
    if y is None or month is None or day is None:
        return None
    try:
        return date(y, month, day).isoformat()
    except ValueError:
        return None


def _cn_digit(ch: str) -> int:
    return int(ch) if ch.isdigit() and ch.isascii() else _CN_DIGITS[ch]


def _cn_number(text: str) -> int | None:
    if text.isascii():
        return int(text) if text.isdigit() else None
    if "十" in text:
        tens, _, units = text.partition("十")
        if "十" in units or len(tens) > 1 or len(units) > 1:
            return None
        return (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(units, 0) if units else 0)
    return _CN_DIGITS.get(text) if len(text) == 1 else None


# -- body, salutation and signature -------------------------------------------------------------

_DEAR = re.compile(r"^(?:dear|to|comrades?)\b.*,$", re.I)
_CONVEY = re.compile(
    r"^(?:to\s+)?(?P<via>.+?),?\s+(?:for\s+(?:conveying|conveyance|transmission|transmitting|forwarding|delivery)"
    r"\s+to|to\s+be\s+(?:conveyed|forwarded|transmitted|delivered|passed\s+on)\s+to"
    r"|(?:and\s+)?(?:please\s+)?(?:convey|forward|transmit|pass\s+on)\s+(?:this\s+)?to)\s+(?P<to>.+?)\s*[:：,]?$",
    re.I,
)
_SENTENCE_END = tuple(".?!;:。？！；：")
# Numbered points are body, not signature. Letters are not checked: "V. Molotov" is a signature.
_LIST_ITEM = re.compile(r"^\(?\d+[.)]\s")
_PLACE_DATE = re.compile(r"^(?P<place>[^,\d]+),\s*(?P<date>.+)$")


def read_body(rec: Record, lines: list[Line], year: int | None) -> None:
    """Split the document's lines into salutation, body paragraphs and signature block."""
    lines = list(lines)
    if len(lines) >= 2 and _is_salutation(lines[0].text):
        opening = lines.pop(0)
        rec.found("salutation", opening.text, "opening line")
        m = _CONVEY.match(opening.text)
        if m:
            via, _ = split_names(m.group("via"))
            if via:
                rec.derived("intermediaries", list(via), "salutation")
    n = 0
    while n < 4 and len(lines) - n > 1 and _signature_like(lines[-1 - n].text):
        n += 1
    body, signature = lines[: len(lines) - n], lines[len(lines) - n :]
    if signature:
        _read_signature(rec, signature, year)
    if body:
        rec.found("body", [line.text for line in body], "body")
    else:
        rec.warn("body", "the page gives no text of the document", "empty-body", INFO)


def _is_salutation(text: str) -> bool:
    return len(text) <= 200 and (text.endswith((":", "：")) or bool(_DEAR.match(text)))


def _signature_like(text: str) -> bool:
    return (
        len(text) <= 80
        and len(text.split()) <= 10
        and not text.endswith(_SENTENCE_END)
        and not _LIST_ITEM.match(text)
    )


def _read_signature(rec: Record, lines: list[Line], year: int | None) -> None:
    signers: list[str] = []
    signed: DateValue | None = None
    place = None
    for line in lines:
        text = line.text
        if signed is None:
            iso = parse_date(text, year) or chinese_date(text, year)
            if iso:
                signed = DateValue(text, iso, "signature")
                continue
            m = _PLACE_DATE.match(text)
            iso = parse_date(m.group("date"), year) if m else None
            if m and iso:
                signed = DateValue(m.group("date").strip(), iso, "signature")
                place = m.group("place").strip()
                continue
        signers.append(text)
    if place and not signers:
        # "Zhou Enlai, June 20" alone: the part before the date is who signed, not where.
        signers, place = [place], None
    if signers:
        rec.found("signature", "\n".join(signers), "signature")
    if signed:
        rec.found("signature_date", signed, "signature")
    if place:
        rec.found("signature_place", place, "signature")


# -- Document Information -----------------------------------------------------------------------

# Label as the page writes it (case folded, no colon) -> (record field, label as shown in provenance)
_LABELS: dict[str, tuple[str, str]] = {
    "source": ("citations", "Source"),
    "sources": ("citations", "Source"),
    "original archive": ("original_archive", "Original Archive"),
    "rights": ("rights", "Rights"),
    "author(s)": ("authors", "Author(s)"),
    "author": ("authors", "Author(s)"),
    "authors": ("authors", "Author(s)"),
    "associated people & organizations": ("associated_agents", "Associated People & Organizations"),
    "associated people and organizations": ("associated_agents", "Associated People & Organizations"),
    "associated places": ("associated_places", "Associated Places"),
    "associated topics": ("associated_topics", "Associated Topics"),
    "subjects discussed": ("subjects", "Subjects Discussed"),
    "type": ("doc_type", "Type"),
    "language": ("languages", "Language"),
    "languages": ("languages", "Languages"),
    "original uploaded date": ("uploaded_date", "Original Uploaded Date"),
    "record id": ("record_id", "Record ID"),
    "collection": ("collections", "Collections"),
    "collections": ("collections", "Collections"),
    "collection(s)": ("collections", "Collections"),
    "associated collections": ("collections", "Collections"),
}
_LIST_FIELDS = {"associated_agents", "associated_places", "associated_topics", "subjects", "languages", "collections"}
_SINGLE_FIELDS = {"doc_type", "uploaded_date", "record_id"}
_NAME_FIELDS = {"associated_agents", "authors"}
_RIGHTS = re.compile(r"\b(?:re-?use|copyright|rights|permission|public domain|licen[cs]e|creative commons)\b", re.I)
_INFO = "Document Information"


@dataclass
class Info:
    """Hold what the caller still needs from a Document Information block."""

    citation_lines: list[tuple[Line, str]] = field(default_factory=list)  # (line, where)


def read_info(rec: Record, lines: list[Line]) -> Info:
    """Read a Document Information block into the record; return its citation lines.

    Unlabelled lines first: the citation, then (from the first line about reuse or rights) the
    rights statement. Then labels, each alone on its line ("Record ID") or with its value after a
    colon, values one per line; a label with no value leaves its field absent. A "Related
    Documents" list inside the block is skipped up to the next label.
    """
    lead: list[Line] = []
    labelled: list[tuple[str, list[Line]]] = []
    target: list[Line] | None = lead
    for line in lines:
        label = _label(line)
        if label:
            values = [label[1]] if label[1] else []
            labelled.append((label[0], values))
            target = values
        elif line.key == "related documents":
            target = None
        elif target is not None:
            target.append(line)
    rights_at = next(
        (k for k, line in enumerate(lead) if _RIGHTS.search(line.text) and (k or find_statement(line.text)[1] is None)),
        len(lead),
    )
    info = Info([(line, _INFO) for line in lead[:rights_at]])
    merged: dict[str, tuple[str, list[Line]]] = {}
    for key, values in labelled:
        fname, shown = _LABELS[key]
        where, seen = merged.setdefault(fname, (f"{_INFO}: {shown}", []))
        seen.extend(values)
    for fname, (where, values) in merged.items():
        if fname == "citations":
            info.citation_lines += [(v, where) for v in values]
        else:
            _apply_label(rec, fname, where, values)
    lead_rights = "\n\n".join(line.text for line in lead[rights_at:])
    if lead_rights and rec.rights and lead_rights != rec.rights:
        rec.warn("rights", f"a second rights statement, before the labels, was not read: {quote(lead_rights)}",
                 "unread-text")
    elif lead_rights and not rec.rights:
        rec.found("rights", lead_rights, _INFO)
    return info


def _label(line: Line) -> tuple[str, Line | None] | None:
    key = line.key.rstrip(":").rstrip()
    if key in _LABELS:
        return key, None
    head, sep, _ = line.key.partition(":")
    if sep and head.strip() in _LABELS:
        value = line.text.partition(":")[2].strip(_EDGE)
        key = " ".join(value.split()).casefold()
        return head.strip(), (Line(line.no, value, key) if key else None)
    return None


def _apply_label(rec: Record, fname: str, where: str, values: list[Line]) -> None:
    texts = [v.text for v in values]
    if fname in _SINGLE_FIELDS:
        for extra in values[1:]:
            rec.warn(fname, f"line {extra.no}: a second value for {where} was not read: {quote(extra.text)}",
                     "unread-text")
        first = texts[0] if texts else ""
        if fname == "doc_type":
            rec.found(fname, (canonical_type(first) or first) or None, where)
        elif fname == "record_id":
            rec.found(fname, first, where)
        elif first:
            uploaded = date_value(first, where)
            if not uploaded.iso:
                rec.warn(fname, f"cannot read the original uploaded date {quote(first)}; kept as written",
                         "bad-date")
            rec.found(fname, uploaded, where)
        else:
            rec.found(fname, None, where)
    elif fname == "authors":
        rec.found(fname, [Name.parse(t) for t in list_values(texts, fname)], where)
    elif fname in _LIST_FIELDS:
        rec.found(fname, list_values(texts, fname), where)
    elif fname == "rights":
        rec.found(fname, "\n\n".join(texts) or None, where)
    else:  # original_archive
        rec.found(fname, "; ".join(texts) or None, where)


def list_values(texts: list[str], fname: str) -> list[str]:
    """Return a label's values: one per line; on a single line split at ";" or, with care, at ",".

    A comma is not split where it would cut a name ("Ho Chi Minh, President", "Zhou, Enlai,
    1898-1976", "First Indochina War, 1946-1954").
    """
    if len(texts) != 1:
        return texts
    text = texts[0]
    if ";" in text:
        parts = text.split(";")
    elif "," in text:
        parts = [p.strip() for p in text.split(",")]
        glued = any(continues_name(p) for p in parts[1:] if p)
        if fname in _NAME_FIELDS:
            glued = glued or any(len(p.split()) < 2 for p in parts)
        if glued:
            parts = [text]
    else:
        parts = [text]
    return [p.strip() for p in parts if p.strip()]
