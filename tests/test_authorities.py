"""Load the authority files and the rights table; refuse malformed ones with a precise message."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from docket.mapping.authorities import AuthorityError, authorities_graph, load_authorities
from docket.mapping.rights import RightsTable, RightsTableError
from docket.mapping.vocab import DCTERMS, FOAF, OWL, RDF, SCHEMA, SEM, SKOS, XSD
from docket.uris import Minter

BASE = "http://example.org/"
HPPP = ("The History and Public Policy Program welcomes reuse of Digital Archive materials for research and "
        "educational purposes. Some documents may be subject to copyright.")


@pytest.fixture(scope="module")
def shipped(repo_root: Path):
    return load_authorities(repo_root / "data" / "authorities", Minter(BASE))


def test_shipped_authorities_cover_the_seed(shipped) -> None:
    wanted = {
        "person": {"zhou-enlai", "ho-chi-minh", "vo-nguyen-giap", "wei-guoqing", "chen-jian"},
        "organization": {"ccp-central-committee", "ccp-guangxi-provincial-committee", "vietnamese-peoples-army",
                         "cold-war-international-history-project", "history-and-public-policy-program"},
        "place": {"red-river-delta", "geneva", "guangxi", "vietnam"},
        "event": {"geneva-conference-1954"},
        "topic": {"first-indochina-war"},
        "type": {"telegram", "cable", "memorandum", "minutes", "record-of-conversation", "letter", "report",
                 "diary", "note", "resolution", "transcript"},
    }
    for kind, slugs in wanted.items():
        assert slugs <= {a.slug for a in shipped.of_kinds([kind])}, kind


def test_authorities_graph(shipped) -> None:
    minter = Minter(BASE)
    g = authorities_graph(shipped, minter)
    zhou = URIRef(BASE + "id/agent/zhou-enlai")
    assert {(zhou, RDF.type, FOAF.Person), (zhou, RDF.type, FOAF.Agent)} <= set(g)
    assert set(g.objects(zhou, SKOS.prefLabel)) == {Literal("Zhou Enlai", lang="en"), Literal("周恩来", lang="zh")}
    assert Literal("Chou En-lai") in set(g.objects(zhou, SKOS.altLabel))
    assert g.value(URIRef(BASE + "id/agent/ho-chi-minh"), OWL.sameAs) == URIRef("http://www.wikidata.org/entity/Q36014")
    assert g.value(zhou, OWL.sameAs) is None  # no identifier that was not verified
    delta = URIRef(BASE + "id/place/red-river-delta")
    assert g.value(delta, SCHEMA.containedInPlace) == URIRef(BASE + "id/place/vietnam")
    assert (delta, RDF.type, DCTERMS.Location) in g
    telegram = URIRef(BASE + "id/type/telegram")
    assert g.value(telegram, SKOS.inScheme) == minter.scheme("document-types")
    assert (minter.scheme("document-types"), RDF.type, SKOS.ConceptScheme) in g
    conference = URIRef(BASE + "id/event/geneva-conference-1954")
    assert (conference, RDF.type, SEM.Event) in g
    assert g.value(conference, SEM.hasBeginTimeStamp) == Literal("1954-04-26", datatype=XSD.date)


def _load(tmp_path: Path, text: str, name: str = "persons.yaml"):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return load_authorities(tmp_path, Minter(BASE))


@pytest.mark.parametrize("text, message", [
    ("kind: persons\nentries: []\n", "'kind' must be one of"),
    ("kind: person\nentries:\n  - {slug: Zhou Enlai, label: Zhou Enlai}\n", "entry 1 (Zhou Enlai): 'slug' must be"),
    ("kind: person\nentries:\n  - {slug: zhou-enlai}\n", "entry 1 (zhou-enlai): 'label' is required"),
    ("kind: person\nentries:\n  - {slug: zhou-enlai, label: Zhou Enlai, alts: [Chou]}\n", "unknown key(s) alts"),
    ("kind: person\nentries:\n  - {slug: a, label: A, ids: {wikidata: '16977'}}\n", "wikidata identifier"),
    ("kind: person\nentries:\n  - {slug: a, label: A, ids: {isni: '1'}}\n", "unknown identifier scheme"),
    ("kind: person\nentries:\n  - {slug: a, label: A, begin: '1954'}\n", "'begin' is only for event"),
    ("kind: event\nentries:\n  - {slug: a, label: A, begin: '1954-07', end: '1954-04-26'}\n", "before 'begin'"),
    ("kind: event\nentries:\n  - {slug: a, label: A, begin: 'June 1954'}\n", "must be an ISO date"),
    ("kind: event\nentries:\n  - {slug: a, label: A, place: nowhere}\n", "which is no place entry"),
    ("kind: person\nentries:\n  - {slug: a, label: A}\n  - {slug: a, label: B}\n", "entry 2 (a): slug 'a' is already used"),
    ("kind: person\nentries: [\n", "cannot be read as YAML"),
])
def test_malformed_files_are_refused_with_file_entry_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(AuthorityError, match="persons.yaml") as info:
        _load(tmp_path, text)
    assert message in str(info.value)


def test_persons_and_organizations_share_the_agent_slugs(tmp_path: Path) -> None:
    (tmp_path / "organizations.yaml").write_text("kind: organization\nentries:\n  - {slug: a, label: A}\n",
                                                 encoding="utf-8")
    with pytest.raises(AuthorityError, match="slug 'a' is already used by organizations.yaml, entry 1"):
        _load(tmp_path, "kind: person\nentries:\n  - {slug: a, label: A}\n")


def test_unquoted_yaml_dates_are_read(tmp_path: Path) -> None:
    a = _load(tmp_path, "kind: event\nentries:\n  - {slug: a, label: A, begin: 1954-04-26, end: 1954-07}\n",
              "events.yaml")
    assert (a.entries[0].begin, a.entries[0].end) == ("1954-04-26", "1954-07")


def test_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(AuthorityError, match="does not exist"):
        load_authorities(tmp_path / "nope", Minter(BASE))


# -- rights table --------------------------------------------------------------------------------

def test_rights_statement_matches_by_key_phrase(repo_root: Path) -> None:
    table = RightsTable.load(repo_root / "data" / "rights.csv")
    entry = table.match(HPPP)
    assert entry is not None and entry.uri == URIRef("http://rightsstatements.org/vocab/InC-EDU/1.0/")
    reflowed = HPPP.replace(" ", "\n  ").replace("Digital Archive", "DIGITAL ARCHIVE")
    assert table.match(reflowed) == entry
    assert table.match("All rights reserved by the author.") is None
    g = table.graph()
    assert g.value(entry.uri, SKOS.prefLabel) == Literal("In Copyright - Educational Use Permitted", lang="en")


@pytest.mark.parametrize("text, message", [
    ("key,uri\n", "line 1: the header must be phrase,uri,kind,label"),
    ("phrase,uri,kind,label\nx,not a uri,statement,X\n", "line 2: 'not a uri' is not an http(s) URI"),
    ("phrase,uri,kind,label\nx,http://x.org/,licence,X\n", "line 2: kind must be statement or license"),
    ("phrase,uri,kind,label\nx,http://x.org/,statement\n", "line 2: expected 4 cells, found 3"),
])
def test_malformed_rights_table_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rights.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RightsTableError) as info:
        RightsTable.load(path)
    assert message in str(info.value) and "rights.csv" in str(info.value)


def test_merged_slugs_are_published_as_replaced_and_stay_taken(tmp_path: Path) -> None:
    a = _load(tmp_path, "kind: person\nentries:\n  - {slug: zhou-enlai, label: Zhou Enlai, replaces: [zhou-enali]}\n")
    g = authorities_graph(a, Minter(BASE))
    old, new = URIRef(BASE + "id/agent/zhou-enali"), URIRef(BASE + "id/agent/zhou-enlai")
    assert g.value(old, DCTERMS.isReplacedBy) == new and g.value(new, DCTERMS.replaces) == old
    assert "zhou-enali" in a.slugs("agent")
    with pytest.raises(AuthorityError, match="slug 'zhou-enali' is already used"):
        _load(tmp_path, "kind: person\nentries:\n  - {slug: a, label: A, replaces: [zhou-enali]}\n"
                        "  - {slug: zhou-enali, label: B}\n")
