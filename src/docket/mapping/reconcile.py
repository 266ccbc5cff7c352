"""Match names as records write them to authority entries, in four stages, and say how.

1. exact: the name is an entry's preferred label (in any language);
2. alternative: the name is one of its alternative labels;
3. normalized: equal after folding case, accents, quotes and hyphens, dropping a leading "the",
   honorifics such as "Comrade" (for people and organizations), and brackets: "Ho (Chi Minh)" is
   tried as "Ho Chi Minh", then as "Ho" and "Chi Minh"; "Filippov [Stalin]" as "Filippov Stalin",
   then the square-bracketed identification "Stalin" before "Filippov";
4. fuzzy: the best rapidfuzz score (the higher of ``ratio`` and ``token_sort_ratio`` on the
   normalized forms) at or above the threshold (setting ``fuzzy_threshold``, default 88). A label
   that merely has words more or fewer than the name ("Central Committee" / "CCP Central
   Committee") is a different name, not a misspelling, and is never a fuzzy match. ``WRatio`` is
   deliberately not used: its partial matching scores "Zhou" against "Zhou Enlai" at 90.

A stage that finds two different entries stops with no match ("ambiguous"): a name is never
merged into a person it might not be. Every outcome carries its method and score, so fuzzy and
failed matches can be reported and reviewed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable

from rapidfuzz import fuzz, process
from rdflib import URIRef

from docket.mapping.authorities import AGENT_KINDS, Authorities, Authority
from docket.memo import Memo

EXACT = "exact"
ALTERNATIVE = "alternative"
NORMALIZED = "normalized"
FUZZY = "fuzzy"
UNRECONCILED = "unreconciled"

_MIN_FUZZY_LENGTH = 4  # shorter names match too much by chance

HONORIFICS = (
    "comrade", "comrades", "tovarishch", "tov", "mr", "mrs", "ms", "miss", "mister", "dr", "sir", "madame",
    "mme", "monsieur", "herr", "frau", "general", "gen", "marshal", "colonel", "col", "major", "maj",
    "captain", "capt", "lieutenant", "lt", "admiral", "chairman", "premier", "president", "ambassador",
    "minister", "secretary", "professor", "prof", "prime minister", "foreign minister", "vice premier",
    "vice chairman", "vice president", "deputy prime minister", "first secretary", "general secretary",
)
_HONORIFIC = re.compile(
    r"^(?:(?:" + "|".join(sorted((re.escape(h) for h in HONORIFICS), key=len, reverse=True)) + r")\.?\s+)+"
)
_BRACKETED = re.compile(r"(?P<open>[\[(])(?P<inside>[^\])]*)[\])]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"',
                         "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-"})


def fold(text: str) -> str:
    """Fold case, accents, curly quotes and dashes; keep the length of plain ASCII text."""
    text = unicodedata.normalize("NFKD", text.translate(_QUOTES))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def normalize(text: str, honorifics: bool = False) -> str:
    """Return the comparison form: folded, words only, leading "the" (and honorifics) dropped."""
    text = fold(text)
    text = re.sub(r"[’'`]s\b", "s", text)  # "People's" and "Peoples" compare equal
    text = re.sub(r"[-_]", "", text) if re.search(r"\w-\w", text) else text
    text = " ".join(re.sub(r"[^\w\s]", " ", text).split())
    text = re.sub(r"^the\s+", "", text)
    if honorifics:
        text = _HONORIFIC.sub("", text + " ").strip() or text
    return text


def strip_honorifics(text: str) -> str:
    """Drop leading honorifics ("Comrade", "Prime Minister") from a name; keep it if nothing is left."""
    stripped = _HONORIFIC.sub("", text.lower() + " ").strip()
    return text[len(text) - len(stripped):] if stripped and text.lower().endswith(stripped) else text


def variants(written: str) -> list[str]:
    """Return the forms a bracketed name is tried under, in order (see the module docstring)."""
    forms = [written]
    m = _BRACKETED.search(written)
    if m:
        joined = _BRACKETED.sub(lambda x: " " + x.group("inside") + " ", written)
        outside = _BRACKETED.sub(" ", written)
        inside = " ".join(x.group("inside") for x in _BRACKETED.finditer(written))
        ordered = [inside, outside] if m.group("open") == "[" else [outside, inside]
        forms += [joined, *ordered]
    out: list[str] = []
    for form in forms:
        form = " ".join(form.split())
        if form and form not in out:
            out.append(form)
    return out


_MEMO = 200_000  # names a reconciler remembers; a crude bound, cleared when reached

@dataclass(frozen=True)
class Match:
    """How a name was matched: the entry (None when unmatched), method, score and label matched."""

    authority: Authority | None
    method: str
    score: float | None = None
    label: str | None = None
    candidates: tuple[Authority, ...] = ()  # several entries fit equally: nothing was chosen

    @property
    def reconciled(self) -> bool:
        return self.authority is not None


@dataclass(frozen=True)
class Outcome:
    """Report one name of one record: what was written, where, and what it was linked to."""

    field: str  # the record field ("senders", "associated_places", "mention in body", ...)
    written: str
    kind: str  # the kind of resource linked: agent, place, event, topic, type, collection, language
    uri: URIRef | None
    label: str
    method: str
    score: float | None = None
    matched_label: str | None = None
    candidates: tuple[str, ...] = field(default=())

    @property
    def reconciled(self) -> bool:
        return self.method != UNRECONCILED

    def message(self) -> str:
        """Say in one line what happened to the name ("'Zhou Enali' -> Zhou Enlai (fuzzy, 90.0)")."""
        if self.method == FUZZY:
            return (f"{self.field}: {self.written!r} matched {self.label} by fuzzy matching "
                    f"(score {self.score:.1f} against {self.matched_label!r}); please review")
        if self.method == UNRECONCILED:
            why = f"; it fits several entries equally: {', '.join(self.candidates)}" if self.candidates else ""
            target = f"published as a new unreconciled {self.kind} <{self.uri}>" if self.uri else "not linked"
            return f"{self.field}: {self.written!r} matches no authority entry{why}; {target}"
        return f"{self.field}: {self.written!r} matched {self.label} ({self.method})"

    def to_dict(self) -> dict:
        return {
            "field": self.field,
            "written": self.written,
            "kind": self.kind,
            "uri": str(self.uri) if self.uri else None,
            "label": self.label,
            "method": self.method,
            "score": self.score,
            "matched_label": self.matched_label,
            "candidates": list(self.candidates),
        }


class Reconciler:
    """Match names to authority entries; build once from the authorities and the threshold."""

    def __init__(self, authorities: Authorities, threshold: float):
        if not 0 < threshold <= 100:
            raise ValueError(f"fuzzy_threshold must be between 0 and 100, not {threshold}")
        self.authorities = authorities
        self.threshold = float(threshold)
        self._exact: dict[str, list[tuple[Authority, str]]] = {}
        self._alt: dict[str, list[tuple[Authority, str]]] = {}
        self._norm: dict[str, list[tuple[Authority, str]]] = {}
        self._fuzzy: dict[str, list[tuple[str, Authority, str]]] = {}  # kind -> (normalized, entry, label)
        self._memo: Memo[Match] = Memo(_MEMO)
        for a in authorities.entries:
            for name, preferred in a.names():
                (self._exact if preferred else self._alt).setdefault(name, []).append((a, name))
                key = normalize(name)
                self._norm.setdefault(key, []).append((a, name))
                self._norm.setdefault(key.replace(" ", ""), []).append((a, name))
                self._fuzzy.setdefault(a.kind, []).append((key, a, name))

    def match(self, written: str, kinds: Iterable[str], fuzzy: bool = True) -> Match:
        """Match ``written`` against entries of ``kinds`` (e.g. ("person", "organization")).

        Remembered per reconciler (its entries never change): a few correspondents write most
        records, so most names come again and again.
        """
        kinds = tuple(kinds)
        return self._memo.get_or((written, kinds, fuzzy), lambda: self._match(written, kinds, fuzzy))

    def _match(self, written: str, kinds: tuple[str, ...], fuzzy: bool) -> Match:
        text = " ".join(written.split())
        if not text:
            return Match(None, UNRECONCILED)
        for method, table in ((EXACT, self._exact), (ALTERNATIVE, self._alt)):
            found = self._pick(table.get(text, []), kinds)
            if found is not None:
                return _with_method(found, method)
        honorifics = any(k in AGENT_KINDS for k in kinds)
        forms = variants(text)
        for form in forms:
            for key in _keys(form, honorifics):
                found = self._pick(self._norm.get(key, []), kinds)
                if found is not None:
                    return _with_method(found, NORMALIZED)
        if fuzzy:
            for form in forms:
                found = self._fuzzy_match(normalize(form, honorifics), kinds)
                if found is not None:
                    return found
        return Match(None, UNRECONCILED)

    def _pick(self, hits: list[tuple[Authority, str]], kinds: tuple[str, ...]) -> Match | None:
        hits = [(a, label) for a, label in hits if a.kind in kinds]
        if not hits:
            return None
        entries = tuple({a.uri: a for a, _ in hits}.values())
        if len(entries) > 1:
            return Match(None, UNRECONCILED, None, None, entries)
        return Match(entries[0], "", 100.0, hits[0][1])

    def _fuzzy_match(self, query: str, kinds: tuple[str, ...]) -> Match | None:
        if len(query.replace(" ", "")) < _MIN_FUZZY_LENGTH:
            return None
        choices = [c for kind in kinds for c in self._fuzzy.get(kind, [])]
        if not choices:
            return None
        keys = [c[0] for c in choices]
        best: dict[URIRef, tuple[float, Authority, str]] = {}
        for scorer in (fuzz.ratio, fuzz.token_sort_ratio):
            for key, score, i in process.extract(query, keys, scorer=scorer, score_cutoff=self.threshold,
                                                 limit=None):
                _, a, label = choices[i]
                if _part_of(query, key):
                    continue  # "Central Committee" is not a misspelling of "CCP Central Committee"
                if a.uri not in best or score > best[a.uri][0]:
                    best[a.uri] = (score, a, label)
        if not best:
            return None
        ranked = sorted(best.values(), key=lambda x: -x[0])
        top = ranked[0]
        tied = tuple(x[1] for x in ranked if x[0] == top[0])
        if len(tied) > 1:
            return Match(None, UNRECONCILED, round(top[0], 1), None, tied)
        return Match(top[1], FUZZY, round(top[0], 1), top[2])


def _part_of(a: str, b: str) -> bool:
    """Say whether one name is the other with whole words missing."""
    wa, wb = set(a.split()), set(b.split())
    return wa != wb and (wa <= wb or wb <= wa)


def _keys(form: str, honorifics: bool) -> list[str]:
    keys = []
    for h in (False, True) if honorifics else (False,):
        key = normalize(form, h)
        for k in (key, key.replace(" ", "")):
            if k and k not in keys:
                keys.append(k)
    return keys


def _with_method(found: Match, method: str) -> Match:
    return found if found.authority is None else Match(found.authority, method, found.score, found.label)


_ORGANIZATION_WORDS = re.compile(
    r"\b(committee|ministry|party|army|embassy|government|department|council|bureau|office|commission|"
    r"program|programme|project|foundation|center|centre|institute|university|archives?|front|league|"
    r"union|association|command|headquarters|politburo|secretariat|delegation|presidium|congress|"
    r"assembly|agency|service|division|corps|brigade|regiment|fleet|republic|kingdom|state|states|"
    r"people's|peoples|group|organization|organisation|company|corporation|bank|press|agency|legation|"
    r"consulate|mission|staff|cc)\b",
    re.I,
)


def guess_agent_kind(name: str) -> str:
    """Guess "organization" or "person" for a name no authority knows (flagged for review anyway)."""
    if _ORGANIZATION_WORDS.search(name) or re.search(r"\b[A-Z]{2,}\b", name):
        return "organization"
    return "person"
