"""Property tests: any record the readers can produce maps to a graph every RDF syntax carries.

Records are generated field by field as the readers fill them (text with any characters, names
with brackets and honorifics, dates at three precisions, source URLs good and bad). The graph must
serialize to Turtle, JSON-LD, RDF/XML and N-Triples and parse back isomorphic; every IRI in it must
be a valid absolute IRI; and mapping the same record twice, with separately built mappers, must give
the same graph.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from docket.config import Settings
from docket.ingest.model import DateValue, Name, Record, SourceRef
from docket.mapping import Mapper

BASE = "http://example.org/"
FORMATS = ("turtle", "json-ld", "xml", "nt")

# Any character a UTF-8 file can hold (surrogates cannot be decoded from UTF-8).
any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
wordy = st.text(st.characters(whitelist_categories=("Lu", "Ll", "Zs", "Pd", "Ps", "Pe", "Po")), min_size=1, max_size=25)
known_names = st.sampled_from(["Zhou Enlai", "Chou En-lai", "Zhou Enali", "Comrade Wei Guoqing", "Ho (Chi Minh)",
                               "Filippov [Stalin]", "CCP Central Committee", "CWIHP", "Mao Zedong", "Peng Dehuai"])
names = st.lists(st.one_of(known_names, wordy, any_text).map(str.strip).filter(bool).map(Name.parse), max_size=3)
slug = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,3}", fullmatch=True)


@st.composite
def date_values(draw, where: str = "date line") -> DateValue:
    day = draw(st.dates())
    iso = day.isoformat()[: draw(st.sampled_from([4, 7, 10]))]
    if len(iso) < 10 and not iso[:4].isdigit():
        iso = "1954"
    if day.year < 1000:  # ISO 8601 years have four digits; the readers never produce shorter ones
        iso = "1954" + iso[4:]
    return DateValue(draw(any_text) or iso, iso, where)


@st.composite
def records(draw) -> Record:
    r = Record(source=SourceRef(draw(st.sampled_from(["a.txt", "b.json", "c.csv"])), draw(st.integers(1, 9))))
    r.id = draw(slug)
    r.title = draw(any_text.filter(lambda t: t.strip()))
    r.date = draw(date_values())
    r.other_dates = draw(st.lists(date_values("title"), max_size=2))
    r.record_id = draw(st.one_of(st.just(""), any_text))
    r.source_url = draw(st.one_of(st.none(), any_text,
                                  st.sampled_from(["https://digitalarchive.wilsoncenter.org/document/121157",
                                                   "http://x.example/a b", "https://x.example/%zz"])))
    r.subtitle = draw(st.one_of(st.none(), any_text))
    r.doc_type = draw(st.one_of(st.none(), st.sampled_from(["Telegram", "Record of Conversation", "Memo"]), wordy))
    for field_name in ("senders", "addressees", "intermediaries", "participants", "authors", "translators"):
        setattr(r, field_name, draw(names))
    r.body = draw(st.lists(st.one_of(any_text, st.just("Please discuss with Comrades Ho (Chi Minh) and "
                                                         "Comrade Zhou Enali in Geneva.")), max_size=3))
    r.salutation = draw(st.one_of(st.none(), any_text))
    r.signature = draw(st.one_of(st.none(), any_text))
    r.signature_date = draw(st.one_of(st.none(), date_values("signature")))
    r.signature_place = draw(st.one_of(st.none(), st.sampled_from(["Geneva", "Peking"]), wordy))
    r.summary = draw(st.one_of(st.none(), any_text))
    r.citations = draw(st.lists(any_text, max_size=2))
    r.original_archive = draw(st.one_of(st.none(), wordy))
    r.translation_statement = draw(st.one_of(st.none(), any_text))
    r.translated_for = draw(st.one_of(st.none(), st.just("CWIHP"), wordy))
    r.original_language = draw(st.one_of(st.none(), st.sampled_from(["Chinese", "Russian", "Klingon"])))
    r.funder_credit = draw(st.one_of(st.none(), any_text, wordy.map(lambda n: f"Made possible with support from {n}.")))
    r.rights = draw(st.one_of(st.none(), any_text, st.just("The History and Public Policy Program welcomes reuse "
                                                            "of Digital Archive materials for research and "
                                                            "educational purposes.")))
    r.uploaded_date = draw(st.one_of(st.none(), date_values("Original Uploaded Date")))
    r.languages = draw(st.lists(st.one_of(st.sampled_from(["English", "Chinese", "Russian"]), wordy), max_size=2))
    for field_name in ("associated_agents", "associated_places", "associated_topics", "subjects", "collections"):
        setattr(r, field_name, draw(st.lists(wordy, max_size=2)))
    return r


def _mapper(root: Path) -> Mapper:
    return Mapper(Settings.load(env={}, base_uri=BASE, authorities_dir=root / "data" / "authorities",
                                rights_table=root / "data" / "rights.csv", ontology_dir=root / "ontology"))


@pytest.fixture(scope="module")
def mappers(repo_root: Path) -> tuple[Mapper, Mapper]:
    return _mapper(repo_root), _mapper(repo_root)


_XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_IRI_ASCII = re.compile(r"^[A-Za-z0-9\-._~!$&'()*+,;=:@/?#%]*$")


def assert_valid_iri(uri: str) -> None:
    parts = urlsplit(uri)
    assert re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", parts.scheme), uri
    ascii_part = "".join(c for c in uri[len(parts.scheme) + 1:] if ord(c) < 0x80)
    assert _IRI_ASCII.match(ascii_part), uri
    assert uri.count("#") <= 1, uri
    assert not re.search(r"%(?![0-9A-Fa-f]{2})", uri), uri
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in uri), uri
    if uri.startswith(BASE):
        assert re.match(rf"^{re.escape(BASE)}(id/[a-z]+/[a-z0-9]+([-._][a-z0-9]+)*(#[a-z0-9-]+)?|ontology#\w+)$",
                        uri), uri


def parse(text: str, fmt: str) -> Graph:
    """Parse ``text``; rdflib 7.6's JSON-LD parser warns about its own use of ConjunctiveGraph."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ConjunctiveGraph is deprecated", category=DeprecationWarning)
        return Graph().parse(data=text, format=fmt)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=records())
def test_any_record_maps_to_a_graph_every_syntax_carries(record: Record, mappers) -> None:
    graph = mappers[0].map(record).graph
    for fmt in FORMATS:
        text = graph.serialize(format=fmt)
        assert isomorphic(graph, parse(text, fmt)), f"{fmt} does not round-trip"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=records())
def test_uris_are_valid_and_stable(record: Record, mappers) -> None:
    first, second = mappers[0].map(record), mappers[1].map(record)
    assert isomorphic(first.graph, second.graph)
    uris = {t for triple in first.graph for t in triple if isinstance(t, URIRef)}
    assert uris == {t for triple in second.graph for t in triple if isinstance(t, URIRef)}
    for uri in uris:
        assert_valid_iri(str(uri))
    assert str(first.uri) == f"{BASE}id/record/{record.id}"
    assert [o.to_dict() for o in first.outcomes] == [o.to_dict() for o in second.outcomes]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=records())
def test_every_name_is_linked_or_reported(record: Record, mappers) -> None:
    result = mappers[0].map(record)
    agents = {str(o) for o in result.graph.objects(None, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#value"))}
    written = [n for f in ("senders", "addressees", "intermediaries", "participants", "authors")
               for n in getattr(record, f) if _XML_ILLEGAL.sub("", n.written).strip()]
    assert len(result.graph.query(f"SELECT ?r WHERE {{ <{result.uri}#event> <http://semanticweb.cs.vu.nl/2009/11/sem/hasActor> ?r }}")) == len(written)
    published = [o for o in result.unreconciled if o.uri is not None]
    for outcome in published:
        assert (outcome.uri, URIRef(str(mappers[0].terms.unreconciled)), None) in result.graph
    reported = [p for p in result.problems if p.code in ("unreconciled", "ambiguous-name")]
    assert sorted(p.field for p in reported) == sorted(o.field for o in published)
    assert all(repr(o.written) in p.message for o, p in zip(published, reported))
    assert agents <= {str(s) for s in result.graph.subjects()} | {
        str(a.uri) for a in mappers[0].authorities.entries}
