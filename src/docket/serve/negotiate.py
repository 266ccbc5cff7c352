"""Choose a representation from ``?format=``, a file extension, or the Accept header.

A ``Negotiator`` holds one interface's offers: ``DESCRIPTIONS`` for dereferenced resources (the
module-level functions), and the fragments interface builds its own with the quad formats added.
RDF formats come from ``docket.formats`` (the one table); HTML sits beside them here because it is
not an RDF serialization. Descriptions are triples, so the quad formats (N-Quads, TriG) are not
offered there: a client that prefers them (Comunica does) gets its best triple format instead.

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


# Other names clients use for the same media types, answered with the type they asked for (a client
# asking only for application/json gets JSON-LD labelled application/json).
_ALIASES = {
    "application/xhtml+xml": HTML,
    "application/json": "jsonld",
    "application/x-turtle": "turtle",
    # N-Triples' media type before 2014; rdflib still asks for it when told to read "nt".
    "text/plain": "ntriples",
}


class NotAcceptable(Exception):
    """Nothing the client accepts can be sent; carries the alternatives to list in the 406."""

    def __init__(self, message: str, alternatives: tuple[Representation, ...]):
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


class Negotiator:
    """Choose among one interface's representations; on equal quality the first offered wins."""

    def __init__(self, representations: tuple[Representation, ...]):
        self.representations = representations
        self.default = representations[0]
        self._by_name = {r.name: r for r in representations}
        self._by_extension = {r.extension: r for r in representations}
        self._offers: dict[str, Representation] = {r.media_type: r for r in representations}
        for alias, name in _ALIASES.items():
            if name in self._by_name:
                self._offers.setdefault(alias, self._by_name[name])
        self.media_types = tuple(self._offers)

    def by_extension(self, extension: str) -> Representation | None:
        """Return the representation a file extension names (``ttl``, ``html``, ...), or None."""
        return self._by_extension.get(extension.lower())

    def by_format_parameter(self, value: str) -> Representation:
        """Read ``?format=`` by any name the format table knows (``ttl``, ``turtle``, ``text/turtle``, ``html``)."""
        key = value.strip().lower()
        if key in (HTML, HTML_MEDIA_TYPE, "htm") and HTML in self._by_name:
            return self._by_name[HTML]
        try:
            name = formats.lookup(key).name
        except KeyError:
            name = ""
        if name in self._by_name:
            return self._by_name[name]
        known = ", ".join(r.extension for r in self.representations)
        raise UnknownFormat(f"unknown format {value!r}; use one of {known}")

    def by_accept(self, accept: MIMEAccept) -> Choice:
        """Pick the best representation for an Accept header; no header at all means the default."""
        if not accept:
            return Choice(self.default, self.default.media_type, False)
        best = accept.best_match(self.media_types)
        if best is None:
            raise NotAcceptable(f"none of the media types offered is acceptable ({accept.to_header()})",
                                self.representations)
        return Choice(self._offers[best], best, False)

    def choose(self, accept: MIMEAccept, format_parameter: str | None = None,
               extension: str | None = None) -> Choice:
        """Choose by extension, else by ``?format=``, else by Accept; raise ``NotAcceptable``/``UnknownFormat``."""
        if extension:
            representation = self.by_extension(extension)
            if representation is None:
                raise UnknownFormat(f"unknown extension .{extension}")
            return Choice(representation, representation.media_type, True)
        if format_parameter:
            representation = self.by_format_parameter(format_parameter)
            return Choice(representation, representation.media_type, True)
        return self.by_accept(accept)


def rdf(name: str) -> Representation:
    """Return the representation of an RDF format of the format table."""
    f = formats.lookup(name)
    return Representation(f.name, f.media_type, f.extension)


HTML_PAGE = Representation(HTML, HTML_MEDIA_TYPE, "html")
# Descriptions are triples: Turtle first (for */* and no Accept), then the page, then the others.
DESCRIPTIONS = Negotiator((rdf("turtle"), HTML_PAGE, rdf("jsonld"), rdf("rdfxml"), rdf("ntriples")))
REPRESENTATIONS = DESCRIPTIONS.representations
DEFAULT = DESCRIPTIONS.default
OFFERED_MEDIA_TYPES = DESCRIPTIONS.media_types
by_extension = DESCRIPTIONS.by_extension
by_format_parameter = DESCRIPTIONS.by_format_parameter
by_accept = DESCRIPTIONS.by_accept
choose = DESCRIPTIONS.choose


def split_extension(segment: str) -> tuple[str, Representation | None]:
    """Split ``slug.ttl`` into (``slug``, Turtle); a segment without a known extension stays whole."""
    stem, dot, ext = segment.rpartition(".")
    if dot and stem:
        representation = by_extension(ext)
        if representation is not None:
            return stem, representation
    return segment, None
