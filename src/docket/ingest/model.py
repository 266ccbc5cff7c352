"""Describe a record as read from its source, with no RDF in it.

A ``Record`` holds plain values; ``Record.provenance`` remembers for each field whether it was
found in the source, derived from another field (and which), or absent. Readers set fields through
``Record.found`` and ``Record.derived`` so that the two never drift apart. Problems that do not stop
a record (a missing record ID, two dates that disagree) are kept on it as ``Problem``s; input that
cannot become a record at all is a ``Rejection``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

FOUND = "found"
DERIVED = "derived"
ABSENT = "absent"
Status = Literal["found", "derived", "absent"]

WARNING = "warning"
INFO = "info"


@dataclass(frozen=True)
class Provenance:
    """Say where a field's value came from."""

    status: Status
    source: str = ""  # for found: where in the source ("date line", "Document Information: Rights");
    # for derived: what it was derived from ("title", "citation")


@dataclass(frozen=True)
class SourceRef:
    """Point at a record's place in its source: the file and the record's position there."""

    file: str
    position: int = 1  # 1-based: the n-th record in the file
    line: int | None = None  # 1-based line where the record starts, when the format has lines

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else f"record {self.position}"
        return f"{self.file}, {where}"


@dataclass(frozen=True)
class Name:
    """Name a person or organization exactly as the source writes it.

    ``written`` is kept verbatim ("Filippov [Stalin]"); ``name`` is the part outside brackets
    ("Filippov") and ``identified_as`` the bracketed identification ("Stalin"), if any.
    """

    written: str
    name: str = ""
    identified_as: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Name":
        """Split a written name into name and bracketed identification."""
        written = " ".join(text.split())
        # Only a trailing bracket identifies ("Filippov [Stalin]"); a leading one is part of the name.
        if written[-1:] in ("]", ")"):
            opener = "[" if written[-1] == "]" else "("
            start = written.rfind(opener)
            name, ident = written[:start].strip(), written[start + 1 : -1].strip()
            if start > 0 and name and ident and not any(c in ident for c in "[]()"):
                return cls(written, name, ident)
        return cls(written, written, None)

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.written)


@dataclass(frozen=True)
class DateValue:
    """Hold a date as the source writes it and as ISO 8601 (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``)."""

    text: str
    iso: str | None
    where: str = ""  # "date line", "title", "citation", "signature", ...

    @property
    def precision(self) -> str | None:
        """Return "year", "month" or "day", or None when the date could not be read."""
        if not self.iso:
            return None
        return {4: "year", 7: "month", 10: "day"}.get(len(self.iso))


@dataclass(frozen=True)
class Problem:
    """Record something a reader noticed that does not stop the record."""

    field: str
    message: str
    code: str
    severity: str = WARNING
    focus: str | None = None  # the IRI of the resource it is about (an unreconciled name's new resource)


@dataclass(frozen=True)
class Rejection:
    """List input that could not become a record, with the reason."""

    source: SourceRef
    field: str
    message: str
    code: str

    def __str__(self) -> str:
        field_part = f", field {self.field!r}" if self.field else ""
        return f"{self.source}{field_part}: {self.message}"


# Fields whose provenance is tracked; everything a reader can fill in.
RECORD_FIELDS = (
    "record_id",
    "source_url",
    "date",
    "other_dates",
    "title",
    "subtitle",
    "doc_type",
    "senders",
    "addressees",
    "intermediaries",
    "participants",
    "authors",
    "salutation",
    "body",
    "signature",
    "signature_date",
    "signature_place",
    "summary",
    "citations",
    "original_archive",
    "translators",
    "translation_statement",
    "translated_for",
    "original_language",
    "funder_credit",
    "rights",
    "uploaded_date",
    "languages",
    "associated_agents",
    "associated_places",
    "associated_topics",
    "subjects",
    "collections",
)


@dataclass
class Record:
    """Hold one archival record as read from its source."""

    source: SourceRef
    id: str = ""  # the stable ID assigned by the registry (not the source's record_id)
    record_id: str = ""  # as the source gives it; empty when absent
    source_url: str | None = None
    date: DateValue | None = None
    other_dates: list[DateValue] = field(default_factory=list)  # second dates stated elsewhere
    title: str = ""
    subtitle: str | None = None  # a quoted subtitle in the title ("'Arriving in Nanning on the 29th'")
    doc_type: str | None = None  # Telegram, Cable, Memorandum, Minutes, Record of Conversation, ...
    senders: list[Name] = field(default_factory=list)
    addressees: list[Name] = field(default_factory=list)
    intermediaries: list[Name] = field(default_factory=list)  # "for conveying to"
    participants: list[Name] = field(default_factory=list)  # conversations and meetings
    authors: list[Name] = field(default_factory=list)  # the page's "Author(s):" label
    salutation: str | None = None  # the opening address line, verbatim ("... for conveying to ...:")
    body: list[str] = field(default_factory=list)  # paragraphs, editorial brackets kept exactly
    signature: str | None = None
    signature_date: DateValue | None = None
    signature_place: str | None = None
    summary: str | None = None
    citations: list[str] = field(default_factory=list)
    original_archive: str | None = None
    translators: list[Name] = field(default_factory=list)
    translation_statement: str | None = None  # "Translated for CWIHP by Chen Jian."
    translated_for: str | None = None  # "CWIHP"
    original_language: str | None = None
    funder_credit: str | None = None  # "This document was made possible with support from ..."
    rights: str | None = None
    uploaded_date: DateValue | None = None
    languages: list[str] = field(default_factory=list)
    associated_agents: list[str] = field(default_factory=list)
    associated_places: list[str] = field(default_factory=list)
    associated_topics: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    layout: str = ""  # which reader/layout produced it: "page/current", "page/older", "json", "csv"
    provenance: dict[str, Provenance] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def found(self, name: str, value: Any, where: str = "") -> None:
        """Set field ``name`` to a value read directly from the source at ``where``."""
        self._set(name, value, Provenance(FOUND, where))

    def derived(self, name: str, value: Any, derived_from: str) -> None:
        """Set field ``name`` to a value derived from another field or passage."""
        self._set(name, value, Provenance(DERIVED, derived_from))

    def _set(self, name: str, value: Any, prov: Provenance) -> None:
        if name not in RECORD_FIELDS:
            raise AttributeError(f"Record has no field {name!r}")
        setattr(self, name, value)
        self.provenance[name] = prov if _present(value) else Provenance(ABSENT, prov.source)

    def status(self, name: str) -> Provenance:
        """Return the field's provenance; a field never set is absent."""
        if name not in RECORD_FIELDS:
            raise AttributeError(f"Record has no field {name!r}")
        prov = self.provenance.get(name)
        if prov is None:
            return Provenance(FOUND if _present(getattr(self, name)) else ABSENT)
        return prov

    def warn(self, field_name: str, message: str, code: str, severity: str = WARNING) -> None:
        """Note a problem that does not stop the record."""
        self.problems.append(Problem(field_name, message, code, severity))

    def fingerprint(self) -> str:
        """Hash what the record says, not where it was read: a moved file is not a changed record.

        Canonical JSON of the fields as they are (sorted keys), without ``to_dict()``'s deep copy,
        which cost most of a millisecond per record.
        """
        data = dict(vars(self), source=None)
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain)
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """Return every field as plain JSON-ready data (the ingest report's form)."""
        data = dataclasses.asdict(self)
        data["provenance"] = {k: dataclasses.asdict(self.status(k)) for k in RECORD_FIELDS}
        return data


def _plain(value: Any) -> Any:
    return vars(value) if dataclasses.is_dataclass(value) else str(value)


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, (str, list, tuple, dict)):
        return bool(value)
    return True
