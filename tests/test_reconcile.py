"""Reconcile names to authorities: exact, variant, normalized, fuzzy (score reported), no match."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from docket.config import Settings
from docket.ingest.model import DateValue, Name, Record, SourceRef
from docket.mapping import Mapper
from docket.mapping.authorities import load_authorities
from docket.mapping.mentions import MentionFinder
from docket.mapping.reconcile import (
    ALTERNATIVE,
    EXACT,
    FUZZY,
    NORMALIZED,
    UNRECONCILED,
    Reconciler,
    guess_agent_kind,
)
from docket.mapping.vocab import DCTERMS, FOAF, RDF, SEM, SKOS, XSD
from docket.uris import Minter

BASE = "http://example.org/"
AGENTS = ("person", "organization")
AGENT = BASE + "id/agent/"


@pytest.fixture(scope="module")
def authorities(repo_root: Path):
    return load_authorities(repo_root / "data" / "authorities", Minter(BASE))


@pytest.fixture(scope="module")
def reconciler(authorities) -> Reconciler:
    return Reconciler(authorities, 88.0)


def _mapper(repo_root: Path, authorities_dir: Path | None = None, threshold: float | None = None) -> Mapper:
    return Mapper(Settings.load(
        env={}, base_uri=BASE, authorities_dir=authorities_dir or repo_root / "data" / "authorities",
        rights_table=repo_root / "data" / "rights.csv", ontology_dir=repo_root / "ontology",
        fuzzy_threshold=threshold,
    ))


def _record(**fields) -> Record:
    r = Record(source=SourceRef("test.json"), id="test-record", title="Cable, Someone to Someone")
    r.date = DateValue("1954", "1954", "date line")
    for name, value in fields.items():
        setattr(r, name, value)
    return r


# -- the four stages -----------------------------------------------------------------------------

def test_exact_preferred_label(reconciler: Reconciler) -> None:
    m = reconciler.match("Zhou Enlai", AGENTS)
    assert (m.authority.slug, m.method, m.score) == ("zhou-enlai", EXACT, 100.0)


def test_other_language_label_is_exact(reconciler: Reconciler) -> None:
    assert reconciler.match("周恩来", AGENTS).authority.slug == "zhou-enlai"


@pytest.mark.parametrize("variant", ["Chou En-lai", "Chou En Lai"])
def test_variant_romanization_is_an_alternative_label(reconciler: Reconciler, variant: str) -> None:
    m = reconciler.match(variant, AGENTS)
    assert (m.authority.slug, m.method, m.label) == ("zhou-enlai", ALTERNATIVE, variant)


@pytest.mark.parametrize("written, slug", [
    ("Ho (Chi Minh)", "ho-chi-minh"),
    ("Vo (Nguyen Giap)", "vo-nguyen-giap"),
    ("Wei (Guoqing)", "wei-guoqing"),
    ("Comrade Wei Guoqing", "wei-guoqing"),
    ("ZHOU ENLAI", "zhou-enlai"),
    ("Vo Nguyen Giáp", "vo-nguyen-giap"),
    ("the Vietnamese People\u2019s Army", "vietnamese-peoples-army"),
    ("Chou Enlai.", "zhou-enlai"),
])
def test_normalized_forms(reconciler: Reconciler, written: str, slug: str) -> None:
    m = reconciler.match(written, AGENTS)
    assert m.authority is not None and m.authority.slug == slug
    assert m.method == NORMALIZED


def test_square_brackets_identify(tmp_path: Path) -> None:
    (tmp_path / "persons.yaml").write_text(
        "kind: person\nentries:\n  - {slug: joseph-stalin, label: Joseph Stalin, alt: [Stalin, I. V. Stalin]}\n",
        encoding="utf-8")
    reconciler = Reconciler(load_authorities(tmp_path, Minter(BASE)), 88.0)
    m = reconciler.match("Filippov [Stalin]", AGENTS)
    assert (m.authority.slug, m.method) == ("joseph-stalin", NORMALIZED)


def test_pseudonym_with_identification_in_the_shipped_authorities(reconciler: Reconciler) -> None:
    assert reconciler.match("Filippov [Stalin]", AGENTS).authority.slug == "joseph-stalin"
    assert reconciler.match("Peking", ("place",)).authority.slug == "beijing"


def test_fuzzy_match_carries_its_score(reconciler: Reconciler) -> None:
    m = reconciler.match("Zhou Enali", AGENTS)
    assert (m.authority.slug, m.method, m.score, m.label) == ("zhou-enlai", FUZZY, 90.0, "Zhou Enlai")


def test_fuzzy_threshold_is_respected(authorities) -> None:
    assert Reconciler(authorities, 95.0).match("Zhou Enali", AGENTS).authority is None


@pytest.mark.parametrize("written", ["Zhou", "Wei", "Zhu De", "Peng Dehuai", "Zhou Xiaoping", "Central Committee"])
def test_no_match_for_other_or_partial_names(reconciler: Reconciler, written: str) -> None:
    m = reconciler.match(written, AGENTS)
    assert m.authority is None and m.method == UNRECONCILED


def test_kinds_restrict_the_match(reconciler: Reconciler) -> None:
    assert reconciler.match("Geneva", ("place",)).authority.slug == "geneva"
    assert reconciler.match("Geneva", AGENTS).authority is None


def test_two_entries_sharing_a_name_are_not_guessed(tmp_path: Path) -> None:
    (tmp_path / "persons.yaml").write_text(
        "kind: person\nentries:\n"
        "  - {slug: li-fuchun, label: Li Fuchun, alt: [Comrade Li]}\n"
        "  - {slug: li-xiannian, label: Li Xiannian, alt: [Comrade Li]}\n", encoding="utf-8")
    m = Reconciler(load_authorities(tmp_path, Minter(BASE)), 88.0).match("Comrade Li", AGENTS)
    assert m.authority is None
    assert {a.slug for a in m.candidates} == {"li-fuchun", "li-xiannian"}


def test_guess_agent_kind() -> None:
    assert guess_agent_kind("Soviet Embassy in Beijing") == "organization"
    assert guess_agent_kind("CPSU CC") == "organization"
    assert guess_agent_kind("Kim Il Sung") == "person"


# -- in the mapping: recorded in the graph and reported ------------------------------------------

def test_fuzzy_name_in_a_record_is_linked_recorded_and_reported(repo_root: Path) -> None:
    mapper = _mapper(repo_root)
    result = mapper.map(_record(addressees=[Name.parse("Zhou Enali")]))
    role = URIRef(f"{result.uri}#addressee-1")
    g, d = result.graph, mapper.terms
    assert g.value(role, RDF.value) == URIRef(AGENT + "zhou-enlai")
    assert g.value(role, d.nameAsWritten) == Literal("Zhou Enali")
    assert g.value(role, d.matchMethod) == Literal("fuzzy")
    assert g.value(role, d.matchScore) == Literal("90.0", datatype=XSD.decimal)
    [outcome] = result.fuzzy
    assert (outcome.written, outcome.label, outcome.score) == ("Zhou Enali", "Zhou Enlai", 90.0)
    [problem] = [p for p in result.problems if p.code == "fuzzy-match"]
    assert problem.field == "addressees" and "90.0" in problem.message and "Zhou Enlai" in problem.message
    assert result.to_dict()["outcomes"][0]["score"] == 90.0


def test_unmatched_name_becomes_a_flagged_new_agent(repo_root: Path) -> None:
    mapper = _mapper(repo_root)
    # Peng Dehuai is not in the shipped authority files.
    result = mapper.map(_record(senders=[Name.parse("Comrade Peng Dehuai")]))
    g = result.graph
    new = URIRef(AGENT + "peng-dehuai")
    assert g.value(result.uri, DCTERMS.creator) == new
    assert g.value(new, mapper.terms.unreconciled) == Literal(True)
    assert (new, RDF.type, FOAF.Person) in g and (new, RDF.type, FOAF.Agent) in g
    assert g.value(new, SKOS.prefLabel) == Literal("Peng Dehuai")
    assert g.value(URIRef(f"{result.uri}#sender-1"), mapper.terms.nameAsWritten) == Literal("Comrade Peng Dehuai")
    [outcome] = result.unreconciled
    assert outcome.uri == new and outcome.field == "senders" and outcome.written == "Comrade Peng Dehuai"
    assert [p.code for p in result.problems] == ["unreconciled"]
    assert not any(str(o).startswith(AGENT) and o != new for o in g.objects(result.uri, DCTERMS.creator))


def test_new_agent_never_takes_an_authority_slug(tmp_path: Path, repo_root: Path) -> None:
    (tmp_path / "persons.yaml").write_text(
        "kind: person\nentries:\n  - {slug: stalin, label: Joseph Stalin}\n", encoding="utf-8")
    mapper = _mapper(repo_root, authorities_dir=tmp_path)
    result = mapper.map(_record(senders=[Name.parse("Stalin")]))
    # "Stalin" is not a label of that entry: it must not be merged into it, not even by its URI.
    assert result.graph.value(result.uri, DCTERMS.creator) == URIRef(AGENT + "stalin-2")


def test_unknown_place_and_topic_are_published_flagged(repo_root: Path) -> None:
    mapper = _mapper(repo_root)
    result = mapper.map(_record(signature_place="Kaesong", subjects=["Korean War"]))
    g = result.graph
    place, topic = URIRef(BASE + "id/place/kaesong"), URIRef(BASE + "id/topic/korean-war")
    assert g.value(URIRef(f"{result.uri}#event"), SEM.hasPlace) == place
    assert g.value(place, mapper.terms.unreconciled) == Literal(True)
    assert (result.uri, DCTERMS.subject, topic) in g and (topic, RDF.type, SKOS.Concept) in g
    assert sorted(o.field for o in result.unreconciled) == ["signature_place", "subjects"]


# -- mentions in the text ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def finder(authorities, reconciler) -> MentionFinder:
    return MentionFinder(authorities, reconciler)


def _found(finder: MentionFinder, text: str) -> list[tuple[str, str, str]]:
    mentions, _ = finder.find(text, "body")
    return [(m.text, m.authority.slug, m.method) for m in mentions]


def test_bracketed_forms_and_honorifics_in_text(finder: MentionFinder) -> None:
    text = "Please discuss with Comrades Ho (Chi Minh), Vo (Nguyen Giap) and Wei (Guoqing) to see"
    assert [slug for _, slug, _ in _found(finder, text)] == ["ho-chi-minh", "vo-nguyen-giap", "wei-guoqing"]


def test_bare_surname_and_longer_words_are_not_mentions(finder: MentionFinder) -> None:
    text = "We believe that [the opinion in] Wei's telegram should be adopted; the Vietnamese command agreed."
    assert _found(finder, text) == []


def test_longest_name_wins_and_case_is_checked(finder: MentionFinder) -> None:
    assert _found(finder, "the Cold War International History Project") == [
        ("Cold War International History Project", "cold-war-international-history-project", EXACT)]
    assert _found(finder, "the geneva conference") == []  # lower-case: not the proper name
    assert _found(finder, "troops in the Red River delta area") == [("Red River delta", "red-river-delta", EXACT)]


def test_misspelt_name_after_an_honorific_is_found_fuzzily(finder: MentionFinder) -> None:
    mentions, unmatched = finder.find(
        "(CCP) Guangxi Provincial Committee for conveying to Comrade Zhou Enali:", "salutation")
    assert [(m.text, m.authority.slug, m.method, m.score) for m in mentions] == [
        ("(CCP) Guangxi Provincial Committee", "ccp-guangxi-provincial-committee", ALTERNATIVE, None),
        ("Zhou Enali", "zhou-enlai", FUZZY, 90.0),
    ]
    assert unmatched == []


def test_unknown_name_after_an_honorific_is_reported_not_linked(finder: MentionFinder) -> None:
    mentions, unmatched = finder.find("Comrade Peng Dehuai said so.", "body")
    assert mentions == [] and [u.text for u in unmatched] == ["Peng Dehuai"]


def test_mention_offsets_point_into_the_original_text(finder: MentionFinder) -> None:
    text = "Hồ Chí Minh and Võ Nguyên Giáp met at Genève."
    mentions, _ = finder.find(text, "body")
    assert [text[m.start:m.end] for m in mentions] == ["Hồ Chí Minh", "Võ Nguyên Giáp", "Genève"]


def test_funder_and_holder_are_organizations(repo_root: Path) -> None:
    mapper = _mapper(repo_root)
    result = mapper.map(_record(
        funder_credit="This document was made possible with support from the Leon Levy Foundation.",
        original_archive="Archive of the Ministry of Foreign Affairs of the PRC",
    ))
    g = result.graph
    funder = g.value(result.uri, URIRef("https://schema.org/funder"))
    holder = g.value(result.uri, URIRef("https://www.ica.org/standards/RiC/ontology#hasOrHadHolder"))
    assert funder == URIRef(AGENT + "leon-levy-foundation")
    assert holder == URIRef(AGENT + "archive-of-the-ministry-of-foreign-affairs-of-the-prc")
    assert (holder, RDF.type, FOAF.Organization) in g and (funder, RDF.type, FOAF.Organization) in g
    assert sorted(o.field for o in result.unreconciled) == ["funder_credit", "original_archive"]
