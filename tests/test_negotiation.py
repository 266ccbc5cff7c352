"""Content negotiation, table-driven: headers and parameters -> status, location, media type.

The table runs against the app over a small published build (tests/site_helpers.py); the
negotiation functions are also checked on their own.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from docket.serve import negotiate
from site_helpers import BASE, SEED_ID, client, site_app, site_settings_built  # noqa: F401  (fixtures)

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
COMUNICA = ("application/n-quads,application/trig;q=0.95,application/ld+json;q=0.9,application/n-triples;q=0.8,"
            "text/turtle;q=0.6,application/rdf+xml;q=0.5,text/n3;q=0.35,application/xml;q=0.3,"
            "image/svg+xml;q=0.3,text/xml;q=0.3,text/html;q=0.2,application/xhtml+xml;q=0.18,"
            "application/json;q=0.135,text/shaclc;q=0.1,text/shaclc-ext;q=0.05")
RDFLIB = "application/rdf+xml, text/n3, text/turtle, application/n-triples, application/ld+json;q=0.9"

ID = f"/id/record/{SEED_ID}"
DOC = f"/doc/record/{SEED_ID}"
DOC_URL = f"{BASE}doc/record/{SEED_ID}"

# (path, Accept or None, status, Location or None, Content-Type media type or None)
TABLE = [
    # id/ -> 303 to the document in the chosen format
    (ID, None, 303, f"{DOC_URL}.ttl", None),
    (ID, "*/*", 303, f"{DOC_URL}.ttl", None),
    (ID, BROWSER, 303, f"{DOC_URL}.html", None),
    (ID, FIREFOX, 303, f"{DOC_URL}.html", None),
    (ID, COMUNICA, 303, f"{DOC_URL}.jsonld", None),
    (ID, RDFLIB, 303, f"{DOC_URL}.ttl", None),  # equal q: the first offer (Turtle) over RDF/XML
    (ID, "application/rdf+xml", 303, f"{DOC_URL}.rdf", None),
    (ID, "application/n-triples", 303, f"{DOC_URL}.nt", None),
    (ID, "application/ld+json", 303, f"{DOC_URL}.jsonld", None),
    (ID, "application/json", 303, f"{DOC_URL}.jsonld", None),
    (ID, "text/plain, */*;q=0.1", 303, f"{DOC_URL}.nt", None),  # rdflib reading "nt"
    (ID, "text/turtle;q=0.5, application/ld+json;q=0.9", 303, f"{DOC_URL}.jsonld", None),
    (ID, "text/*;q=0.9, text/html;q=0.1", 303, f"{DOC_URL}.ttl", None),  # specificity does not beat q
    (ID, "text/html;q=0, */*;q=0.1", 303, f"{DOC_URL}.ttl", None),
    (ID, "application/xhtml+xml", 303, f"{DOC_URL}.html", None),
    (ID, "image/png", 406, None, "text/plain"),
    (ID, "application/xml", 406, None, "text/plain"),  # RDF/XML is not offered as generic XML
    (ID, "application/n-quads", 406, None, "text/plain"),  # a description has no named graphs
    (f"{ID}?format=jsonld", BROWSER, 303, f"{DOC_URL}.jsonld", None),
    (f"{ID}?format=html", "text/turtle", 303, f"{DOC_URL}.html", None),
    (f"{ID}?format=text/turtle", None, 303, f"{DOC_URL}.ttl", None),
    (f"{ID}?format=pdf", None, 400, None, "text/plain"),
    # doc/ without extension: negotiated in place
    (DOC, None, 200, None, "text/turtle"),
    (DOC, BROWSER, 200, None, "text/html"),
    (DOC, COMUNICA, 200, None, "application/ld+json"),
    (DOC, "application/json", 200, None, "application/json"),
    (DOC, "text/plain", 200, None, "text/plain"),
    (DOC, "application/rdf+xml", 200, None, "application/rdf+xml"),
    (DOC, "image/png", 406, None, "text/plain"),
    (f"{DOC}?format=nt", BROWSER, 200, None, "application/n-triples"),
    (f"{DOC}?format=rdf", None, 200, None, "application/rdf+xml"),
    # doc/ with an extension: the extension wins over Accept
    (f"{DOC}.ttl", BROWSER, 200, None, "text/turtle"),
    (f"{DOC}.html", "application/ld+json", 200, None, "text/html"),
    (f"{DOC}.jsonld", None, 200, None, "application/ld+json"),
    (f"{DOC}.rdf", None, 200, None, "application/rdf+xml"),
    (f"{DOC}.nt", None, 200, None, "application/n-triples"),
    (f"{DOC}.nt", "image/png", 200, None, "application/n-triples"),
    # the ontology at its namespace
    ("/ontology", None, 200, None, "text/turtle"),
    ("/ontology", BROWSER, 200, None, "text/html"),
    ("/ontology", COMUNICA, 200, None, "application/ld+json"),
    ("/ontology.rdf", BROWSER, 200, None, "application/rdf+xml"),
    ("/ontology", "image/png", 406, None, "text/plain"),
]


@pytest.mark.parametrize("path,accept,status,location,media_type", TABLE,
                         ids=[f"{p} [{a}]" for p, a, *_ in TABLE])
def test_negotiation_table(client, path, accept, status, location, media_type):
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get(path, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.headers.get("Location") == location
    if media_type is not None:
        assert response.mimetype == media_type
    assert "Accept" in response.headers.get("Vary", "")


def test_406_lists_every_alternative_in_the_body_and_links(client):
    response = client.get(ID, headers={"Accept": "image/png"})
    body = response.get_data(as_text=True)
    for r in negotiate.REPRESENTATIONS:
        assert r.media_type in body and f"{DOC_URL}.{r.extension}" in body
    alternates = [link for link in response.headers.getlist("Link") if 'rel="alternate"' in link]
    assert len(alternates) == len(negotiate.REPRESENTATIONS)


def test_negotiated_document_names_the_one_it_sent(client):
    response = client.get(DOC, headers={"Accept": BROWSER})
    assert response.headers["Content-Location"] == f"{DOC_URL}.html"
    response = client.get(f"{DOC}.ttl")
    assert "Content-Location" not in response.headers


def accept(header: str) -> MIMEAccept:
    return parse_accept_header(header, MIMEAccept)


@pytest.mark.parametrize("header,expected", [
    (BROWSER, "html"), (COMUNICA, "jsonld"), ("*/*", "turtle"), ("", "turtle"),
    ("application/n-triples;q=1, text/turtle;q=0.99", "ntriples"),
    ("text/turtle;q=0.1, application/rdf+xml;q=0.2", "rdfxml"),
    ("application/*", "jsonld"),
])
def test_choose_by_accept(header, expected):
    assert negotiate.choose(accept(header)).representation.name == expected


def test_choose_prefers_extension_then_format_then_accept():
    assert negotiate.choose(accept(BROWSER), "nt", "ttl").representation.name == "turtle"
    assert negotiate.choose(accept(BROWSER), "nt").representation.name == "ntriples"
    with pytest.raises(negotiate.NotAcceptable):
        negotiate.choose(accept("image/png"))
    with pytest.raises(negotiate.UnknownFormat, match="ttl"):
        negotiate.choose(accept("*/*"), "docx")


@pytest.mark.parametrize("segment,slug,extension", [
    ("zhou-enlai.ttl", "zhou-enlai", "ttl"), ("zhou-enlai", "zhou-enlai", None),
    ("v1.2", "v1.2", None), ("a.b.jsonld", "a.b", "jsonld"), (".ttl", ".ttl", None),
])
def test_split_extension(segment, slug, extension):
    found, representation = negotiate.split_extension(segment)
    assert found == slug
    assert (representation.extension if representation else None) == extension


def test_every_rdf_representation_comes_from_the_format_table():
    from docket import formats

    for r in negotiate.REPRESENTATIONS:
        if not r.is_html:
            f = formats.lookup(r.name)
            assert (f.media_type, f.extension) == (r.media_type, r.extension)


MEDIA = ["text/html", "application/xhtml+xml", "application/xml", "text/turtle", "application/ld+json",
         "application/json", "application/rdf+xml", "application/n-triples", "application/n-quads",
         "application/trig", "text/plain", "image/png", "text/*", "application/*", "*/*"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(MEDIA), st.sampled_from([None, 0, 0.1, 0.5, 0.8, 0.9, 1])),
                min_size=1, max_size=6))
def test_the_choice_is_never_worse_than_another_offer(items):
    header = ", ".join(m if q is None else f"{m};q={q}" for m, q in items)
    parsed = accept(header)
    try:
        choice = negotiate.by_accept(parsed)
    except negotiate.NotAcceptable:
        assert all(parsed.quality(m) == 0 for m in negotiate.OFFERED_MEDIA_TYPES), header
        return
    chosen = parsed.quality(choice.media_type)
    assert chosen > 0, header
    assert all(parsed.quality(m) <= chosen for m in negotiate.OFFERED_MEDIA_TYPES), header
