"""Make a record's text and IRIs fit every RDF syntax Docket publishes.

Turtle, JSON-LD and N-Triples can carry any character, RDF/XML only those XML 1.0 allows; the few
it cannot (C0 control characters, U+FFFE, U+FFFF) are removed from a copy of the record, and the
fields that held them are named so the mapping can report them.
"""

from __future__ import annotations

import copy
import re

from docket.ingest.model import RECORD_FIELDS, DateValue, Name, Record

# RFC 3987: a scheme, then unreserved, sub-delims, ":@/?", percent-escapes, at most one "#", and
# non-ASCII characters outside controls and non-characters.
_IRI = re.compile(
    r"^[A-Za-z][A-Za-z0-9+.-]*:"
    r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2}|[\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U000efffd])+"
    r"(?:#(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2}|[\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U000efffd])*)?$"
)
# Characters XML 1.0 cannot carry (so RDF/XML could not publish them): removed and reported.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def is_iri(text: str) -> bool:
    """Say whether ``text`` is an absolute IRI that every RDF syntax can carry."""
    return bool(_IRI.match(text))


def _clean(value):
    if isinstance(value, str):
        return _NOT_XML.sub("", value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, Name):
        ident = _clean(value.identified_as) if value.identified_as is not None else None
        return Name(_clean(value.written), _clean(value.name), ident)
    if isinstance(value, DateValue):
        return DateValue(_clean(value.text), value.iso, _clean(value.where))
    return value


def _blank(value) -> bool:
    if isinstance(value, Name):
        return not value.written.strip()
    return isinstance(value, str) and not value.strip()


def cleaned(record: Record) -> tuple[Record, list[str]]:
    """Return a copy of ``record`` fit for RDF, and the fields that held characters XML cannot carry.

    Those characters are removed; blank names and list items are dropped and blank optional texts
    become absent, since there is nothing in them to publish.
    """
    out = copy.copy(record)
    changed = []
    for name in RECORD_FIELDS:
        value = getattr(record, name, None)
        clean = _clean(value)
        if clean != value:
            changed.append(name)
        if isinstance(clean, list):
            clean = [v for v in clean if not _blank(v)]
        elif _blank(clean) and value is not None and name not in ("title", "record_id"):
            clean = None
        if clean != value:
            setattr(out, name, clean)
    return out, changed
