"""Property tests: no page, however mangled, makes the page reader raise or give a half record."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docket.ingest.dates import parse_date
from docket.ingest.model import RECORD_FIELDS, Record, Rejection
from docket.ingest.pages import CURRENT, OLDER, parse_page

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((Path(__file__).parent / "fixtures" / "pages").glob("*.txt"))
SEED = ROOT / "data" / "records" / "telegram-1954-06-20-ccp-to-zhou-enlai.txt"
PAGES = [p.read_text(encoding="utf-8") for p in [SEED, *FIXTURES]]
GOOD_PAGES = [t for t in PAGES if isinstance(parse_page(t, "page.txt"), Record)]

# Lines that carry structure, so random pages hit the layout logic and not only the fallbacks.
STRUCTURE = [
    "Skip to content", "June 20, 1954", "June 31, 1954", "June 20", "1954", "Undated",
    "Telegram, CCP Central Committee to Zhou Enlai", "TELEGRAM, A TO B AND OTHERS",
    "Minutes of Conversation between X and Y, 20 June 1954", "Comrade Zhou Enlai:", "CCP Central Committee",
    "Document Information", "Related Documents", "Record ID", "Record ID: 12", "Original Uploaded Date",
    "Type", "Type:", "Rights", "Source", "Author(s):", "Languages", "Associated Places: China, Vietnam",
    "Search in", "Digital Archive International History Declassified", "Citation", "get citation",
    "share document", "VIEW DOCUMENT IN", "English HTML",
    "“Telegram, A to B,” June 21, 1954, History and Public Policy Program Digital Archive, ZX. "
    "Translated for CWIHP from Russian by Chen Jian. https://example.org/document/7",
    '"Untitled', "ZX vol. 4, p. 509. Translated for CWIHP by Chen Jian.", "Translated from the Chinese",
    "This document was made possible with support from the Example Foundation.", "六月二十日", "\u00a0", "",
]

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(result: Record | Rejection) -> None:
    """Every input ends as a whole record or a rejection that says why."""
    assert isinstance(result, (Record, Rejection))
    if isinstance(result, Rejection):
        assert result.code and result.message
        assert result.source.file == "page.txt"
        return
    assert result.title.strip()
    assert result.date is not None and result.date.iso
    assert parse_date(result.date.iso) == result.date.iso
    assert result.layout in (CURRENT, OLDER)
    assert result.source.position == 1
    assert all(isinstance(p, str) and p.strip() for p in result.body)
    for name in RECORD_FIELDS:
        result.status(name)  # provenance is known for every field
    result.to_dict()


@st.composite
def mutated_pages(draw) -> str:
    lines = draw(st.sampled_from(PAGES)).split("\n")
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["delete", "duplicate", "insert", "unicode", "truncate", "swap"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "insert":
            lines.insert(i, draw(st.sampled_from(STRUCTURE)))
        elif op == "unicode":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.text(max_size=12)) + lines[i][at:]
        elif op == "truncate":
            at = draw(st.integers(0, len(lines[i])))
            lines = lines[:i] + [lines[i][:at]]
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return newline.join(lines)


@SETTINGS
@given(mutated_pages())
def test_mutated_pages_never_raise(text: str):
    check(parse_page(text, "page.txt"))


@SETTINGS
@given(st.text(max_size=400))
def test_random_text_never_raises(text: str):
    check(parse_page(text, "page.txt"))


@SETTINGS
@given(st.lists(st.one_of(st.sampled_from(STRUCTURE), st.text(max_size=40)), max_size=30),
       st.sampled_from(["\n", "\n\n", "\r\n"]))
def test_random_structured_pages_never_raise(lines: list[str], newline: str):
    check(parse_page(newline.join(lines), "page.txt"))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(GOOD_PAGES), st.data())
def test_blank_lines_and_line_endings_do_not_change_a_record(text: str, data):
    """Blank lines (empty or non-breaking spaces) may come and go: the same record results."""
    lines = [line for line in text.split("\n") if line.strip()]
    blanks = data.draw(st.lists(st.sampled_from(["", "\u00a0", " \u00a0 ", "\t"]), min_size=len(lines),
                                max_size=len(lines)))
    newline = data.draw(st.sampled_from(["\n", "\r\n"]))
    respaced = newline.join(f"{line}{newline}{blank}" for line, blank in zip(lines, blanks))
    first, second = parse_page(text, "page.txt"), parse_page(respaced, "page.txt")
    assert isinstance(first, Record) and isinstance(second, Record)
    a, b = first.to_dict(), second.to_dict()
    a.pop("source"), b.pop("source")
    assert a == b


PRINTABLE = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Zs")), min_size=1, max_size=20
)


@settings(max_examples=80, deadline=None)
@given(PRINTABLE, st.integers(1, 200))
def test_text_inside_the_body_comes_through_unharmed(inserted: str, at: int):
    text = SEED.read_text(encoding="utf-8")
    marker = "Under the circumstances"
    start = text.index(marker) + at
    mangled = text[:start] + inserted + text[start:]
    rec = parse_page(mangled, "page.txt")
    assert isinstance(rec, Record)
    assert len(rec.body) == 1 and inserted in rec.body[0]
    assert rec.body[0] == mangled.split("\n")[9]
