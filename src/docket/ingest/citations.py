"""Read source citations and translation statements as the archive writes them.

"ZX vol. 4, p. 509. Translated for CWIHP by Chen Jian." holds the reference "ZX vol. 4, p. 509"
and the statement "Translated for CWIHP by Chen Jian." (translator Chen Jian, for CWIHP). The
archive's older pages quote a whole citation::

    "Title," June 20, 1954, History and Public Policy Program Digital Archive, REFERENCE.
    Translated for CWIHP by X. https://digitalarchive.example.org/document/121156

from which the title, date, references, statement and URL are read. The publisher ("... Digital
Archive") is the archive's own name for itself, not a reference, and is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from docket.ingest.dates import DATE_IN_TEXT
from docket.ingest.model import Name
from docket.ingest.titles import split_names

_URL = re.compile(r"https?://[^\s<>\"”’]+")
_STATEMENT = re.compile(
    r"(?:^|(?<=[.;]\s))(?=(?:(?:obtained|edited|transcribed|provided) and )?translat(?:ed|ion)\b)", re.I
)
# A full stop ends the statement unless it follows an initial ("V. M. Zubok", "U.S.").
_SENTENCE_END = re.compile(r"(?<=[^\s.]{2})\.(?=\s|$)")
_BY = re.compile(r"\bby\s+(?P<names>.+)$")
_FOR = re.compile(r"\bfor\s+(?P<for>.+?)(?=\s+from\b|\s*$)")
_FROM = re.compile(r"\bfrom\s+(?:the\s+)?(?P<lang>[A-Z][\w'-]*)")
_DATE_AT_START = re.compile(r"(?:" + DATE_IN_TEXT.pattern + r"|\d{4}-\d{2}-\d{2}\b|\d{4}\b)", re.I)
_PUBLISHER = re.compile(r"^[^,.]*Digital Archive\s*[,.]?\s*", re.I)
_OPEN_QUOTES = "\"“"
_LONGEST_TITLE = 500  # a quoted passage longer than this is not a title
_RECORD_NUMBER = re.compile(r"/documents?/(?P<id>\d+)(?:[/?#]|$)")


@dataclass(frozen=True)
class Translation:
    """Hold what a translation statement says."""

    statement: str  # as written: "Translated for CWIHP by Chen Jian."
    translators: tuple[Name, ...] = ()
    translated_for: str | None = None
    original_language: str | None = None


@dataclass(frozen=True)
class Citation:
    """Hold the parts of one citation line."""

    text: str  # as written
    title: str | None = None  # only from a quoted citation
    date_text: str | None = None  # the date after a quoted title, as written
    references: tuple[str, ...] = ()  # where the original or published source is
    statement: str | None = None
    url: str | None = None

    @property
    def record_number(self) -> str | None:
        """Return the archive's number for the record from its URL (".../document/121156"), if any."""
        m = _RECORD_NUMBER.search(self.url or "")
        return m.group("id") if m else None


def find_statement(text: str) -> tuple[str, str | None, str]:
    """Split text into (before, translation statement, after); the statement is None when absent."""
    m = _STATEMENT.search(text)
    if not m:
        return text, None, ""
    tail = text[m.start() :]
    by = _BY.search(tail)
    end = _SENTENCE_END.search(tail, by.start("names") if by else 0)
    statement = tail[: end.end()] if end else tail
    return text[: m.start()], statement.strip(), tail[len(statement) :].strip()


def parse_statement(statement: str) -> Translation:
    """Read translators, "for" and the original language from a translation statement."""
    core = statement.strip().rstrip(". ")
    by = _BY.search(core)
    translators = split_names(by.group("names"))[0] if by else ()
    head = core[: by.start()] if by else core
    made_for = _FOR.search(head)
    language = _FROM.search(head)
    return Translation(
        statement=statement.strip(),
        translators=translators,
        translated_for=made_for.group("for").strip() if made_for else None,
        original_language=language.group("lang") if language else None,
    )


def parse_citation(text: str) -> Citation:
    """Split one citation line into its parts; see the module docstring."""
    written = text.strip()
    rest = written
    url = None
    m = _URL.search(rest)
    if m:
        url = m.group(0).rstrip(".,;)")
        rest = (rest[: m.start()] + rest[m.start() + len(url) :]).strip()
    title = date_text = None
    if rest[:1] in _OPEN_QUOTES:
        close = _closing_quote(rest)
        if close:
            quoted = rest[1:close].strip().rstrip(",").strip()
            title = quoted if 0 < len(quoted) <= _LONGEST_TITLE else None
            rest = rest[close + 1 :].lstrip(" ,")
            d = _DATE_AT_START.match(rest)
            if d:
                date_text = d.group(0)
                rest = rest[d.end() :].lstrip(" ,.")
            rest = _PUBLISHER.sub("", rest, count=1)
    before, statement, after = find_statement(rest)
    references = tuple(r for r in (_reference(before), _reference(after)) if r)
    return Citation(written, title, date_text, references, statement, url)


def _closing_quote(text: str) -> int | None:
    for mark in (",”", ',"'):
        i = text.find(mark, 1)
        if i > 0:
            return i + 1
    for mark in ("”", '"'):
        i = text.find(mark, 1)
        if i > 0:
            return i
    return None


def _reference(text: str) -> str:
    text = text.strip()
    while text[-1:] in (".", ",", ";") or text[-1:].isspace():
        text = text[:-1]
    return text
