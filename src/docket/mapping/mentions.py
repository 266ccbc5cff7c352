"""Find the people, organizations, places, events and topics a record's text names.

Two passes over each text (body, summary, salutation, subtitle):

1. Every label of every authority entry (preferred, other-language, alternative), and for people
   the bracketed forms archives print ("Ho (Chi Minh)", "Vo [Nguyen Giap]"), is searched as a whole
   phrase: case, accents and curly quotes folded, any white space between words, never inside a
   longer word ("Vietnam" is not found in "Vietnamese"). Where names overlap the longest wins
   ("Cold War International History Project" over "Cold War"). A label that starts with a capital
   must start with one in the text, and an all-capitals label ("VPA") must be in capitals.
2. A capitalised name after an honorific ("Comrade Zhou Enali") that pass 1 did not find is
   reconciled like a name in a record field, fuzzy matching included, so a misspelling is still
   linked and reported with its score. Fuzzy matching is never run on arbitrary text, and a bare
   surname ("Wei's telegram") is never linked: it is not a label, and it is too short to be fuzzy.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from docket.mapping.authorities import Authorities, Authority
from docket.mapping.reconcile import ALTERNATIVE, EXACT, HONORIFICS, NORMALIZED, Reconciler, fold

MENTION_KINDS = ("person", "organization", "place", "event", "topic")

_HONORIFIC_BEFORE_NAME = re.compile(
    r"(?<!\w)(?i:" + "|".join(sorted((re.escape(h) for h in HONORIFICS), key=len, reverse=True)) + r")\.?"
    r"[ \t]+(?P<name>[^\W\d_][\w'\u2019-]*(?:[ \t]+[^\W\d_][\w'\u2019-]*){0,2})"
)


@dataclass(frozen=True)
class Mention:
    """One place in a text that names an authority entry."""

    authority: Authority
    text: str  # as written in the source
    field: str  # body, summary, salutation, subtitle
    start: int  # character offsets in that field's text (body: paragraphs joined by a blank line)
    end: int
    method: str  # exact, alternative, normalized (bracketed form) or fuzzy
    score: float | None = None


@dataclass(frozen=True)
class Unmatched:
    """A name after an honorific that matched no authority entry."""

    text: str
    field: str
    start: int
    end: int


class MentionFinder:
    """Search texts for authority names; build once from the authorities and a reconciler."""

    def __init__(self, authorities: Authorities, reconciler: Reconciler, kinds: tuple[str, ...] = MENTION_KINDS):
        self.reconciler = reconciler
        self.kinds = kinds
        self._names: dict[str, list[tuple[Authority, str, str]]] = {}  # folded -> (entry, name, method)
        for a in authorities.of_kinds(kinds):
            for name, preferred in a.names():
                self._add(name, a, EXACT if preferred else ALTERNATIVE)
                if a.kind == "person":
                    for form in _bracketed_forms(name):
                        self._add(form, a, NORMALIZED)
        alternatives = sorted(self._names, key=len, reverse=True)
        body = "|".join(r"\s+".join(re.escape(w) for w in n.split()) for n in alternatives)
        self._pattern = re.compile(r"(?<!\w)(?:" + body + r")(?!\w)") if alternatives else None

    def _add(self, name: str, authority: Authority, method: str) -> None:
        key = " ".join(fold(name).split())
        if not key:
            return
        hits = self._names.setdefault(key, [])
        if all(a.uri != authority.uri for a, _, _ in hits):
            hits.append((authority, name, method))

    def find(self, text: str, field: str) -> tuple[list[Mention], list[Unmatched]]:
        """Return the mentions in ``text`` (in order) and the honorific names that matched nothing."""
        if not text:
            return [], []
        folded, index = _fold_with_index(text)
        mentions: list[Mention] = []
        if self._pattern is not None:
            for m in self._pattern.finditer(folded):
                start, end = index[m.start()], index[m.end() - 1] + 1
                written = text[start:end]
                hits = self._names.get(" ".join(m.group(0).split()), [])
                if len(hits) != 1:
                    continue  # a name shared by several entries is not linked; field names are reconciled
                authority, name, method = hits[0]
                if _case_fits(name, written):
                    mentions.append(Mention(authority, written, field, start, end, method))
        unmatched: list[Unmatched] = []
        for m in _HONORIFIC_BEFORE_NAME.finditer(text):
            start, end = m.span("name")
            if any(s < end and start < e for s, e in ((x.start, x.end) for x in mentions)):
                continue
            words = _capitalised_prefix(m.group("name").split())
            found = None
            for n in range(len(words), 0, -1):
                candidate = " ".join(words[:n])
                match = self.reconciler.match(candidate, ("person",), fuzzy=n >= 2)
                if match.authority is not None:
                    found = (candidate, match)
                    break
            if found is None:
                if words:
                    span_end = start + len(" ".join(words))
                    unmatched.append(Unmatched(text[start:span_end], field, start, span_end))
                continue
            candidate, match = found
            assert match.authority is not None
            mentions.append(Mention(match.authority, text[start:start + len(candidate)], field, start,
                                    start + len(candidate), match.method, match.score if match.method == "fuzzy"
                                    else None))
        mentions.sort(key=lambda x: x.start)
        return mentions, unmatched


def _bracketed_forms(name: str) -> list[str]:
    words = name.split()
    if len(words) < 2 or any(c in name for c in "()[]"):
        return []
    first, rest = words[0], " ".join(words[1:])
    return [f"{first} ({rest})", f"{first} [{rest}]"]


def _fold_with_index(text: str) -> tuple[str, list[int]]:
    """Fold ``text`` and map every folded character back to its position in ``text``."""
    if text.isascii():
        # Folding plain ASCII is lower-casing, one character for one (and ten times quicker).
        return text.lower(), list(range(len(text)))
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        folded = fold(ch) if not ch.isascii() or ch.isupper() else ch
        out.append(folded)
        index.extend([i] * len(folded))
    return "".join(out), index


def _case_fits(name: str, written: str) -> bool:
    letters = [c for c in name if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return all(c.isupper() for c in written if c.isalpha())
    first_name = next((c for c in name if c.isalpha()), "")
    first_written = next((c for c in written if c.isalpha()), "")
    return not first_name.isupper() or first_written.isupper()


def _capitalised_prefix(words: list[str]) -> list[str]:
    out = []
    for w in words:
        if not unicodedata.category(w[0]).startswith("Lu"):
            break
        out.append(w.rstrip("'\u2019-"))
    return out
