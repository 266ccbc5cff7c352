"""Choose a description's representation from ``?format=``, a file extension, or the Accept header.

RDF formats come from ``docket.formats`` (the one table); HTML sits beside them here because it is
not an RDF serialization. Descriptions are triples, so the quad formats (N-Quads, TriG) are not
offered: a client that prefers them (Comunica does) gets its best triple format instead.

Accept is parsed by werkzeug (q-values, specificity); when qualities tie, the first offer below
wins, which makes ``*/*`` (curl's default) and a missing Accept header get Turtle.
"""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MIMEAccept

from docket import formats

HTML = "html"
HTML_MEDIA_TYPE = "text/html"


@dataclass(frozen=True)
class Representation:
    """One way a description can be sent: a name, its media type, file extension and pyoxigraph key."""

    name: str
    media_type: str
    extension: str

    @property
    def is_html(self) -> bool:
        return self.name == HTML


def _rdf(name: str) -> Representation:
    f = formats.lookup(name)
    return Representation(f.name, f.media_type, f.extension)


# Order matters: on equal quality the first wins (Turtle for */*).
REPRESENTATIONS: tuple[Representation, ...] = (
    _rdf("turtle"),
    Representation(HTML, HTML_MEDIA_TYPE, "html"),
    _rdf("jsonld"),
    _rdf("rdfxml"),
    _rdf("ntriples"),
)
DEFAULT = REPRESENTATIONS[0]
_BY_NAME = {r.name: r for r in REPRESENTATIONS}
_BY_EXTENSION = {r.extension: r for r in REPRESENTATIONS}

# Media types a client may ask for, mapped to what is sent. Aliases answer with their own type
# (a client asking only for application/json gets JSON-LD labelled application/json).
_OFFERS: tuple[tuple[str, Representation], ...] = (
    *((r.media_type, r) for r in REPRESENTATIONS),
    ("application/xhtml+xml", _BY_NAME[HTML]),
    ("application/json", _BY_NAME["jsonld"]),
    ("application/x-turtle", _BY_NAME["turtle"]),
    # N-Triples' media type before 2014; rdflib still asks for it when told to read "nt".
    ("text/plain", _BY_NAME["ntriples"]),
)
OFFERED_MEDIA_TYPES = tuple(media for media, _ in _OFFERS)


class NotAcceptable(Exception):
    """Nothing the client accepts can be sent; carries the alternatives to list in the 406."""

    def __init__(self, message: str, alternatives: tuple[Representation, ...] = REPRESENTATIONS):
        super().__init__(message)
        self.alternatives = alternatives


class UnknownFormat(ValueError):
    """``?format=`` names no representation."""


@dataclass(frozen=True)
class Choice:
    """The representation chosen and the media type to label it with."""

    representation: Representation
    media_type: str
    explicit: bool  # chosen by extension or ?format=, not by Accept

    @property
    def content_type(self) -> str:
        text = self.media_type.startswith("text/") or self.media_type.endswith(("+xml", "json", "+json"))
        return f"{self.media_type}; charset=utf-8" if text or self.representation.name == "ntriples" else self.media_type


def by_extension(extension: str) -> Representation | None:
    """Return the representation a file extension names (``ttl``, ``html``, ...), or None."""
    return _BY_EXTENSION.get(extension.lower())


def by_format_parameter(value: str) -> Representation:
    """Read ``?format=`` by any name the format table knows (``ttl``, ``turtle``, ``text/turtle``, ``html``)."""
    key = value.strip().lower()
    if key in (HTML, HTML_MEDIA_TYPE, "htm"):
        return _BY_NAME[HTML]
    try:
        name = formats.lookup(key).name
    except KeyError:
        name = ""
    if name in _BY_NAME:
        return _BY_NAME[name]
    known = ", ".join(r.extension for r in REPRESENTATIONS)
    raise UnknownFormat(f"unknown format {value!r}; use one of {known}")


def by_accept(accept: MIMEAccept) -> Choice:
    """Pick the best representation for an Accept header; no header at all means Turtle."""
    if not accept:
        return Choice(DEFAULT, DEFAULT.media_type, False)
    best = accept.best_match(OFFERED_MEDIA_TYPES)
    if best is None:
        raise NotAcceptable(f"none of the media types offered is acceptable ({accept.to_header()})")
    representation = dict(_OFFERS)[best]
    return Choice(representation, best, False)


def choose(accept: MIMEAccept, format_parameter: str | None = None, extension: str | None = None) -> Choice:
    """Choose by extension, else by ``?format=``, else by Accept; raise ``NotAcceptable``/``UnknownFormat``."""
    if extension:
        representation = by_extension(extension)
        if representation is None:
            raise UnknownFormat(f"unknown extension .{extension}")
        return Choice(representation, representation.media_type, True)
    if format_parameter:
        representation = by_format_parameter(format_parameter)
        return Choice(representation, representation.media_type, True)
    return by_accept(accept)


def split_extension(segment: str) -> tuple[str, Representation | None]:
    """Split ``slug.ttl`` into (``slug``, Turtle); a segment without a known extension stays whole."""
    stem, dot, ext = segment.rpartition(".")
    if dot and stem:
        representation = by_extension(ext)
        if representation is not None:
            return stem, representation
    return segment, None
