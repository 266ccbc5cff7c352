"""One table maps format names, media types, extensions and rdflib names."""

import pytest

from docket import formats


@pytest.mark.parametrize("key,name", [
    ("turtle", "turtle"), ("text/turtle", "turtle"), (".ttl", "turtle"), ("application/ld+json", "jsonld"),
    ("jsonld", "jsonld"), ("rdf", "rdfxml"), ("application/rdf+xml", "rdfxml"), ("nt", "ntriples"),
    ("application/n-triples", "ntriples"), ("nq", "nquads"), ("text/turtle; charset=utf-8", "turtle"),
])
def test_lookup_by_any_key(key, name):
    assert formats.lookup(key).name == name


def test_unknown_format_lists_known_ones():
    with pytest.raises(KeyError, match="turtle"):
        formats.lookup("application/x-unknown")


def test_for_path():
    assert formats.for_path("out.ttl").rdflib == "turtle"
    assert formats.for_path("dump.nq").quads
