"""Map SPARQL query-result formats (SELECT and ASK answers) in one table, beside ``docket.formats``.

``docket.formats`` holds the RDF formats (CONSTRUCT and DESCRIBE answers); this table holds the four
tabular and boolean result formats of SPARQL 1.1, with the media types clients actually send.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class ResultFormat:
    """One SPARQL results serialization and every name it goes by."""

    name: str
    media_type: str
    extension: str
    content_type: str  # what the response says, charset included where the type has one
    iri: str  # the W3C unique URI for the format (http://www.w3.org/ns/formats/), for sd:resultFormat
    aliases: tuple[str, ...] = ()

    @property
    def oxigraph(self) -> ox.QueryResultsFormat:
        return _OX[self.name]


_NS = "http://www.w3.org/ns/formats/"

RESULT_FORMATS: tuple[ResultFormat, ...] = (
    ResultFormat("json", "application/sparql-results+json", "srj", "application/sparql-results+json",
                 _NS + "SPARQL_Results_JSON", ("application/json", "text/javascript", "application/javascript")),
    ResultFormat("xml", "application/sparql-results+xml", "srx", "application/sparql-results+xml",
                 _NS + "SPARQL_Results_XML", ("application/xml", "text/xml")),
    ResultFormat("csv", "text/csv", "csv", "text/csv; charset=utf-8", _NS + "SPARQL_Results_CSV"),
    ResultFormat("tsv", "text/tab-separated-values", "tsv", "text/tab-separated-values; charset=utf-8",
                 _NS + "SPARQL_Results_TSV"),
)

_OX = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}

_INDEX: dict[str, ResultFormat] = {}
for _f in RESULT_FORMATS:
    for _key in (_f.name, _f.media_type, _f.extension, *_f.aliases):
        _INDEX.setdefault(_key.lower(), _f)


def lookup(key: str) -> ResultFormat:
    """Find a result format by name, media type (parameters ignored), alias or extension."""
    try:
        return _INDEX[key.lower().lstrip(".").split(";")[0].strip()]
    except KeyError:
        known = ", ".join(f.name for f in RESULT_FORMATS)
        raise KeyError(f"unknown SPARQL result format {key!r}; known formats: {known}") from None


def media_types() -> list[tuple[str, ResultFormat]]:
    """List (media type, format) pairs in order of preference, canonical types before aliases."""
    pairs = [(f.media_type, f) for f in RESULT_FORMATS]
    pairs += [(alias, f) for f in RESULT_FORMATS for alias in f.aliases if "/" in alias]
    return pairs
