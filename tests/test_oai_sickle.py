"""Harvest a running server with Sickle, a harvester libraries use: everything, incrementally, and errors."""

from __future__ import annotations

import pytest

from docket.serve import create_app
from harvest_helpers import ALL_IDS, SEED_ID, Server, empty_settings, rebuilt  # noqa: F401

sickle = pytest.importorskip("sickle", reason="Sickle is a test dependency (pip install -e '.[test]')")
from sickle import Sickle, oaiexceptions  # noqa: E402


@pytest.fixture(scope="module")
def server(built_settings):
    with Server(create_app(built_settings.replace(oai_page_size=3))) as running:
        yield running


@pytest.fixture(scope="module")
def harvester(server) -> Sickle:
    return Sickle(f"{server.url}/oai", timeout=30)


def record_id(header) -> str:
    return header.identifier.rsplit(":", 1)[1]


def test_identify(harvester):
    identify = harvester.Identify()
    assert identify.protocolVersion == "2.0"
    assert identify.deletedRecord == "persistent"
    assert identify.baseURL == "http://example.org/oai"


def test_harvests_exactly_the_published_records(harvester, built_settings):
    from docket.store import current_manifest

    records = list(harvester.ListRecords(metadataPrefix="oai_dc"))  # two pages: resumption by token
    assert [record_id(r.header) for r in records] == ALL_IDS == sorted(current_manifest(built_settings).records)
    seed = records[0].metadata
    assert seed["title"] == ["Telegram, CCP Central Committee to Zhou Enlai"]
    assert seed["date"] == ["1954-06-20"]
    assert seed["identifier"] == [f"http://example.org/id/record/{SEED_ID}"]
    assert not any(r.deleted for r in records)


def test_harvests_by_post(server):
    harvester = Sickle(f"{server.url}/oai", http_method="POST", timeout=30)
    assert [record_id(h) for h in harvester.ListIdentifiers(metadataPrefix="oai_dc")] == ALL_IDS


def test_harvests_a_set_and_the_sets(harvester):
    assert [record_id(h) for h in harvester.ListIdentifiers(metadataPrefix="rdf", set="year:1956")] \
        == ["ex-0001", "ex-0002"]
    specs = [s.setSpec for s in harvester.ListSets()]
    assert "type:telegram" in specs and "decade:1950s" in specs
    assert [f.metadataPrefix for f in harvester.ListMetadataFormats()] == ["oai_dc", "rdf"]


def test_get_record(harvester):
    record = harvester.GetRecord(identifier="oai:example.org:ex-0002", metadataPrefix="oai_dc")
    assert record.metadata["title"] == ["Cable, Harbour Commission to the Ministry of Transport"]


def test_incremental_harvest_sees_changes_and_deletions(rebuilt):
    with Server(create_app(rebuilt.settings)) as running:  # page size 1: a token per record
        harvester = Sickle(f"{running.url}/oai", timeout=30)
        everything = list(harvester.ListIdentifiers(metadataPrefix="oai_dc"))
        assert [record_id(h) for h in everything] == ALL_IDS
        assert [record_id(h) for h in everything if h.deleted] == ["ex-0003"]
        since = list(harvester.ListRecords(metadataPrefix="oai_dc", **{"from": rebuilt.first_harvest}))
        assert {record_id(r.header): r.deleted for r in since} == {"ex-0001": False, "ex-0003": True}
        assert since[0].metadata["title"][0].endswith("(revised)")
        live = list(harvester.ListIdentifiers(metadataPrefix="oai_dc", ignore_deleted=True))
        assert [record_id(h) for h in live] == [SEED_ID, "ex-0001", "ex-0002"]
        with pytest.raises(oaiexceptions.OAIError, match="withdrawn"):  # Sickle lacks a NoMetadataFormats class
            list(harvester.ListMetadataFormats(identifier="oai:example.org:ex-0003"))


@pytest.mark.parametrize("call, error", [
    (lambda h: list(h.ListRecords(metadataPrefix="marc21")), oaiexceptions.CannotDisseminateFormat),
    (lambda h: h.GetRecord(identifier="oai:example.org:nothing", metadataPrefix="oai_dc"),
     oaiexceptions.IdDoesNotExist),
    (lambda h: list(h.ListRecords(metadataPrefix="oai_dc", until="1900-01-01")), oaiexceptions.NoRecordsMatch),
    (lambda h: list(h.ListIdentifiers(resumptionToken="not-a-token")), oaiexceptions.BadResumptionToken),
    (lambda h: list(h.ListRecords(metadataPrefix="oai_dc", **{"from": "yesterday"})), oaiexceptions.BadArgument),
    (lambda h: list(h.ListRecords(metadataPrefix="oai_dc", **{"from": "2020-01-01", "until": "2019-01-01"})),
     oaiexceptions.BadArgument),
])
def test_errors(harvester, call, error):
    with pytest.raises(error):
        call(harvester)


def test_bad_verb(server):
    harvester = Sickle(f"{server.url}/oai", timeout=30)
    response = harvester.harvest(verb="Harvest")
    assert response.xml.find(".//" + harvester.oai_namespace + "error").get("code") == "badVerb"


def test_no_set_hierarchy(empty_settings):
    with Server(create_app(empty_settings)) as running:
        harvester = Sickle(f"{running.url}/oai", timeout=30)
        with pytest.raises(oaiexceptions.NoSetHierarchy):
            list(harvester.ListSets())


