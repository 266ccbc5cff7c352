"""OAI-PMH 2.0 through the Flask test client: each verb, each error, paging, deletions, sets.

Every response is checked against the structure of the protocol's schema (OAI-PMH.xsd: element
order, namespaces, datestamp form) by ``check_document``; the schema file itself is not bundled
in any package installed here, so the structure is restated in the test.
"""

from __future__ import annotations

import base64
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from rdflib import Graph
from rdflib.compare import isomorphic

from docket.harvest.oai import OAI_NS
from docket.serve import create_app
from docket.store import Manifest, StoreLayout, open_current
from harvest_helpers import (ALL_IDS, OAI, SEED_ID, empty_settings, error_codes, header_ids, oai_get,  # noqa: F401
                             rebuilt)
from site_helpers import site_settings_built  # noqa: F401

XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
DC = "{http://purl.org/dc/elements/1.1/}"
OAI_DC = "{http://www.openarchives.org/OAI/2.0/oai_dc/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
BASE_URL = "http://example.org/oai"

# The content models of OAI-PMH.xsd, as sequences of child element names.
MODELS = {
    "OAI-PMH": r"responseDate request (error )+|responseDate request (Identify|ListMetadataFormats|ListSets|"
               r"GetRecord|ListIdentifiers|ListRecords) ",
    "Identify": r"repositoryName baseURL protocolVersion (adminEmail )+earliestDatestamp deletedRecord granularity "
                r"(compression )*(description )*",
    "ListMetadataFormats": r"(metadataFormat )+",
    "metadataFormat": r"metadataPrefix schema metadataNamespace ",
    "ListSets": r"(set )+(resumptionToken )?",
    "set": r"setSpec setName (setDescription )*",
    "ListIdentifiers": r"(header )+(resumptionToken )?",
    "ListRecords": r"(record )+(resumptionToken )?",
    "GetRecord": r"record ",
    "record": r"header (metadata )?(about )*",
    "header": r"identifier datestamp (setSpec )*",
}


def check_document(root: etree._Element) -> None:
    """Check an OAI-PMH response against the schema's structure; raise AssertionError if it strays."""
    assert root.tag == f"{{{OAI_NS}}}OAI-PMH"
    assert root.get(f"{XSI}schemaLocation") == f"{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
    assert STAMP.match(root.findtext(f"{OAI}responseDate"))
    assert root.findtext(f"{OAI}request") == BASE_URL
    for node in root.iter(f"{OAI}*"):
        name = etree.QName(node).localname
        if name in MODELS:
            children = "".join(etree.QName(c).localname + " " for c in node
                               if etree.QName(c).namespace == OAI_NS)
            assert all(etree.QName(c).namespace == OAI_NS for c in node), f"foreign element in {name}"
            assert re.fullmatch(MODELS[name], children), f"{name} holds {children!r}"
        if name == "header":
            assert node.get("status") in (None, "deleted")
            assert STAMP.match(node.findtext(f"{OAI}datestamp"))
            assert re.fullmatch(r"oai:example\.org:[a-z0-9.-]+", node.findtext(f"{OAI}identifier"))
        if name == "record":
            deleted = node.find(f"{OAI}header").get("status") == "deleted"
            metadata = node.find(f"{OAI}metadata")
            assert (metadata is None) == deleted
            if metadata is not None:
                assert len(metadata) == 1  # one element of the format's own namespace
        if name == "error":
            assert node.get("code") in {"badArgument", "badResumptionToken", "badVerb", "cannotDisseminateFormat",
                                        "idDoesNotExist", "noRecordsMatch", "noMetadataFormats", "noSetHierarchy"}
            assert node.text
        if name == "setSpec":
            assert re.fullmatch(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*", node.text)


def get(client, **params) -> etree._Element:
    root = oai_get(client, **params)
    check_document(root)
    return root


def only_error(root: etree._Element) -> str:
    codes = error_codes(root)
    assert len(codes) == 1, codes
    return codes[0]


@pytest.fixture(scope="module")
def app(built_settings):
    return create_app(built_settings)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def manifest(built_settings) -> Manifest:
    layout = StoreLayout(built_settings.store_dir)
    return Manifest.read(layout.manifest_path(layout.current()))


def paged_client(settings, size: int):
    return create_app(settings.replace(oai_page_size=size)).test_client()


# --- Identify ------------------------------------------------------------------------------------

def test_identify_describes_the_repository(client, manifest):
    root = get(client, verb="Identify")
    assert root.find(f"{OAI}request").attrib == {"verb": "Identify"}
    ident = root.find(f"{OAI}Identify")
    assert ident.findtext(f"{OAI}baseURL") == BASE_URL
    assert ident.findtext(f"{OAI}protocolVersion") == "2.0"
    assert ident.findtext(f"{OAI}adminEmail") == "docket@example.org"
    assert ident.findtext(f"{OAI}deletedRecord") == "persistent"
    assert ident.findtext(f"{OAI}granularity") == "YYYY-MM-DDThh:mm:ssZ"
    stamps = [h.findtext(f"{OAI}datestamp") for h in get(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
              .iter(f"{OAI}header")]
    assert ident.findtext(f"{OAI}earliestDatestamp") == min(stamps)
    ns = "{http://www.openarchives.org/OAI/2.0/oai-identifier}"
    assert ident.findtext(f".//{ns}repositoryIdentifier") == "example.org"
    sample = ident.findtext(f".//{ns}sampleIdentifier")
    assert header_ids(get(client, verb="GetRecord", identifier=sample, metadataPrefix="oai_dc"))


def test_identify_takes_no_arguments(client):
    root = get(client, verb="Identify", metadataPrefix="oai_dc")
    assert only_error(root) == "badArgument"
    assert root.find(f"{OAI}request").attrib == {}  # badArgument: the request is echoed without attributes


def test_post_is_answered_like_get(client):
    posted = etree.fromstring(client.post("/oai", data={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}).data)
    check_document(posted)
    assert header_ids(posted) == header_ids(get(client, verb="ListIdentifiers", metadataPrefix="oai_dc"))


# --- ListMetadataFormats -------------------------------------------------------------------------

def test_list_metadata_formats(client):
    root = get(client, verb="ListMetadataFormats")
    formats = {f.findtext(f"{OAI}metadataPrefix"): (f.findtext(f"{OAI}schema"), f.findtext(f"{OAI}metadataNamespace"))
               for f in root.iter(f"{OAI}metadataFormat")}
    assert formats["oai_dc"] == ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                                 "http://www.openarchives.org/OAI/2.0/oai_dc/")
    assert formats["rdf"][1] == "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    item = get(client, verb="ListMetadataFormats", identifier=f"oai:example.org:{SEED_ID}")
    assert len(list(item.iter(f"{OAI}metadataFormat"))) == 2


def test_list_metadata_formats_of_an_unknown_item(client):
    assert only_error(get(client, verb="ListMetadataFormats", identifier="oai:example.org:no-such-record")) \
        == "idDoesNotExist"
    assert only_error(get(client, verb="ListMetadataFormats", identifier="not an identifier")) == "idDoesNotExist"


def test_no_metadata_formats_for_a_withdrawn_item(rebuilt):
    client = create_app(rebuilt.settings).test_client()
    assert only_error(get(client, verb="ListMetadataFormats", identifier="oai:example.org:ex-0003")) \
        == "noMetadataFormats"


# --- ListSets ------------------------------------------------------------------------------------

def test_list_sets_by_type_collection_decade_and_year(client):
    root = get(client, verb="ListSets")
    sets = {s.findtext(f"{OAI}setSpec"): s.findtext(f"{OAI}setName") for s in root.iter(f"{OAI}set")}
    assert sets["type:telegram"] == "Document type: Telegram"
    assert sets["collection:docket-examples"] == "Collection: Docket Examples"
    assert sets["decade:1950s"] == "The 1950s"
    assert sets["year:1954"] == "Year 1954"
    assert {"type", "collection", "decade", "year"} <= set(sets)  # the parents of the hierarchy
    assert root.find(f".//{OAI}resumptionToken") is None


def test_list_sets_in_pages(built_settings, client):
    everything = [s.findtext(f"{OAI}setSpec") for s in get(client, verb="ListSets").iter(f"{OAI}set")]
    paged = paged_client(built_settings, 5)
    seen, root = [], get(paged, verb="ListSets")
    while True:
        seen += [s.findtext(f"{OAI}setSpec") for s in root.iter(f"{OAI}set")]
        token = root.find(f".//{OAI}resumptionToken")
        assert token.get("completeListSize") == str(len(everything))
        if not token.text:
            break
        root = get(paged, verb="ListSets", resumptionToken=token.text)
    assert seen == everything


def test_no_set_hierarchy_in_a_repository_without_sets(empty_settings):
    client = create_app(empty_settings).test_client()
    assert only_error(get(client, verb="ListSets")) == "noSetHierarchy"
    assert only_error(get(client, verb="ListRecords", metadataPrefix="oai_dc", set="type:telegram")) == "noSetHierarchy"
    assert only_error(get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="year")) == "noSetHierarchy"
    assert only_error(get(client, verb="ListRecords", metadataPrefix="oai_dc")) == "noRecordsMatch"
    ident = get(client, verb="Identify").find(f"{OAI}Identify")
    assert ident.findtext(f"{OAI}earliestDatestamp") == "2026-01-02T03:04:05Z"


# --- ListIdentifiers -----------------------------------------------------------------------------

def test_list_identifiers_lists_every_published_record(client, manifest):
    root = get(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    assert header_ids(root) == ALL_IDS
    stamps = {h.findtext(f"{OAI}datestamp") for h in root.iter(f"{OAI}header")}
    # One build published them all: stamped with the second after it was switched in, not its start.
    assert len(stamps) == 1 and stamps.pop() > manifest.created
    assert root.find(f".//{OAI}resumptionToken") is None


def test_list_identifiers_by_set(client):
    assert header_ids(get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="type:telegram")) == [SEED_ID]
    assert header_ids(get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="year:1956")) \
        == ["ex-0001", "ex-0002"]
    assert header_ids(get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="decade:1950s")) == ALL_IDS
    assert header_ids(get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="collection")) \
        == ["ex-0001", "ex-0002", "ex-0003"]
    seed = get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="type:telegram")
    assert [s.text for s in seed.iter(f"{OAI}setSpec")] == ["decade", "decade:1950s", "type", "type:telegram",
                                                            "year", "year:1954"]


def seed_stamp(client) -> str:
    root = get(client, verb="GetRecord", metadataPrefix="oai_dc", identifier=f"oai:example.org:{SEED_ID}")
    return root.findtext(f".//{OAI}datestamp")


def test_list_identifiers_from_until(client):
    stamp = seed_stamp(client)
    day = stamp[:10]
    assert header_ids(get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": stamp})) == ALL_IDS
    assert header_ids(get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", until=stamp)) == ALL_IDS
    assert header_ids(get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": day}, until=day)) \
        == ALL_IDS
    assert only_error(get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", until="1999-12-31")) \
        == "noRecordsMatch"
    assert only_error(get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": "2999-01-01"})) \
        == "noRecordsMatch"


def test_no_records_match_an_unknown_set(client):
    assert only_error(get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", set="type:sonnet")) \
        == "noRecordsMatch"


def test_list_identifiers_needs_a_known_format(client):
    assert only_error(get(client, verb="ListIdentifiers", metadataPrefix="marc21")) == "cannotDisseminateFormat"
    assert only_error(get(client, verb="ListIdentifiers")) == "badArgument"


def test_resumption_tokens_page_through_the_list(built_settings):
    client = paged_client(built_settings, 1)
    root = get(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    seen, cursors = [], []
    while True:
        seen += header_ids(root)
        token = root.find(f".//{OAI}resumptionToken")
        assert token.get("completeListSize") == "4"
        cursors.append(token.get("cursor"))
        if not token.text:
            break
        root = get(client, verb="ListIdentifiers", resumptionToken=token.text)
        assert root.find(f"{OAI}request").get("resumptionToken") == token.text
    assert seen == ALL_IDS
    assert cursors == ["0", "1", "2", "3"]


def test_resumption_tokens_keep_the_set_and_dates(built_settings):
    client = paged_client(built_settings, 1)
    stamp = seed_stamp(client)
    root = get(client, verb="ListRecords", metadataPrefix="oai_dc", set="collection", until=stamp)
    seen = header_ids(root)
    while (token := root.find(f".//{OAI}resumptionToken")) is not None and token.text:
        root = get(client, verb="ListRecords", resumptionToken=token.text)
        seen += header_ids(root)
        assert root.find(f".//{OAI_DC}dc") is not None  # still oai_dc
    assert seen == ["ex-0001", "ex-0002", "ex-0003"]


def test_a_token_survives_a_rebuild(rebuilt):
    client = create_app(rebuilt.settings).test_client()
    root = get(client, verb="ListIdentifiers", resumptionToken=rebuilt.first_token)
    assert rebuilt.first_page == [SEED_ID]
    # The list goes on after the last identifier sent, in the new build: ex-0003 is now deleted.
    seen = header_ids(root)
    while (token := root.find(f".//{OAI}resumptionToken")) is not None and token.text:
        root = get(client, verb="ListIdentifiers", resumptionToken=token.text)
        seen += header_ids(root)
    assert seen == ["ex-0001", "ex-0002", "ex-0003"]


def test_the_build_index_is_read_a_page_at_a_time(built_settings, manifest, monkeypatch):
    from docket.harvest.index import INDEX_FILE, IndexReader

    layout = StoreLayout(built_settings.store_dir)
    index = IndexReader(layout.current() / INDEX_FILE)
    assert index.build_id == manifest.build_id
    assert index.count() == len(ALL_IDS)
    assert [item.id for item in index.page("", 2)] == ALL_IDS[:2]
    assert [item.id for item in index.page(ALL_IDS[1], 10)] == ALL_IDS[2:]
    assert index.get(SEED_ID).sets and index.get("no-such-record") is None
    assert index.count("collection") == len(index.page("", 100, "collection")) == 3
    # The list's size is counted for its first page only; the tokens carry it.
    counted = []
    monkeypatch.setattr(IndexReader, "count", lambda self, *a: counted.append(a) or len(ALL_IDS))
    client = paged_client(built_settings, 1)
    root = get(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    while (token := root.find(f".//{OAI}resumptionToken")) is not None and token.text:
        root = get(client, verb="ListIdentifiers", resumptionToken=token.text)
        assert token.get("completeListSize") == str(len(ALL_IDS))
    assert counted == [(None, None, None)]


def test_an_unreadable_index_is_computed_again(built_settings, manifest, tmp_path):
    from docket.harvest.index import INDEX_FILE, load_index
    from docket.uris import Minter

    (tmp_path / INDEX_FILE).write_bytes(b"not a database")
    with open_current(built_settings) as store:
        index = load_index(tmp_path, store, manifest.build_id, lambda: manifest, Minter.from_settings(built_settings))
        assert [item.id for item in index.page("", 100)] == ALL_IDS


# --- bad resumption tokens -----------------------------------------------------------------------

def first_token(settings, verb="ListIdentifiers") -> str:
    root = get(paged_client(settings, 1), verb=verb, metadataPrefix="oai_dc")
    return root.find(f".//{OAI}resumptionToken").text


def test_bad_resumption_tokens(built_settings, client):
    token = first_token(built_settings)
    body, _, check = token.partition(".")
    state = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps(state | {"after": "ex-0002"}).encode()).decode().rstrip("=")
    for bad in ("garbage", "", token + "x", f"{forged}.{check}", "e30.0000000000000000"):
        assert only_error(get(client, verb="ListIdentifiers", resumptionToken=bad)) == "badResumptionToken", bad
    # A token is good only for the verb that issued it.
    assert only_error(get(client, verb="ListRecords", resumptionToken=token)) == "badResumptionToken"
    assert only_error(get(client, verb="ListSets", resumptionToken=token)) == "badResumptionToken"


def test_a_token_from_another_repository_is_bad(built_settings, client):
    other = paged_client(built_settings.replace(base_uri="http://elsewhere.example/"), 1)
    token = get_raw_token(other)
    assert only_error(get(client, verb="ListIdentifiers", resumptionToken=token)) == "badResumptionToken"


def get_raw_token(client) -> str:
    root = oai_get(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    return root.find(f".//{OAI}resumptionToken").text


def test_resumption_token_is_exclusive(built_settings, client):
    token = first_token(built_settings)
    root = get(client, verb="ListIdentifiers", resumptionToken=token, metadataPrefix="oai_dc")
    assert only_error(root) == "badArgument"


# --- ListRecords and GetRecord -------------------------------------------------------------------

def test_list_records_in_oai_dc(client):
    root = get(client, verb="ListRecords", metadataPrefix="oai_dc")
    assert header_ids(root) == ALL_IDS
    dcs = root.findall(f".//{OAI}metadata/{OAI_DC}dc")
    assert len(dcs) == 4
    for dc in dcs:
        assert dc.get(f"{XSI}schemaLocation") == ("http://www.openarchives.org/OAI/2.0/oai_dc/ "
                                                 "http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
        assert all(etree.QName(child).namespace == DC[1:-1] for child in dc)


def test_oai_dc_of_the_seed(client):
    root = get(client, verb="GetRecord", metadataPrefix="oai_dc", identifier=f"oai:example.org:{SEED_ID}")
    dc = root.find(f".//{OAI_DC}dc")
    values: dict[str, list[str]] = {}
    for child in dc:
        values.setdefault(etree.QName(child).localname, []).append(child.text)
    assert values["title"] == ["Telegram, CCP Central Committee to Zhou Enlai"]
    assert values["creator"] == ["CCP Central Committee"]
    assert values["date"] == ["1954-06-20"]
    assert values["type"] == ["Text", "Telegram"]
    assert values["identifier"] == [f"http://example.org/id/record/{SEED_ID}"]
    assert "Addressed to: Zhou Enlai" in values["description"]
    assert "ZX vol. 4, p. 509" in values["source"]
    assert "http://rightsstatements.org/vocab/InC-EDU/1.0/" in values["rights"]
    assert "Chen Jian" in values["contributor"]
    assert values["publisher"] == ["Docket"]
    assert "Geneva Conference" in " ".join(values["subject"])


def test_rdf_format_carries_the_whole_record_graph(client, built_settings):
    root = get(client, verb="GetRecord", metadataPrefix="rdf", identifier=f"oai:example.org:{SEED_ID}")
    rdf = root.find(f".//{OAI}metadata/{RDF}RDF")
    assert rdf is not None
    harvested = Graph().parse(data=etree.tostring(rdf), format="xml")
    with open_current(built_settings) as store:
        published = Graph().parse(data=store.dump(f"http://example.org/graph/record/{SEED_ID}", "nt"), format="nt")
    assert len(harvested) == len(published) > 50
    assert isomorphic(harvested, published)


def test_get_record_errors(client):
    assert only_error(get(client, verb="GetRecord", metadataPrefix="marc21", identifier=f"oai:example.org:{SEED_ID}")) \
        == "cannotDisseminateFormat"
    assert only_error(get(client, verb="GetRecord", metadataPrefix="oai_dc", identifier="oai:example.org:nothing")) \
        == "idDoesNotExist"
    assert sorted(error_codes(get(client, verb="GetRecord", metadataPrefix="marc21", identifier="oai:x:y"))) \
        == ["cannotDisseminateFormat", "idDoesNotExist"]
    assert only_error(get(client, verb="GetRecord", metadataPrefix="oai_dc")) == "badArgument"
    assert only_error(get(client, verb="GetRecord", identifier=f"oai:example.org:{SEED_ID}")) == "badArgument"


def test_list_records_needs_a_known_format(client):
    assert only_error(get(client, verb="ListRecords", metadataPrefix="mods")) == "cannotDisseminateFormat"
    assert only_error(get(client, verb="ListRecords")) == "badArgument"


# --- deletions and incremental harvesting --------------------------------------------------------

def test_withdrawn_records_are_deleted_records(rebuilt):
    client = create_app(rebuilt.settings).test_client()
    root = get(client, verb="GetRecord", metadataPrefix="oai_dc", identifier="oai:example.org:ex-0003")
    header = root.find(f".//{OAI}header")
    assert header.get("status") == "deleted"
    assert root.find(f".//{OAI}metadata") is None
    # Deleted when the build that withdrew it was published; its sets are the ones it had.
    revised = get(client, verb="GetRecord", metadataPrefix="oai_dc", identifier="oai:example.org:ex-0001")
    assert header.findtext(f"{OAI}datestamp") == revised.findtext(f".//{OAI}datestamp") > rebuilt.second_created
    assert "type:letter" in [s.text for s in header.iter(f"{OAI}setSpec")]
    listed = get(client, verb="ListRecords", metadataPrefix="rdf", set="type:letter")
    assert header_ids(listed) == ["ex-0003"]


def test_incremental_harvest_with_from(rebuilt):
    client = create_app(rebuilt.settings.replace(oai_page_size=10)).test_client()
    root = get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": rebuilt.first_harvest})
    headers = {h.findtext(f"{OAI}identifier"): h.get("status") for h in root.iter(f"{OAI}header")}
    assert headers == {"oai:example.org:ex-0001": None, "oai:example.org:ex-0003": "deleted"}
    before = get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", until=rebuilt.first_harvest)
    assert header_ids(before) == [SEED_ID, "ex-0002"]  # unchanged since the first build
    revised = get(client, verb="GetRecord", metadataPrefix="oai_dc", identifier="oai:example.org:ex-0001")
    assert revised.findtext(f".//{DC}title").endswith("(revised)")


# --- bad verbs and arguments ---------------------------------------------------------------------

@pytest.mark.parametrize("query", ["", "verb=Nonsense", "verb=listrecords", "verb=Identify&verb=Identify",
                                   "metadataPrefix=oai_dc"])
def test_bad_verb(client, query):
    root = etree.fromstring(client.get("/oai?" + query).data)
    check_document(root)
    assert only_error(root) == "badVerb"
    assert root.find(f"{OAI}request").attrib == {}


@pytest.mark.parametrize("query", [
    "verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc",  # repeated
    "verb=ListRecords&metadataPrefix=oai_dc&colour=blue",  # illegal
    "verb=ListSets&metadataPrefix=oai_dc",
    "verb=ListMetadataFormats&set=type",
    "verb=ListRecords&metadataPrefix=oai_dc&from=2020-13-01",
    "verb=ListRecords&metadataPrefix=oai_dc&from=20200101",
    "verb=ListRecords&metadataPrefix=oai_dc&from=2020-01-01T00:00:00",  # no Z
    "verb=ListRecords&metadataPrefix=oai_dc&from=2020-01-01T00:00:00.5Z",  # finer than seconds
    "verb=ListRecords&metadataPrefix=oai_dc&from=2021-01-01&until=2020-01-01",  # from after until
    "verb=ListRecords&metadataPrefix=oai_dc&from=2020-01-01&until=2021-01-01T00:00:00Z",  # mixed
    "verb=ListIdentifiers&metadataPrefix=",
    "verb=ListIdentifiers&metadataPrefix=oai_dc&set=type%20telegram",  # not a setSpec
    "verb=ListIdentifiers&metadataPrefix=oai_dc&set=type:",
    "verb=GetRecord&metadataPrefix=oai%20dc&identifier=oai:example.org:ex-0001",  # not a metadataPrefix
])
def test_bad_argument(client, query):
    root = etree.fromstring(client.get("/oai?" + query).data)
    check_document(root)
    assert only_error(root) == "badArgument"
    assert root.find(f"{OAI}request").attrib == {}


def test_responses_are_namespaced_and_well_formed(client):
    for params in ({"verb": "Identify"}, {"verb": "ListSets"}, {"verb": "ListRecords", "metadataPrefix": "rdf"}):
        data = client.get("/oai", query_string=params).data
        assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
        root = etree.fromstring(data)
        assert root.nsmap[None] == OAI_NS
        check_document(root)


def test_an_altered_record_stays_well_formed():
    from docket.harvest.oai_dc import clean

    assert clean("bell\x07 and \ufffe gone") == "bell and  gone"


# --- paging, as a property -----------------------------------------------------------------------

def _stamp(day: int, second: int) -> str:
    return f"2026-01-{day:02d}T00:00:{second:02d}Z"


items_strategy = st.lists(
    st.tuples(st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True), st.integers(1, 28), st.integers(0, 59),
              st.booleans(), st.sampled_from([(), ("type", "type:cable"), ("year", "year:1956")])),
    max_size=25, unique_by=lambda t: t[0])


@settings(max_examples=60, deadline=None)
@given(items=items_strategy, size=st.integers(1, 7), lower=st.integers(1, 28), span=st.integers(0, 27),
       wanted=st.sampled_from([None, "type", "year:1956"]))
def test_paging_returns_exactly_the_selected_headers(items, size, lower, span, wanted):
    from docket.config import Settings
    from docket.harvest.index import HarvestIndex, Item
    from docket.harvest.oai import Repository, respond

    index = HarvestIndex("b1", "2026-02-01T00:00:00Z",
                         [Item(rid, _stamp(day, sec), deleted, sets) for rid, day, sec, deleted, sets in items],
                         {"type": "Types", "type:cable": "Cable", "year": "Years", "year:1956": "1956"})
    repo = Repository(index.reader(), None, Settings.load(env={}, base_uri="http://example.org/", oai_page_size=size))
    start, end = f"2026-01-{lower:02d}", f"2026-01-{min(lower + span, 28):02d}"
    expected = sorted(rid for rid, day, sec, _, sets in items
                      if lower <= day <= min(lower + span, 28) and (wanted is None or wanted in sets))
    params = [("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc"), ("from", start), ("until", end)]
    params += [("set", wanted)] if wanted else []
    seen, cursors = [], []
    root = etree.fromstring(respond(repo, params))
    while True:
        check_document(root)
        if not expected:
            assert only_error(root) == "noRecordsMatch"
            break
        seen += header_ids(root)
        token = root.find(f".//{OAI}resumptionToken")
        if token is None:
            assert len(expected) <= size
            break
        assert token.get("completeListSize") == str(len(expected))
        cursors.append(int(token.get("cursor")))
        if not token.text:
            break
        root = etree.fromstring(respond(repo, [("verb", "ListIdentifiers"), ("resumptionToken", token.text)]))
    assert seen == expected
    assert cursors == list(range(0, len(cursors) * size, size))


# --- a build made without the harvest files ------------------------------------------------------

def test_a_build_made_without_harvest_files_is_still_harvestable(site_settings_built):
    from site_helpers import BUILT, MERGED, SEED_ID as SITE_SEED, SYNTHETIC, WITHDRAWN

    client = create_app(site_settings_built.replace(oai_page_size=1000)).test_client()
    root = get(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    headers = {h.findtext(f"{OAI}identifier").rsplit(":", 1)[1]: h for h in root.iter(f"{OAI}header")}
    assert len(headers) == 1 + SYNTHETIC + 2
    assert SITE_SEED in headers
    for gone, day in ((WITHDRAWN, "2026-02-01"), (MERGED, "2026-02-02")):
        assert headers[gone].get("status") == "deleted"
        assert headers[gone].findtext(f"{OAI}datestamp") == f"{day}T00:00:00Z"  # no earlier index: the withdrawal date
    built = BUILT.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert headers[SITE_SEED].findtext(f"{OAI}datestamp") == built
    assert get(client, verb="ListSets").find(f".//{OAI}set") is not None
    sitemap = client.get("/sitemap-1.xml")
    assert sitemap.status_code == 200 and f"/doc/record/{SITE_SEED}".encode() in sitemap.data
    assert WITHDRAWN.encode() not in sitemap.data
    void = client.get("/.well-known/void")
    assert void.status_code == 200 and b"void:triples" in void.data and b"void:dataDump" not in void.data
    assert client.get("/dumps/").get_json()["files"] == []
    assert client.get("/dumps/docket.nt.gz").status_code == 404
