"""Map RDF format names, media types, file extensions and rdflib/pyoxigraph formats in one table.

Content negotiation, file output and dumps all look formats up here, by any of their keys.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    """One RDF serialization and every name it goes by."""

    name: str
    media_type: str
    extension: str
    rdflib: str
    aliases: tuple[str, ...] = ()
    quads: bool = False


FORMATS: tuple[Format, ...] = (
    Format("turtle", "text/turtle", "ttl", "turtle", ("application/x-turtle", "ttl")),
    Format("jsonld", "application/ld+json", "jsonld", "json-ld", ("json-ld", "application/json", "json")),
    Format("rdfxml", "application/rdf+xml", "rdf", "xml", ("xml", "rdf", "owl")),
    Format("ntriples", "application/n-triples", "nt", "nt", ("nt", "text/plain", "n-triples")),
    Format("nquads", "application/n-quads", "nq", "nquads", ("nq", "n-quads"), quads=True),
    Format("trig", "application/trig", "trig", "trig", (), quads=True),
)

_INDEX: dict[str, Format] = {}
for _f in FORMATS:
    for _key in (_f.name, _f.media_type, _f.extension, _f.rdflib, *_f.aliases):
        _INDEX.setdefault(_key.lower(), _f)


def lookup(key: str) -> Format:
    """Find a format by name, media type, extension (with or without dot) or rdflib name."""
    try:
        return _INDEX[key.lower().lstrip(".").split(";")[0].strip()]
    except KeyError:
        known = ", ".join(f.name for f in FORMATS)
        raise KeyError(f"unknown RDF format {key!r}; known formats: {known}") from None


def for_path(path: str) -> Format:
    """Find the format a file name's extension names."""
    suffix = path.rsplit(".", 1)[-1] if "." in path else ""
    return lookup(suffix)
