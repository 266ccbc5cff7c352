"""Read dates as archives write them into ISO 8601 at the precision the source gives.

"June 20, 1954" -> 1954-06-20; "June 1954" -> 1954-06; "1954" -> 1954; "20 June 1954",
"Jun. 20, 1954", "1954-06-20" and "20.06.1954" are read too. A date without a year ("June 20",
as in a telegram's signature) is read only when the caller supplies the year.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from docket.ingest.model import DateValue

_MONTHS: dict[str, int] = {}
for _i in range(1, 13):
    _MONTHS[calendar.month_name[_i].lower()] = _i
    _MONTHS[calendar.month_abbr[_i].lower()] = _i
_MONTHS["sept"] = 9

_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"

_PATTERNS = [
    re.compile(rf"^{_YEAR}-(?P<m>\d{{2}})-(?P<d>\d{{2}})$"),
    re.compile(rf"^{_YEAR}-(?P<m>\d{{2}})$"),
    re.compile(rf"^{_MONTH}\s+{_DAY},?\s+{_YEAR}$", re.I),
    re.compile(rf"^{_DAY}\s+{_MONTH},?\s+{_YEAR}$", re.I),
    re.compile(rf"^(?P<d>\d{{1,2}})\.(?P<m>\d{{1,2}})\.{_YEAR}$"),
    re.compile(rf"^{_MONTH},?\s+{_YEAR}$", re.I),
    re.compile(rf"^{_YEAR}$"),
]
_NO_YEAR = [
    re.compile(rf"^{_MONTH}\s+{_DAY}$", re.I),
    re.compile(rf"^{_DAY}\s+{_MONTH}$", re.I),
]

# A date written somewhere inside running text (a title, a citation).
_PLAIN_MONTH = _MONTH.replace("?P<month>", "?:")
_PLAIN_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
DATE_IN_TEXT = re.compile(
    rf"\b(?:{_PLAIN_MONTH}\s+{_PLAIN_DAY},?\s+\d{{4}}|{_PLAIN_DAY}\s+{_PLAIN_MONTH},?\s+\d{{4}}"
    rf"|{_PLAIN_MONTH},?\s+\d{{4}})\b",
    re.I,
)

_QUALIFIERS = re.compile(r"^(?:c\.|ca\.|circa|about)\s*", re.I)


def parse_date(text: str, year: int | None = None) -> str | None:
    """Return the ISO 8601 form of ``text``, or None when it is not a date this module reads.

    ``year`` completes dates written without one ("June 20").
    """
    cleaned = _QUALIFIERS.sub("", " ".join(text.replace("\u00a0", " ").split()).strip("[]() .,"))
    for pattern in _PATTERNS:
        m = pattern.match(cleaned)
        if m:
            return _iso(m.groupdict())
    if year is not None:
        for pattern in _NO_YEAR:
            m = pattern.match(cleaned)
            if m:
                return _iso({**m.groupdict(), "year": str(year)})
    return None


def date_value(text: str, where: str, year: int | None = None) -> DateValue:
    """Wrap ``text`` with its ISO form and where it was found."""
    return DateValue(text=text.strip(), iso=parse_date(text, year), where=where)


def find_dates(text: str) -> list[str]:
    """Return every date written inside running text, as written."""
    return [m.group(0) for m in DATE_IN_TEXT.finditer(text)]


def _iso(parts: dict[str, str | None]) -> str | None:
    year = int(parts["year"])  # type: ignore[arg-type]
    month_text = parts.get("month")
    month = _MONTHS[month_text.lower()] if month_text else parts.get("m")
    day = parts.get("day") or parts.get("d")
    if month is None:
        return f"{year:04d}"
    month = int(month)
    if not 1 <= month <= 12:
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        return date(year, month, int(day)).isoformat()
    except ValueError:
        return None
