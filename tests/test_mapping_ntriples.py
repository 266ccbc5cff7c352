"""A mapping result's own N-Triples say exactly what its rdflib graph says, to rdflib and to Oxigraph.

The build publishes ``MappingResult.ntriples()`` (written without rdflib's serializer), while tests,
``docket ingest --rdf`` and the dataset export use ``MappingResult.graph``: the two must agree for
every record the readers produce, for synthetic records, and for any text in a record.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, RDF, XSD

from bench.synthetic import generate
from conftest import ROOT, make_settings
from docket.ingest import ingest
from docket.ingest.model import DateValue, Record, SourceRef
from docket.mapping import Mapper
from docket.mapping.ntriples import ntriples
from test_mapping import GOLDEN, SEED_ID, seed_record

NT = ox.RdfFormat.N_TRIPLES
BASE = "http://example.org/"
S, P = URIRef("http://example.org/s"), URIRef("http://example.org/p")
# What the mapping removes from a record's text before publishing it (see docket.mapping.text).
NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@pytest.fixture(scope="module")
def mapper(tmp_path_factory) -> Mapper:
    return Mapper(make_settings(tmp_path_factory.mktemp("mapper"), base_uri=BASE))


@pytest.fixture(scope="module")
def fixture_records(tmp_path_factory) -> list[Record]:
    """Every record the page, JSON and CSV fixtures and examples yield, the seed file's included."""
    paths = [*sorted((ROOT / "tests" / "fixtures" / "pages").glob("*.txt")),
             ROOT / "docs" / "examples" / "records.json", ROOT / "docs" / "examples" / "records.csv",
             ROOT / "data" / "records"]
    result = ingest(paths, make_settings(tmp_path_factory.mktemp("ingest")))
    return list(result.records)


def key(term) -> tuple:
    """Return an rdflib or Oxigraph term as comparable plain data (xsd:string made explicit)."""
    if isinstance(term, (Literal, ox.Literal)):
        lang = term.language.lower() if term.language else None
        datatype = None if lang else str(term.datatype.value if isinstance(term, ox.Literal) else
                                         term.datatype or XSD.string)
        return ("literal", term.value if isinstance(term, ox.Literal) else str(term), lang, datatype)
    if isinstance(term, (BNode, ox.BlankNode)):
        return ("blank",)  # labels are the parser's own; the graphs are compared for isomorphism too
    return ("iri", term.value if isinstance(term, ox.NamedNode) else str(term))


def triple_keys(triples) -> list[tuple]:
    return sorted(tuple(key(t) for t in triple) for triple in triples)


def oxigraph_keys(data: bytes) -> list[tuple]:
    return triple_keys((q.subject, q.predicate, q.object) for q in ox.parse(data, format=NT))


def assert_round_trips(result) -> None:
    """Check ``result.ntriples()`` against ``result.graph`` through both parsers, and line by line."""
    data = result.ntriples()
    assert data.endswith(b" .\n") and data.count(b"\n") == len(result.triples) == len(result.graph)
    back = Graph().parse(data=data, format="nt")
    assert isomorphic(back, result.graph), result.record_id
    assert oxigraph_keys(data) == triple_keys(result.graph) == triple_keys(back), result.record_id
    # rdflib's own serializer writes the same lines, as long as no literal holds a control character
    # that this writer escapes and rdflib leaves raw; the readers' records hold none.
    assert sorted(data.splitlines()) == sorted(result.graph.serialize(format="nt", encoding="utf-8").splitlines())


# -- the mapping's results ----------------------------------------------------------------------------------


def test_seed_record_ntriples_are_the_golden_graph(mapper: Mapper) -> None:
    result = mapper.map(seed_record())
    assert_round_trips(result)
    assert isomorphic(Graph().parse(data=result.ntriples(), format="nt"), Graph().parse(GOLDEN, format="turtle"))


def test_every_fixture_record_round_trips(mapper: Mapper, fixture_records: list[Record]) -> None:
    sources = {r.source.file.rsplit(".", 1)[-1] for r in fixture_records}
    assert {"txt", "json", "csv"} <= sources and len(fixture_records) >= 10
    assert SEED_ID in {r.id for r in fixture_records}
    for record in fixture_records:
        assert_round_trips(mapper.map(record))


def test_synthetic_records_round_trip(mapper: Mapper) -> None:
    for record in generate(300, seed=20):
        assert_round_trips(mapper.map(record))


def test_graph_is_named_prefixed_cached_and_counted(mapper: Mapper) -> None:
    result = mapper.map(seed_record())
    graph = result.graph
    assert graph is result.graph
    assert graph.identifier == URIRef(f"{BASE}graph/record/{SEED_ID}") == result.graph_uri
    prefixes = dict(graph.namespaces())
    assert str(prefixes["docket"]) == f"{BASE}ontology#" and str(prefixes["rico"]).startswith("https://www.ica.org/")
    assert set(graph) == set(result.triples) and result.to_dict()["triples"] == len(graph)
    assert list(result.triples)[0] == (result.uri, RDF.type, URIRef("http://purl.org/dc/dcmitype/Text"))


def test_pipeline_sends_the_results_ntriples(mapper: Mapper, tmp_path: Path) -> None:
    from docket.cli.pipeline import MapRecord

    record = seed_record()
    record_id, data, source, (problems, shared_at) = MapRecord(make_settings(tmp_path, base_uri=BASE))(record)
    assert (record_id, data, shared_at) == (SEED_ID, mapper.map(record).ntriples(), len(data))  # all reconciled


def test_resources_for_unreconciled_names_come_last_and_apart(mapper: Mapper) -> None:
    seen = 0
    for record in generate(50, seed=21):
        result = mapper.map(record)
        data, shared_at = result.split_ntriples()
        own, shared = data[:shared_at], data[shared_at:]
        assert set(parse_nt(own)) | set(parse_nt(shared)) == set(parse_nt(result.ntriples()))
        described = {str(o.uri) for o in result.unreconciled if o.uri}
        # Exactly the new resources' descriptions are shared (what a record says of one, as that a
        # translator is a prov:Agent, stays its own); the record still links them itself.
        assert {str(s) for s, _, _ in parse_nt(shared)} == described
        assert not set(parse_nt(own)) & set(parse_nt(shared))
        assert described <= {str(o) for _, _, o in parse_nt(own)}
        seen += bool(described)
    assert seen > 40


def parse_nt(data: bytes) -> list:
    return list(Graph().parse(data=data.decode(), format="nt"))


# -- any text ------------------------------------------------------------------------------------------------

awkward = st.sampled_from(['"', "\\", "\\n", "\n", "\r", "\r\n", "\t", "\x00", "\x0b", "\x1f", "\x7f", "\x85",
                           "\u2028", "\ufffe", "\U0001F600", "\U0010FFFD", "\ud800", "\udfff", "'", "<>", "^^", "@en"])
any_text = st.lists(st.one_of(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), awkward),
                    max_size=40).map("".join)


def text_record(title: str, summary: str) -> Record:
    r = Record(source=SourceRef("t.json", 1), id="text-record")
    r.title, r.summary = title, summary
    r.date = DateValue("1954", "1954", "date line")
    return r


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=any_text.filter(lambda t: NOT_XML.sub("", t).strip()), summary=any_text)
@example(title='He said "no" \\ then\nleft\r\n\ttab \U0001F600', summary="\ud800 lone \udfff surrogates")
@example(title="control \x00\x01\x0b\x1f\x7f and \u2028\x85", summary="\\u0041 is not an escape here")
def test_any_title_and_summary_reach_both_parsers_unchanged(title: str, summary: str, mapper: Mapper) -> None:
    result = mapper.map(text_record(title, summary))
    data = result.ntriples()
    want_title = NOT_XML.sub("", title)
    want_summary = NOT_XML.sub("", summary) if NOT_XML.sub("", summary).strip() else None  # blank: left out
    back = Graph().parse(data=data, format="nt")
    abstract = back.value(result.uri, DCTERMS.abstract)
    assert str(back.value(result.uri, DCTERMS.title)) == want_title
    assert (str(abstract) if abstract is not None else None) == want_summary
    by_predicate = {q.predicate.value: q.object.value for q in ox.parse(data, format=NT)
                    if q.subject.value == str(result.uri)}
    assert by_predicate[str(DCTERMS.title)] == want_title
    assert by_predicate.get(str(DCTERMS.abstract)) == want_summary
    assert oxigraph_keys(data) == triple_keys(back) == triple_keys(result.triples)
    cleaned = {p.field for p in result.problems if p.code == "control-characters"}
    assert cleaned == {f for f, v in (("title", title), ("summary", summary)) if NOT_XML.search(v)}


# -- the writer on its own -----------------------------------------------------------------------------------


def test_literals_are_escaped_as_n_triples_requires() -> None:
    text = 'a"b\\c\nd\re\tf\x00g\x08h\x0ci\x1fj\x7fk\x85\u2028\U0001F600'
    data = ntriples([(S, P, Literal(text))])
    assert data == ('<http://example.org/s> <http://example.org/p> "a\\"b\\\\c\\nd\\re\tf\\u0000g\\u0008h\\u000Ci'
                    '\\u001Fj\\u007Fk\x85\u2028\U0001F600" .\n').encode("utf-8")
    assert [q.object.value for q in ox.parse(data, format=NT)] == [text]
    assert [str(o) for o in Graph().parse(data=data, format="nt").objects()] == [text]


def test_language_datatype_and_plain_string() -> None:
    triples = [(S, P, Literal("x", lang="en-GB")), (S, P, Literal("1954", datatype=XSD.gYear)),
               (S, P, Literal("y", datatype=XSD.string)), (S, P, Literal(True)), (S, P, Literal("z"))]
    assert ntriples(triples).decode().splitlines() == [
        '<http://example.org/s> <http://example.org/p> "x"@en-GB .',
        '<http://example.org/s> <http://example.org/p> "1954"^^<http://www.w3.org/2001/XMLSchema#gYear> .',
        '<http://example.org/s> <http://example.org/p> "y" .',
        '<http://example.org/s> <http://example.org/p> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> .',
        '<http://example.org/s> <http://example.org/p> "z" .',
    ]


def test_blank_nodes_and_order_and_duplicates_as_given() -> None:
    b = BNode("b1")
    triples = [(b, P, S), (S, P, b), (S, RDF.type, URIRef("http://example.org/C"))]
    data = ntriples(triples)
    assert data.decode().splitlines()[0] == "_:b1 <http://example.org/p> <http://example.org/s> ."
    graph = Graph()
    for t in triples:
        graph.add(t)
    assert isomorphic(Graph().parse(data=data, format="nt"), graph)
    assert len(list(ox.parse(data, format=NT))) == 3
    assert ntriples([]) == b""


@pytest.mark.parametrize("triple, message", [
    ((S, P, Literal("a\ud800b")), "lone surrogate"),
    ((URIRef("relative/iri"), P, S), "not an absolute IRI"),
    ((S, P, URIRef("http://example.org/a b")), "not an absolute IRI"),
    ((S, P, URIRef("http://example.org/<x>")), "not an absolute IRI"),
    ((S, Literal("http://example.org/p"), S), "not an absolute IRI"),
    ((S, BNode("p"), S), "not an absolute IRI"),
    ((Literal("s"), P, S), "cannot stand here"),
    ((S, P, BNode("not a label")), "blank node label"),
    ((S, P, Literal("1", datatype=URIRef("no-scheme"))), "not an absolute IRI"),
])
def test_what_n_triples_cannot_carry_is_refused(triple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ntriples([triple])
