"""Read the structure of a document title: type, senders, addressees, participants, subtitle.

The archive's titles follow a few patterns, and only these are read; anything else yields what
it can (often the type alone) and nothing is guessed:

- "Telegram, CCP Central Committee to Zhou Enlai" and "Letter from Mao Zedong to Stalin":
  type, senders "to" addressees;
- "..., Zhou Enlai to Mao Zedong, Liu Shaoqi, and CCP Central Committee, 'Arriving in Nanning on
  the 29th'": several addressees and a quoted subtitle, returned without its quotation marks;
- "... to Mao Zedong and Others": the unnamed others are flagged (``unnamed_others``), not made a name;
- "Minutes of Conversation between X and Y", "Record of Conversation between ...": participants.

Names go through ``Name.parse``, so "Filippov [Stalin]" keeps the name as written and the
bracketed identification. A leading "(CCP)" is not an identification but part of how the name is
written, so "(CCP) Guangxi Provincial Committee" stays whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from docket.ingest.dates import DATE_IN_TEXT, find_dates
from docket.ingest.model import Name

# Canonical type -> the forms titles use (plural, article); matching ignores case.
_TYPE_FORMS: dict[str, tuple[str, ...]] = {
    "Record of Conversation": (
        "record of conversation", "records of conversation", "record of a conversation",
        "record of the conversation", "records of conversations",
    ),
    "Memorandum of Conversation": (
        "memorandum of conversation", "memorandum of a conversation", "memorandum of the conversation",
        "memoranda of conversation", "memoranda of conversations", "memorandums of conversation",
    ),
    # "Minutes of Conversation" is not a type of its own in the archive's vocabulary: it is Minutes.
    "Minutes": ("minutes", "minutes of conversation", "minutes of a conversation", "minutes of the conversation"),
    "Telegram": ("telegram", "telegrams"),
    "Cablegram": ("cablegram", "cablegrams"),
    "Cable": ("cable", "cables"),
    "Memorandum": ("memorandum", "memoranda", "memorandums"),
    "Letter": ("letter", "letters"),
    "Report": ("report", "reports"),
    "Diary": ("diary", "diaries"),
    "Note": ("note", "notes"),
    "Resolution": ("resolution", "resolutions"),
    "Transcript": ("transcript", "transcripts"),
    "Directive": ("directive", "directives"),
    "Speech": ("speech", "speeches"),
    "Instructions": ("instructions", "instruction"),
    "Decree": ("decree", "decrees"),
    "Message": ("message", "messages"),
}
_CANONICAL = {form: canon for canon, forms in _TYPE_FORMS.items() for form in forms}
_TYPE = re.compile(
    r"^(?P<type>" + "|".join(re.escape(f) for f in sorted(_CANONICAL, key=len, reverse=True)) + r")(?=$|[\s,:;.])",
    re.I,
)

_DATE_AT_END = re.compile(r",?\s*(?:(?:on|dated)\s+)?(?:" + DATE_IN_TEXT.pattern + r")\s*\.?$", re.I)
_BETWEEN = re.compile(
    r"(?:^|\b(?:conversations?|meetings?|talks|discussions?|exchanges?)\s+)between\s+(?P<who>.+)$", re.I
)
_WITH = re.compile(r"^with\s+(?P<who>.+)$", re.I)
_TO = re.compile(r"\s+to\s+", re.I)
# A "to" right after one of these belongs to the office ("Ambassador to China"), not the address.
_OFFICE_TO = re.compile(
    r"\b(?:ambassador|envoy|representative|delegation|delegate|mission|advis[eo]r|counsel+or|"
    r"attach[eé]|consul(?: general)?|minister)\s*$",
    re.I,
)
_TOPIC = re.compile(r"\s+(?:regarding|concerning|about|re:)\s+.*$", re.I)
_SEPARATOR = re.compile(r",\s*(?:(?:and|&)\s+)?|;\s*|\s+(?:and|&)\s+", re.I)
_OTHERS = re.compile(r"(?:,?\s+(?:and|&)\s+(?:the\s+)?others|,?\s+et\s+al\.?)\s*$", re.I)
# A piece that continues the name before it ("Ho Chi Minh, President") rather than naming someone.
_APPOSITIVE = re.compile(
    r"^(?:president|chairman|premier|prime minister|general secretary|first secretary|secretary|"
    r"minister|ambassador|jr\.?|sr\.?)(?:\s+of\b.*)?$",
    re.I,
)
_CONTINUATION = re.compile(r"^[a-z\d]")  # "..., 1898-1976", "..., his deputy"
_QUOTE_FAMILY = {"'": "s", "‘": "s", "’": "s", '"': "d", "“": "d", "”": "d"}
_OPENING = re.compile(r"[,:]\s+(['\"‘“])")
_BRACKETS = {"(": ")", "[": "]", "{": "}"}


@dataclass(frozen=True)
class TitleParts:
    """Hold what a title says about its document."""

    doc_type: str | None = None
    senders: tuple[Name, ...] = ()
    addressees: tuple[Name, ...] = ()
    participants: tuple[Name, ...] = ()
    subtitle: str | None = None
    dates: tuple[str, ...] = ()  # dates written in the title, as written
    unnamed_others: bool = False  # "... and Others": more addressees or participants than named


def canonical_type(text: str) -> str | None:
    """Return the canonical document type for a written form ("telegrams" -> "Telegram"), or None."""
    return _CANONICAL.get(" ".join(text.split()).casefold())


def parse_title(title: str) -> TitleParts:
    """Read the type, parties, subtitle and dates a title states."""
    text = " ".join(title.split())
    dates = tuple(find_dates(text))
    text, subtitle = split_subtitle(text)
    m = _TYPE.match(text)
    doc_type = _CANONICAL[m.group("type").casefold()] if m else None
    rest = text[m.end():] if m else text
    rest = _DATE_AT_END.sub("", rest).strip()
    senders: tuple[Name, ...] = ()
    addressees: tuple[Name, ...] = ()
    participants: tuple[Name, ...] = ()
    others = False
    parties = rest.lstrip(",:;. ")
    between = _BETWEEN.search(parties)
    with_ = _WITH.match(parties) if m else None
    if between or with_:
        participants, others = split_names((between or with_).group("who"))  # type: ignore[union-attr]
    elif m and (rest[:1] in ",:" or rest[:5].lower() == "from "):
        if rest[:5].lower() == "from ":
            parties = rest[5:].strip()
        split = _split_to(parties)
        if split:
            senders, _ = split_names(split[0])
            addressees, others = split_names(_TOPIC.sub("", split[1]))
    return TitleParts(doc_type, senders, addressees, participants, subtitle, dates, others)


def split_subtitle(text: str) -> tuple[str, str | None]:
    """Split a trailing quoted subtitle off a title: ("Telegram, ...", "Arriving in Nanning ...")."""
    if len(text) < 3 or text[-1] not in _QUOTE_FAMILY:
        return text, None
    for m in _OPENING.finditer(text):
        start = m.start(1)
        if start >= len(text) - 2 or _QUOTE_FAMILY[text[start]] != _QUOTE_FAMILY[text[-1]]:
            continue
        inner = text[start + 1 : -1].strip()
        head = text[: m.start()].rstrip()
        if inner and head:
            return head, inner
    return text, None


def split_names(text: str) -> tuple[tuple[Name, ...], bool]:
    """Split "Mao Zedong, Liu Shaoqi, and CCP Central Committee" into names, brackets respected.

    Returns the names and whether the list ends "and Others" (which is not a name).
    """
    text = " ".join(text.split()).strip(" ,;.")
    others = bool(_OTHERS.search(text))
    text = _OTHERS.sub("", text).strip(" ,;")
    pieces: list[str] = []
    for piece in _split_outside_brackets(text):
        piece = _strip_article(piece)
        if not piece:
            continue
        if pieces and continues_name(piece):
            pieces[-1] = f"{pieces[-1]}, {piece}"
        else:
            pieces.append(piece)
    return tuple(Name.parse(p) for p in pieces), others


def continues_name(piece: str) -> bool:
    """Say whether a comma-separated piece continues the name before it ("President", "1898-1976")."""
    piece = piece.strip()
    return bool(_APPOSITIVE.match(piece) or _CONTINUATION.match(piece))


def _split_outside_brackets(text: str) -> list[str]:
    depth = _depths(text)
    pieces, start = [], 0
    for m in _SEPARATOR.finditer(text):
        if depth[m.start()] == 0:
            pieces.append(text[start : m.start()])
            start = m.end()
    pieces.append(text[start:])
    return [p.strip() for p in pieces]


def _split_to(text: str) -> tuple[str, str] | None:
    depth = _depths(text)
    for m in _TO.finditer(text):
        left = text[: m.start()]
        if depth[m.start()] or _OFFICE_TO.search(left[-40:]) or not left.strip():
            continue
        right = text[m.end() :]
        if right.strip():
            return left, right
    return None


def _depths(text: str) -> list[int]:
    """Return the bracket depth at each character (unbalanced closers are ignored)."""
    stack: list[str] = []
    out: list[int] = []
    for ch in text:
        if ch in _BRACKETS:
            stack.append(_BRACKETS[ch])
        elif stack and ch == stack[-1]:
            stack.pop()
        out.append(len(stack))
    out.append(len(stack))
    return out


def _strip_article(piece: str) -> str:
    piece = piece.strip(" ,;")
    for article in ("the ", "and "):
        if piece.startswith(article):
            piece = piece[len(article) :]
    return piece.strip()
