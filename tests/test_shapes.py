"""Every shape: a record that keeps the rule passes it, one that breaks it is told why, at the right severity.

Fixtures are small hand-written Turtle following the vocabulary contract (docs: issue 3/4): a record
that conforms, then for each constraint one change that breaks it.
"""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS

from docket.validate import VIOLATION, WARNING, Engine, ShapeSource

BASE = "http://example.org/"

PREFIXES = """
@base <http://example.org/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix dcmitype: <http://purl.org/dc/dcmitype/> .
@prefix rico: <https://www.ica.org/standards/RiC/ontology#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix sem: <http://semanticweb.cs.vu.nl/2009/11/sem/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix docket: <http://example.org/ontology#> .
"""

RECORD = URIRef(BASE + "id/record/r1")

# The record as the mapping writes it: its own graph, with its hash-URI parts.
CONFORMING = PREFIXES + """
<id/record/r1> a dcmitype:Text, rico:Record ;
    dcterms:title "Telegram, CCP Central Committee to Zhou Enlai" ;
    dcterms:date "1954-06-20"^^xsd:date ;
    dcterms:type <id/type/telegram> ;
    dcterms:identifier "r1" ;
    dcterms:creator <id/agent/ccp-central-committee> ;
    dcterms:rights "This document may be used for research and teaching." ;
    dcterms:license <http://rightsstatements.org/vocab/InC-EDU/1.0/> ;
    dcterms:source <https://digitalarchive.example/document/121160> ;
    dcterms:subject <id/topic/geneva-conference> .
<id/record/r1#event> a sem:Event ;
    skos:prefLabel "Sending of the telegram" ;
    sem:hasBeginTimeStamp "1954-06-20"^^xsd:date .
"""

# Authorities and vocabularies: validated with each record, reported once on their own.
CONTEXT = PREFIXES + """
<id/agent/ccp-central-committee> a foaf:Agent, foaf:Organization ; skos:prefLabel "CCP Central Committee"@en .
<id/agent/zhou-enlai> a foaf:Agent, foaf:Person ; skos:prefLabel "Zhou Enlai"@en .
<id/agent/nameless> a foaf:Agent, foaf:Person .
<id/type/telegram> a skos:Concept ; skos:prefLabel "Telegram"@en .
<id/topic/geneva-conference> a skos:Concept ; skos:prefLabel "Geneva Conference, 1954"@en .
<id/place/geneva> a dcterms:Location ; skos:prefLabel "Geneva"@en .
"""


@pytest.fixture(scope="module")
def engine(repo_root) -> Engine:
    context = Graph().parse(data=CONTEXT, format="turtle")
    return Engine(ShapeSource.read(repo_root / "shapes", BASE), context)


def record_data(without: tuple[str, ...] = (), extra: str = "") -> bytes:
    """Return the conforming record minus the record's ``without`` properties, plus ``extra`` Turtle."""
    g = Graph().parse(data=CONFORMING, format="turtle")
    for name in without:
        g.remove((RECORD, DCTERMS[name] if ":" not in name else URIRef(name), None))
    if extra:
        g.parse(data=PREFIXES + extra, format="turtle")
    return g.serialize(format="nt", encoding="utf-8")


def findings(engine: Engine, shape: str, without: tuple[str, ...] = (), extra: str = ""):
    result = engine.validate_record("r1", record_data(without, extra), "fixture.ttl")
    return result, [f for f in result.findings if str(f.shape) == f"{BASE}shapes#{shape}"]


def assert_breaks(engine, shape, message, severity=VIOLATION, field=None, without=(), extra=""):
    result, found = findings(engine, shape, without, extra)
    assert found, f"{shape} did not fire; findings: {[str(f) for f in result.findings]}"
    assert {f.severity for f in found} == {severity}
    assert any(message in f.message for f in found), [f.message for f in found]
    assert all(f.record == "r1" and f.source == "fixture.ttl" for f in found)
    if field is not None:
        assert {f.field for f in found} == {field}
    assert result.conforms is (severity != VIOLATION)
    return found


def assert_keeps(engine, shape, without=(), extra=""):
    result, found = findings(engine, shape, without, extra)
    assert not found, [str(f) for f in found]
    return result


def test_the_conforming_record_has_no_findings_at_all(engine):
    result = engine.validate_record("r1", record_data(), "fixture.ttl")
    assert result.findings == []
    assert result.conforms


# --- the record ---------------------------------------------------------------------------------------


def test_record_must_be_a_text(engine):
    assert_keeps(engine, "RecordIsText")
    g = Graph().parse(data=CONFORMING, format="turtle")
    g.remove((RECORD, None, URIRef("http://purl.org/dc/dcmitype/Text")))
    result = engine.validate_record("r1", g.serialize(format="nt"), "fixture.ttl")
    (f,) = [f for f in result.findings if str(f.shape).endswith("#RecordIsText")]
    assert f.severity == VIOLATION and f.message == "The record is not marked as a text (dcmitype:Text)"


def test_title_is_required(engine):
    assert_keeps(engine, "RecordTitleRequired")
    assert_breaks(engine, "RecordTitleRequired", "The record has no title", field="title", without=("title",))


def test_only_one_title(engine):
    assert_keeps(engine, "RecordTitleSingle")
    assert_breaks(engine, "RecordTitleSingle", "The record has more than one title", field="title",
                  extra='<id/record/r1> dcterms:title "Another title" .')


def test_title_is_plain_text(engine):
    assert_keeps(engine, "RecordTitleText")
    (f,) = assert_breaks(engine, "RecordTitleText", "The title must be plain text", without=("title",),
                         extra='<id/record/r1> dcterms:title "Telegram"@en .')
    assert str(f.value) == "Telegram"


@pytest.mark.parametrize("title", ["", "   "])
def test_title_is_not_empty(engine, title):
    assert_breaks(engine, "RecordTitleNotEmpty", "The title is empty", without=("title",),
                  extra=f'<id/record/r1> dcterms:title "{title}" .')


def test_date_is_required(engine):
    assert_keeps(engine, "RecordDateRequired")
    assert_breaks(engine, "RecordDateRequired", "The record has no date", field="date", without=("date",))


def test_only_one_date(engine):
    assert_keeps(engine, "RecordDateSingle")
    assert_breaks(engine, "RecordDateSingle", "The record has more than one date",
                  extra='<id/record/r1> dcterms:date "1954-06-21"^^xsd:date .')


@pytest.mark.parametrize("value", ['"1954"^^xsd:gYear', '"1954-06"^^xsd:gYearMonth', '"1954-06-20"^^xsd:date'])
def test_date_of_any_allowed_precision_conforms(engine, value):
    result = assert_keeps(engine, "RecordDateDatatype", without=("date",),
                          extra=f"<id/record/r1> dcterms:date {value} .")
    assert result.conforms


@pytest.mark.parametrize("value", ['"June 20, 1954"', '"1954-06-20T10:00:00"^^xsd:dateTime',
                                   '"1954-02-30"^^xsd:date', '"1954-13"^^xsd:gYearMonth',
                                   '"1954-6"^^xsd:gYearMonth', '"54"^^xsd:gYear'])
def test_date_must_be_a_date_year_month_or_year(engine, value):
    assert_breaks(engine, "RecordDateDatatype", "The date must be a full date, year-month or year",
                  field="date", without=("date",), extra=f"<id/record/r1> dcterms:date {value} .")


@pytest.mark.parametrize("value", ['"1800"^^xsd:gYear', '"2100-12-31"^^xsd:date', '"1991-12"^^xsd:gYearMonth'])
def test_date_within_range_conforms(engine, value):
    assert_keeps(engine, "RecordDateRange", without=("date",), extra=f"<id/record/r1> dcterms:date {value} .")


@pytest.mark.parametrize("value", ['"1799"^^xsd:gYear', '"2101-01"^^xsd:gYearMonth', '"0954-06-20"^^xsd:date'])
def test_date_outside_1800_to_2100_is_refused(engine, value):
    assert_breaks(engine, "RecordDateRange",
                  "The date must be a full date, year-month or year between 1800 and 2100",
                  without=("date",), extra=f"<id/record/r1> dcterms:date {value} .")


def test_document_type_is_required(engine):
    assert_keeps(engine, "RecordTypeRequired")
    assert_breaks(engine, "RecordTypeRequired", "The record has no document type", field="document type",
                  without=("type",))


def test_document_type_is_a_vocabulary_term(engine):
    assert_keeps(engine, "RecordTypeKnown")
    assert_breaks(engine, "RecordTypeKnown", "The document type is not a term of the document-type vocabulary",
                  without=("type",), extra="<id/record/r1> dcterms:type <id/agent/zhou-enlai> .")


def test_sender_is_required(engine):
    assert_keeps(engine, "RecordSenderRequired")
    assert_breaks(engine, "RecordSenderRequired", "The record has no sender", field="sender",
                  without=("creator",))


def test_sender_is_a_person_or_organization(engine):
    assert_keeps(engine, "RecordSenderIsAgent")
    assert_breaks(engine, "RecordSenderIsAgent", "The sender is not a person or organization",
                  without=("creator",), extra="<id/record/r1> dcterms:creator <id/place/geneva> .")


def test_sender_has_a_name(engine):
    assert_keeps(engine, "RecordSenderNamed")
    (f,) = assert_breaks(engine, "RecordSenderNamed", "The sender has no name", without=("creator",),
                         extra="<id/record/r1> dcterms:creator <id/agent/nameless> .")
    assert str(f.value) == BASE + "id/agent/nameless"


def test_rights_statement_is_required(engine):
    assert_keeps(engine, "RecordRightsRequired")
    assert_breaks(engine, "RecordRightsRequired", "The record has no rights statement", field="rights",
                  without=("rights",))


def test_rights_statement_is_not_empty(engine):
    assert_keeps(engine, "RecordRightsNotEmpty")
    assert_breaks(engine, "RecordRightsNotEmpty", "The rights statement is empty", without=("rights",),
                  extra='<id/record/r1> dcterms:rights " " .')


def test_identifier_is_required(engine):
    assert_keeps(engine, "RecordIdentifierRequired")
    assert_breaks(engine, "RecordIdentifierRequired", "The record has no identifier", field="identifier",
                  without=("identifier",))


@pytest.mark.parametrize("value", ['""', "<id/record/r1>"])
def test_identifier_is_non_empty_text(engine, value):
    assert_keeps(engine, "RecordIdentifierNotEmpty")
    assert_breaks(engine, "RecordIdentifierNotEmpty", "The identifier is empty or not text",
                  without=("identifier",), extra=f"<id/record/r1> dcterms:identifier {value} .")


# --- links ----------------------------------------------------------------------------------------------


def test_links_to_described_and_external_resources_conform(engine):
    assert_keeps(engine, "RecordLinks", extra="""
        <id/record/r1> dcterms:spatial <id/place/geneva> ; dcterms:audience <id/agent/wei-guoqing> ;
            foaf:page <https://digitalarchive.example/document/121160> .
        <id/agent/wei-guoqing> a foaf:Agent, foaf:Person ; skos:prefLabel "Wei Guoqing" .
    """)


def test_link_to_an_undescribed_resource_is_refused(engine):
    (f,) = assert_breaks(engine, "RecordLinks", "which is not described anywhere in the published data",
                         field="link", extra="<id/record/r1> dcterms:audience <id/agent/nobody-knows> .")
    assert f.value == URIRef(BASE + "id/agent/nobody-knows")
    assert f.path == DCTERMS.audience
    assert f.focus == RECORD


def test_link_from_a_part_of_the_record_is_checked_too(engine):
    (f,) = assert_breaks(engine, "RecordLinks", "not described", extra="""
        <id/record/r1#event> sem:hasPlace <id/place/nanning> .
    """)
    assert f.value == URIRef(BASE + "id/place/nanning")


def test_links_check_follows_the_base_uri_of_the_data(repo_root):
    base = "https://archive.example/docket/"
    engine = Engine(ShapeSource.read(repo_root / "shapes", base))
    data = CONFORMING.replace("http://example.org/", base) + """
        <id/record/r1> dcterms:audience <id/agent/nobody-knows>, <http://example.org/id/agent/elsewhere> .
        <id/agent/ccp-central-committee> a foaf:Agent, foaf:Organization ; skos:prefLabel "CCP CC" .
        <id/type/telegram> a skos:Concept ; skos:prefLabel "Telegram" .
        <id/topic/geneva-conference> a skos:Concept ; skos:prefLabel "Geneva Conference" .
    """
    result = engine.validate_record("r1", Graph().parse(data=data, format="turtle").serialize(format="nt"))
    links = [f for f in result.findings if str(f.shape) == base + "shapes#RecordLinks"]
    # Only the IRI under this base's id/ space is checked; another base's IRI is someone else's.
    assert [str(f.value) for f in links] == [base + "id/agent/nobody-knows"]


# --- agents, places, topics, events --------------------------------------------------------------------

AUDIENCE = "<id/record/r1> dcterms:audience <id/agent/wei-guoqing> .\n"


def test_agent_needs_a_preferred_name(engine):
    assert_keeps(engine, "AgentNameRequired", extra=AUDIENCE + '<id/agent/wei-guoqing> a foaf:Agent, foaf:Person ; skos:prefLabel "Wei Guoqing" .')
    (f,) = assert_breaks(engine, "AgentNameRequired", "The person or organization has no preferred name",
                         field="name", extra=AUDIENCE + "<id/agent/wei-guoqing> a foaf:Agent, foaf:Person .")
    assert f.focus == URIRef(BASE + "id/agent/wei-guoqing")


def test_agent_has_one_preferred_name_per_language(engine):
    assert_keeps(engine, "AgentNameOnePerLanguage", extra=AUDIENCE + """
        <id/agent/wei-guoqing> a foaf:Agent, foaf:Person ; skos:prefLabel "Wei Guoqing"@en, "韦国清"@zh .""")
    assert_breaks(engine, "AgentNameOnePerLanguage", "more than one preferred name in the same language",
                  extra=AUDIENCE + """
        <id/agent/wei-guoqing> a foaf:Agent, foaf:Person ; skos:prefLabel "Wei Guoqing"@en, "Wei Kuo-ch'ing"@en .""")


def test_agent_kind_unknown_is_a_warning(engine):
    assert_breaks(engine, "AgentKind", "It is not recorded whether this is a person or an organization",
                  severity=WARNING, field="kind of agent",
                  extra=AUDIENCE + '<id/agent/wei-guoqing> a foaf:Agent ; skos:prefLabel "Wei Guoqing" .')
    assert_keeps(engine, "AgentKind", extra=AUDIENCE + '<id/agent/wei-guoqing> a foaf:Agent, foaf:Person ; skos:prefLabel "Wei Guoqing" .')


PLACE = "<id/record/r1> dcterms:spatial <id/place/nanning> .\n"


def test_place_needs_a_preferred_name(engine):
    assert_keeps(engine, "PlaceNameRequired", extra=PLACE + '<id/place/nanning> a dcterms:Location ; skos:prefLabel "Nanning" .')
    assert_breaks(engine, "PlaceNameRequired", "The place has no preferred name", field="place name",
                  extra=PLACE + "<id/place/nanning> a dcterms:Location .")


def test_place_has_one_preferred_name_per_language(engine):
    assert_keeps(engine, "PlaceNameOnePerLanguage", extra=PLACE + '<id/place/nanning> a dcterms:Location ; skos:prefLabel "Nanning"@en, "南宁"@zh .')
    assert_breaks(engine, "PlaceNameOnePerLanguage", "The place has more than one preferred name in the same language",
                  extra=PLACE + '<id/place/nanning> a dcterms:Location ; skos:prefLabel "Nanning"@en, "Nan-ning"@en .')


TOPIC = "<id/record/r1> dcterms:subject <id/topic/armistice> .\n"


def test_topic_needs_a_preferred_label(engine):
    assert_keeps(engine, "ConceptLabelRequired", extra=TOPIC + '<id/topic/armistice> a skos:Concept ; skos:prefLabel "Armistice" .')
    assert_breaks(engine, "ConceptLabelRequired", "The topic or document type has no preferred label",
                  field="term", extra=TOPIC + "<id/topic/armistice> a skos:Concept .")


def test_topic_has_one_preferred_label_per_language(engine):
    assert_keeps(engine, "ConceptLabelOnePerLanguage", extra=TOPIC + '<id/topic/armistice> a skos:Concept ; skos:prefLabel "Armistice"@en .')
    assert_breaks(engine, "ConceptLabelOnePerLanguage", "more than one preferred label in the same language",
                  extra=TOPIC + '<id/topic/armistice> a skos:Concept ; skos:prefLabel "Armistice"@en, "Truce"@en .')


def test_event_needs_a_preferred_label(engine):
    assert_keeps(engine, "EventLabelRequired")
    g = Graph().parse(data=CONFORMING, format="turtle")
    g.remove((URIRef(BASE + "id/record/r1#event"), None, None))
    g.parse(data=PREFIXES + '<id/record/r1#event> a sem:Event ; sem:hasBeginTimeStamp "1954-06-20"^^xsd:date .',
            format="turtle")
    result = engine.validate_record("r1", g.serialize(format="nt"), "fixture.ttl")
    (f,) = [f for f in result.findings if str(f.shape).endswith("#EventLabelRequired")]
    assert (f.severity, f.message, f.field) == (VIOLATION, "The event has no preferred label", "event name")
    assert not result.conforms


def test_event_has_at_most_one_begin_and_one_end(engine):
    assert_keeps(engine, "EventBeginSingle")
    assert_keeps(engine, "EventEndSingle", extra='<id/record/r1#event> sem:hasEndTimeStamp "1954-06-21"^^xsd:date .')
    assert_breaks(engine, "EventBeginSingle", "The event has more than one begin date", field="begin date",
                  extra='<id/record/r1#event> sem:hasBeginTimeStamp "1954-06-19"^^xsd:date .')
    assert_breaks(engine, "EventEndSingle", "The event has more than one end date", field="end date",
                  extra='<id/record/r1#event> sem:hasEndTimeStamp "1954-07"^^xsd:gYearMonth, "1954-08"^^xsd:gYearMonth .')


def test_event_dates_are_dates(engine):
    assert_keeps(engine, "EventBeginDatatype")
    assert_keeps(engine, "EventEndDatatype", extra='<id/record/r1#event> sem:hasEndTimeStamp "1954"^^xsd:gYear .')
    assert_breaks(engine, "EventEndDatatype", "The event's end date must be a full date, year-month or year",
                  extra='<id/record/r1#event> sem:hasEndTimeStamp "soon" .')
    g = Graph().parse(data=CONFORMING, format="turtle")
    event = URIRef(BASE + "id/record/r1#event")
    g.remove((event, URIRef("http://semanticweb.cs.vu.nl/2009/11/sem/hasBeginTimeStamp"), None))
    g.parse(data=PREFIXES + '<id/record/r1#event> sem:hasBeginTimeStamp "20 June" .', format="turtle")
    result = engine.validate_record("r1", g.serialize(format="nt"))
    assert [f.message for f in result.findings if str(f.shape).endswith("#EventBeginDatatype")] == [
        "The event's begin date must be a full date, year-month or year"]


@pytest.mark.parametrize("end", ['"1954-06-21"^^xsd:date', '"1954-06"^^xsd:gYearMonth', '"1954"^^xsd:gYear',
                                 '"1954-06-20"^^xsd:date'])
def test_event_in_order_conforms(engine, end):
    assert_keeps(engine, "EventOrder", extra=f"<id/record/r1#event> sem:hasEndTimeStamp {end} .")


@pytest.mark.parametrize("end", ['"1954-06-19"^^xsd:date', '"1954-05"^^xsd:gYearMonth', '"1953"^^xsd:gYear'])
def test_event_ending_before_it_begins_is_refused(engine, end):
    (f,) = assert_breaks(engine, "EventOrder", "The event ends (", field="end date",
                         extra=f"<id/record/r1#event> sem:hasEndTimeStamp {end} .")
    assert "before it begins (1954-06-20)" in f.message
    assert f.focus == URIRef(BASE + "id/record/r1#event")


# --- the dataset -------------------------------------------------------------------------------------------

DATASET = PREFIXES + '<id/dataset/docket> a void:Dataset ; dcterms:title "Docket" .'


def dataset_findings(engine, description, identifiers):
    g = Graph().parse(data=description, format="turtle")
    for record, identifier in identifiers:
        g.parse(data=PREFIXES + f'<id/record/{record}> a rico:Record ; dcterms:identifier "{identifier}" .',
                format="turtle")
    return engine.validate_dataset(g.serialize(format="nt"))


def test_dataset_needs_a_title(engine):
    assert dataset_findings(engine, DATASET, [("r1", "r1")]) == []
    (f,) = dataset_findings(engine, PREFIXES + "<id/dataset/docket> a void:Dataset .", [("r1", "r1")])
    assert (f.severity, f.message, f.field) == (VIOLATION, "The dataset has no title", "dataset title")


def test_record_identifiers_are_unique_across_the_dataset(engine):
    unique = [("r1", "r1"), ("r2", "r2"), ("r2", "121160"), ("r3", "r3")]
    assert dataset_findings(engine, DATASET, unique) == []
    duplicated = unique + [("r3", "121160")]
    found = dataset_findings(engine, DATASET, duplicated)
    assert {str(f.value) for f in found} == {BASE + "id/record/r2", BASE + "id/record/r3"}
    assert all(f.severity == VIOLATION and "121160" in f.message and "also used by another record" in f.message
               for f in found)
    assert {f.field for f in found} == {"identifier"}


def test_record_shapes_do_not_run_in_the_dataset_pass(engine):
    # The dataset pass sees bare records (type and identifier only); it must not call them incomplete.
    assert dataset_findings(engine, DATASET, [(f"r{i}", f"r{i}") for i in range(5)]) == []


def test_authorities_are_validated_on_their_own(engine):
    found = engine.validate_context()
    # <id/agent/nameless> lacks a name; it is reported once, as an authority, not with every record.
    assert [(str(f.focus), f.message, f.source) for f in found] == [
        (BASE + "id/agent/nameless", "The person or organization has no preferred name", "authorities")]


