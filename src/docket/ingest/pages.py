"""Read the archive's page exports (plain text): one page, one record.

Two layouts are read, named in ``record.layout``:

- "page/current": [Skip to content] / date line / title / [support credit] / [Translated from the
  X] / [salutation] / body / signature block / summary / [Related Documents ...] / Document
  Information (the citation, the rights statement, then labelled values such as "Record ID").
- "page/older": site header ("Search in", "Digital Archive International History Declassified") /
  date / [credit] / [title, perhaps in capitals] / Citation, get citation / summary / quoted
  citation / share document / VIEW DOCUMENT IN / English HTML / body.

Every non-blank line is one paragraph, so an export that separates lines by one newline reads the
same as one with blank lines between them: structure, not spacing, tells the parts apart. The
summary is the paragraph just before "Related Documents" or "Document Information", the signature
block the short lines that end the body, the salutation a first body line ending in a colon.
Spaces (non-breaking ones too) are normalised only to recognise structure; the text is kept as
written, curly quotes, accents, Chinese text and "[email protected]" included.

A page that fits neither layout is rejected ("unknown-layout"), as is one whose only date cannot be
read ("bad-date"), or that has no date ("no-date") or no title ("empty-title") anywhere. A title
or date found only in the citation is taken from there, marked derived, with a warning.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Iterator

from docket.config import Settings
from docket.ingest.base import read_source
from docket.ingest.citations import Citation, parse_citation, parse_statement
from docket.ingest.dates import find_dates, parse_date
from docket.ingest.model import INFO, Record, Rejection, SourceRef
from docket.ingest.page_parts import Line, looks_like_date, quote, read_body, read_info, settle_date, split_lines
from docket.ingest.titles import parse_title

CURRENT = "page/current"
OLDER = "page/older"

_SKIP = "skip to content"
_DOC_INFO = "document information"
_RELATED = "related documents"
_OLDER_MARKERS = {
    "search in",
    "digital archive international history declassified",
    "get citation",
    "share document",
    "view document in",
}
_SITE_HEADER = {
    _SKIP,
    "search in",
    "search",
    "digital archive",
    "international history declassified",
    "digital archive international history declassified",
}
_CITATION_HEADS = {"citation", "get citation"}
_VIEW = {"share document", "view document in"}
_VIEW_OPTION = re.compile(r"^(?:[^\W\d_]+ )?(?:html|pdf|transcript|transcription|translation)$|^original scan$")
_URL_LINE = re.compile(r"^https?://\S+$")
_CREDIT = re.compile(r"^this document was made possible\b")
_NOTE = re.compile(r"^translated from (?:the )?(?P<lang>[^\W\d_][\w'-]*)\.?$", re.I)
_EXPECTED = (
    "expected the current layout (a date line such as 'June 20, 1954', a title, the text and a "
    "'Document Information' block) or the older one (a 'Citation' block, 'VIEW DOCUMENT IN' and the text)"
)


def read(path: Path, name: str, settings: Settings) -> Iterator[Record | Rejection]:
    """Read one page export; yield its record, or the reason it cannot be read."""
    yield from read_source(path, name, settings, lambda text: [parse_page(text, name)])


def parse_page(text: str, name: str) -> Record | Rejection:
    """Read a page export's text into a record, or reject it saying what was expected."""
    lines = split_lines(text)
    if not lines:
        return Rejection(SourceRef(name), "", f"the page is empty; {_EXPECTED}", "unknown-layout")
    keys = {line.key for line in lines}
    if keys & _OLDER_MARKERS or ("citation" in keys and _DOC_INFO not in keys):
        return _parse_older(lines, name)
    start = 1 if lines[0].key == _SKIP else 0
    if _DOC_INFO in keys or start or looks_like_date(lines[0].key):
        return _parse_current(lines, start, name)
    return Rejection(
        SourceRef(name, 1, line=lines[0].no),
        "",
        f"the page fits no known layout: {_EXPECTED}; it begins {quote(lines[0].text)}",
        "unknown-layout",
    )


def _parse_current(lines: list[Line], start: int, name: str) -> Record | Rejection:
    rec = Record(SourceRef(name, 1, line=lines[0].no), layout=CURRENT)
    info_at = next((k for k in range(start, len(lines)) if lines[k].key == _DOC_INFO), None)
    if info_at is None:
        return Rejection(
            SourceRef(name, 1, line=lines[-1].no),
            "",
            "the page looks like the current layout but has no 'Document Information' block (with the "
            f"citation) after its text; the export may be cut short; {_EXPECTED}",
            "unknown-layout",
        )
    zone_end = next((k for k in range(start, info_at) if lines[k].key == _RELATED), info_at)
    date_line, title_line, k = _read_head(rec, lines, start, zone_end)
    zone = lines[k:zone_end]
    info = read_info(rec, lines[info_at + 1 :])
    citations = [(parse_citation(line.text), where) for line, where in info.citation_lines]
    if date_line is None and not citations and not _dated(title_line):
        return Rejection(
            SourceRef(name, 1, line=lines[start].no if start < len(lines) else lines[0].no),
            "",
            f"the page has no date line, and neither a citation nor its title to date it by; {_EXPECTED}",
            "unknown-layout",
        )
    if zone:
        rec.found("summary", zone[-1].text, "summary")
    # Where a missing title was expected: the first line after the page's head.
    fallback = title_line or (lines[k] if k < len(lines) else date_line) or lines[0]
    return _finish(rec, name, date_line, title_line, fallback, citations, zone[:-1])


def _parse_older(lines: list[Line], name: str) -> Record | Rejection:
    rec = Record(SourceRef(name, 1, line=lines[0].no), layout=OLDER)
    i = 0
    while i < len(lines) and lines[i].key in _SITE_HEADER:
        i += 1
    cit_at = next((k for k in range(i, len(lines)) if lines[k].key in _CITATION_HEADS), None)
    if cit_at is None:
        return Rejection(
            SourceRef(name, 1, line=lines[min(i, len(lines) - 1)].no),
            "",
            f"the page looks like the older layout but has no 'Citation' block; {_EXPECTED}",
            "unknown-layout",
        )
    date_line, title_line, k = _read_head(rec, lines, i, cit_at)
    for line in lines[k:cit_at]:
        _unread(rec, line, "the page's header")
    j = cit_at
    while j < len(lines) and lines[j].key in _CITATION_HEADS:
        j += 1
    view_at = next((v for v in range(j, len(lines)) if lines[v].key in _VIEW), len(lines))
    block = lines[j:view_at]
    cit_idx = next((b for b, line in enumerate(block) if _is_citation(line)), None)
    citations: list[tuple[Citation, str]] = []
    summary = block if cit_idx is None else block[:cit_idx]
    if cit_idx is not None:
        citations.append((parse_citation(block[cit_idx].text), "citation"))
        for line in block[cit_idx + 1 :]:
            if _URL_LINE.match(line.text) and not citations[0][0].url:
                citations[0] = (dataclasses.replace(citations[0][0], url=line.text), "citation")
            else:
                _unread(rec, line, "the citation block")
    if summary:
        rec.found("summary", "\n\n".join(line.text for line in summary), "Citation block")
    if date_line is None and not citations and not _dated(title_line):
        return Rejection(
            SourceRef(name, 1, line=lines[cit_at].no),
            "",
            f"the page has no date line, and neither a citation nor its title to date it by; {_EXPECTED}",
            "unknown-layout",
        )
    b = view_at
    while b < len(lines) and (lines[b].key in _VIEW or _VIEW_OPTION.match(lines[b].key)):
        b += 1
    end = next((e for e in range(b, len(lines)) if lines[e].key in (_DOC_INFO, _RELATED)), len(lines))
    info_at = next((e for e in range(end, len(lines)) if lines[e].key == _DOC_INFO), None)
    if info_at is not None:
        info = read_info(rec, lines[info_at + 1 :])
        citations += [(parse_citation(line.text), where) for line, where in info.citation_lines]
    fallback = title_line or lines[cit_at]
    return _finish(rec, name, date_line, title_line, fallback, citations, lines[b:end])


def _read_head(rec: Record, lines: list[Line], start: int, end: int) -> tuple[Line | None, Line | None, int]:
    """Read the date line, title, credit and translation note that open a page.

    Returns the date line, the title line and the index of the first line after them.
    """
    date_line = title_line = None
    k = start
    while k < end:
        line = lines[k]
        if _take_credit_or_note(rec, line):
            k += 1
            continue
        if title_line is not None:
            break
        if date_line is None and looks_like_date(line.key):
            date_line = line
        elif _title_like(line):
            title_line = line
        else:
            break
        k += 1
    return date_line, title_line, k


def _take_credit_or_note(rec: Record, line: Line) -> bool:
    if _CREDIT.match(line.key):
        credit = f"{rec.funder_credit}\n\n{line.text}" if rec.funder_credit else line.text
        rec.found("funder_credit", credit, "credit line")
        return True
    m = _NOTE.match(line.text)
    if m:
        rec.found("original_language", m.group("lang"), "translation note")
        return True
    return False


def _title_like(line: Line) -> bool:
    # A colon-ended line opens the body ("... for conveying to Comrade Zhou Enali:"); markers are
    # structure; an overlong line is a paragraph: none of them is a title.
    text = line.text.rstrip()
    return (
        not text.endswith((":", "："))
        and len(text) <= 300
        and line.key not in (_DOC_INFO, _RELATED)
        and line.key not in _CITATION_HEADS
    )


def _dated(title_line: Line | None) -> bool:
    return title_line is not None and any(parse_date(d) for d in find_dates(title_line.text))


def _is_citation(line: Line) -> bool:
    return line.text[:1] in "\"“" or "digital archive" in line.key


def _finish(
    rec: Record,
    name: str,
    date_line: Line | None,
    title_line: Line | None,
    fallback: Line,
    citations: list[tuple[Citation, str]],
    body: list[Line],
) -> Record | Rejection:
    """Settle title, type, parties, dates, citations and body; shared by both layouts."""
    cit_titles = [c.title for c, _ in citations if c.title]
    rejection = _settle_title(rec, name, title_line, cit_titles, fallback)
    if rejection:
        return rejection
    parts = parse_title(rec.title)
    if rec.doc_type is None and parts.doc_type:
        rec.derived("doc_type", parts.doc_type, "title")
    for field, value in (
        ("senders", parts.senders),
        ("addressees", parts.addressees),
        ("participants", parts.participants),
        ("subtitle", parts.subtitle),
    ):
        if value:
            rec.derived(field, list(value) if isinstance(value, tuple) else value, "title")
    if parts.unnamed_others:
        rec.warn("addressees", "the title names further, unnamed parties ('and Others')", "unnamed-parties", INFO)
    candidates = [(text, "title") for text in parts.dates]
    candidates += [(c.date_text, where) for c, where in citations if c.date_text]
    rejection = settle_date(rec, name, date_line, candidates)
    if rejection:
        return rejection
    _apply_citations(rec, citations)
    year = int(rec.date.iso[:4]) if rec.date and rec.date.iso else None
    read_body(rec, body, year)
    return rec


def _settle_title(
    rec: Record, name: str, title_line: Line | None, cit_titles: list[str], fallback: Line
) -> Rejection | None:
    cited = cit_titles[0] if cit_titles else None
    if title_line is None:
        if not cited:
            return Rejection(
                SourceRef(name, 1, line=fallback.no),
                "title",
                "the page has no title (expected it after the date line) and no citation gives one",
                "empty-title",
            )
        rec.derived("title", cited, "citation")
        rec.warn("title", f"the page has no title line; the title {quote(cited)} was taken from the citation",
                 "title-from-citation")
        return None
    title = title_line.text
    if cited and _norm(cited) != _norm(title):
        rec.warn("title", f"the page's title {quote(title)} differs from the citation's {quote(cited)}; "
                 "the page's title is kept", "title-disagreement")
    if cited and title.isupper() and _norm(cited) == _norm(title):
        rec.found("title", cited, "citation")
        rec.warn("title", f"the page's title is in capitals ({quote(title)}); the citation's spelling is used",
                 "title-in-capitals", INFO)
    else:
        rec.found("title", title, "title")
    return None


def _apply_citations(rec: Record, citations: list[tuple[Citation, str]]) -> None:
    refs: list[str] = []
    for c, _ in citations:
        refs += [r for r in c.references if r not in refs]
    if refs:
        rec.found("citations", refs, next(where for c, where in citations if c.references))
    statements = [(c, where) for c, where in citations if c.statement]
    for c, where in statements[1:]:
        if c.statement != statements[0][0].statement:
            rec.warn("translation_statement", f"a second translation statement ({where}) was not read: "
                     f"{quote(c.statement or '')}", "unread-text")
    stated = statements[0] if statements else None
    if stated:
        translation = parse_statement(stated[0].statement or "")
        rec.found("translation_statement", translation.statement, stated[1])
        if translation.translators:
            rec.derived("translators", list(translation.translators), "translation statement")
        if translation.translated_for:
            rec.derived("translated_for", translation.translated_for, "translation statement")
        if translation.original_language and not rec.original_language:
            rec.derived("original_language", translation.original_language, "translation statement")
    url = next((c for c, _ in citations if c.url), None)
    if url:
        rec.found("source_url", url.url, "citation")
        if not rec.record_id and url.record_number:
            # The archive's address ends in its number for the record, the same as its "Record ID".
            rec.derived("record_id", url.record_number, "source URL")


def _unread(rec: Record, line: Line, where: str) -> None:
    rec.warn("", f"line {line.no}: text in {where} fits no known part of the page and was not read: "
             f"{quote(line.text)}", "unread-text")


def _norm(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())
