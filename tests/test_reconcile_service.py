"""The reconciliation service (Reconciliation Service API 0.2, as OpenRefine speaks it) over a published build.

Requests are the ones the specification shows and OpenRefine sends: a form-encoded ``queries``
batch by POST (or GET), the manifest, previews, suggest. Names are the spelling variants the
mapping reconciles ("Zhou Enali", "Chou En-lai"), names that exist only in records, and names
that match nothing.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from docket.reconcile import MAX_QUERIES, ReconciliationService, load_entities
from docket.serve import create_app
from docket.store import open_current
from docket.uris import Minter

BASE = "http://example.org/"
ZHOU = f"{BASE}id/agent/zhou-enlai"
HO = f"{BASE}id/agent/ho-chi-minh"
GENEVA = f"{BASE}id/place/geneva"
CONFERENCE = f"{BASE}id/event/geneva-conference-1954"
ANNA = f"{BASE}id/agent/anna-berg"


@pytest.fixture(scope="module")
def client(built_settings):
    return create_app(built_settings).test_client()


@pytest.fixture(scope="module")
def service(built_settings):
    with open_current(built_settings) as store:
        index = load_entities(store, Minter.from_settings(built_settings))
    return ReconciliationService(index, Minter.from_settings(built_settings), built_settings.fuzzy_threshold)


def batch(client, queries: dict, method: str = "POST") -> dict:
    """Send a batch as OpenRefine does (form-encoded ``queries``) and check the answer's shape."""
    text = json.dumps(queries)
    if method == "POST":
        response = client.post("/reconcile", data={"queries": text})
    else:
        response = client.get("/reconcile", query_string={"queries": text})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    answer = response.get_json()
    assert set(answer) == set(queries)
    for key, value in answer.items():
        check_results(value["result"])
    return answer


def check_results(results: list) -> None:
    """Check what the 0.2 result schema requires of every candidate."""
    for c in results:
        assert isinstance(c["id"], str) and isinstance(c["name"], str)
        assert isinstance(c["score"], (int, float)) and not isinstance(c["score"], bool)
        assert isinstance(c["match"], bool)
        assert all(isinstance(t, dict) and isinstance(t["id"], str) for t in c["type"])
        assert all(isinstance(f["id"], str) and isinstance(f["value"], (bool, int, float)) for f in c["features"])
    scores = [c["score"] for c in results]
    assert scores == sorted(scores, reverse=True)
    assert sum(c["match"] for c in results) <= 1


def ids(results: list) -> list[str]:
    return [c["id"] for c in results]


# --- the manifest ---------------------------------------------------------------------------------

def test_the_manifest_says_what_the_service_offers(client):
    response = client.get("/reconcile")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    m = response.get_json()
    assert "0.2" in m["versions"]
    assert m["name"] and m["identifierSpace"] == f"{BASE}id/" and m["schemaSpace"] == f"{BASE}ontology#"
    assert [t["id"] for t in m["defaultTypes"]] == ["person", "organization", "place", "event", "topic"]
    assert all(t["name"] for t in m["defaultTypes"])
    assert "{{id}}" in m["view"]["url"] and "{{id}}" in m["preview"]["url"]
    assert isinstance(m["preview"]["width"], int) and isinstance(m["preview"]["height"], int)
    entity = m["suggest"]["entity"]
    assert entity["service_url"] == f"{BASE}reconcile" and entity["service_path"] == "/suggest/entity"
    assert "${id}" in entity["flyout_service_path"]
    # Every URL the manifest names answers.
    assert client.get(m["preview"]["url"].replace("{{id}}", ZHOU)[len(BASE) - 1:]).status_code == 200
    assert client.get(m["view"]["url"].replace("{{id}}", ZHOU)[len(BASE) - 1:]).status_code == 303
    for kind in ("entity", "type", "property"):
        s = m["suggest"][kind]
        assert client.get((s["service_url"] + s["service_path"])[len(BASE) - 1:] + "?prefix=z").status_code == 200
    flyout = entity["service_url"] + entity["flyout_service_path"].replace("${id}", ZHOU)
    assert client.get(flyout[len(BASE) - 1:]).get_json()["id"] == ZHOU


def test_the_manifest_by_jsonp(client):
    response = client.get("/reconcile?callback=jQuery123_456")
    assert response.mimetype == "application/javascript"
    text = response.get_data(as_text=True)
    m = re.fullmatch(r"/\*\*/jQuery123_456\((.*)\);", text, re.S)
    assert m and json.loads(m.group(1))["versions"] == ["0.2"]
    assert client.get("/reconcile?callback=alert(1)").status_code == 400


# --- queries -------------------------------------------------------------------------------------

def test_the_spelling_variants_the_mapping_reconciles(client):
    answer = batch(client, {"q0": {"query": "Zhou Enali"}, "q1": {"query": "Chou En-lai"},
                            "q2": {"query": "Zhou Enlai", "type": "person"}})
    enali, chou, exact = (answer[k]["result"] for k in ("q0", "q1", "q2"))
    assert ids(enali)[0] == ZHOU
    assert 88 <= enali[0]["score"] < 100 and enali[0]["match"] is False  # fuzzy: for a person to confirm
    assert ids(chou)[0] == ZHOU and chou[0]["score"] == 100 and chou[0]["match"] is True
    assert ids(exact)[0] == ZHOU and exact[0]["match"] is True and exact[0]["name"] == "Zhou Enlai"
    assert exact[0]["type"] == [{"id": "person", "name": "Person"}]
    assert "Premier" in exact[0]["description"]


def test_get_answers_the_same_as_post(client):
    queries = {"q0": {"query": "Chou En-lai", "limit": 3}}
    assert batch(client, queries, "GET") == batch(client, queries, "POST")


def test_a_json_body_and_a_single_query(client):
    response = client.post("/reconcile", json={"queries": {"q0": {"query": "Chou En-lai"}}})
    assert ids(response.get_json()["q0"]["result"])[0] == ZHOU
    single = client.get("/reconcile", query_string={"query": "Zhou Enali"}).get_json()
    assert ids(single["result"])[0] == ZHOU
    as_json = client.get("/reconcile", query_string={"query": json.dumps({"query": "Geneva", "type": "event"})})
    assert ids(as_json.get_json()["result"]) == [CONFERENCE]


def test_names_that_came_only_from_records_are_found(client):
    result = batch(client, {"q0": {"query": "Anna Berg"}})["q0"]["result"]
    assert ids(result)[0] == ANNA and result[0]["match"] is True
    assert "not (yet) in the authority files" in result[0]["description"]


def test_a_name_that_matches_nothing(client):
    answer = batch(client, {"q0": {"query": "Winston Churchill"}, "q1": {"query": "Qwxz Plorth"}})
    assert answer["q0"]["result"] == [] and answer["q1"]["result"] == []


@pytest.mark.parametrize("query, expected", [
    ({"query": "Geneva", "type": "place"}, [GENEVA]),
    ({"query": "Geneva", "type": "event"}, [CONFERENCE]),
    ({"query": "Geneva", "type": "person"}, []),
    ({"query": "Geneva", "type": ["place", "event"]}, [GENEVA, CONFERENCE]),
    ({"query": "Geneva", "type": "https://schema.org/Place"}, [GENEVA]),
    ({"query": "Zhou Enlai", "type": "agent"}, [ZHOU]),
    ({"query": "Geneva", "type": ["place", "event"], "type_strict": "all"}, []),
])
def test_type_filters(client, query, expected):
    assert ids(batch(client, {"q0": query})["q0"]["result"]) == expected


def test_type_strict_should_prefers_but_does_not_require(client):
    should = batch(client, {"q0": {"query": "Geneva", "type": "event", "type_strict": "should"}})["q0"]["result"]
    any_type = batch(client, {"q0": {"query": "Geneva"}})["q0"]["result"]
    assert set(ids(should)) == set(ids(any_type)) == {GENEVA, CONFERENCE}
    score = {c["id"]: c["score"] for c in should}
    assert score[GENEVA] < {c["id"]: c["score"] for c in any_type}[GENEVA]  # the place now ranks lower ...
    assert score[CONFERENCE] == {c["id"]: c["score"] for c in any_type}[CONFERENCE]  # ... the event does not
    assert not any(c["match"] for c in should)  # and the exact name of a place is no longer certain


def test_unambiguous_results_only_are_matches_and_look_alikes_score_lower(client):
    result = batch(client, {"q0": {"query": "Zhou"}, "q1": {"query": "Central Committee"}})
    assert ids(result["q0"]["result"]) == [ZHOU] and result["q0"]["result"][0]["match"] is False
    assert result["q0"]["result"][0]["score"] < 88
    committee = result["q1"]["result"]
    assert ids(committee)[0] == f"{BASE}id/agent/ccp-central-committee" and not committee[0]["match"]


def test_limit(client):
    result = batch(client, {"q0": {"query": "Geneva", "limit": 1}})["q0"]["result"]
    assert ids(result) == [GENEVA]
    response = client.post("/reconcile", data={"queries": json.dumps({"q0": {"query": "Geneva", "limit": 0}})})
    assert response.status_code == 400 and "limit" in response.get_json()["detail"]


def test_an_identifier_property_confirms_or_contradicts(client):
    answer = batch(client, {
        "q0": {"query": "Ho Chi Minh", "properties": [{"pid": "sameAs", "v": "Q36014"}]},
        "q1": {"query": "Ho Chi Minh", "properties": [{"pid": "wikidata", "v": "Q1"}]},
        "q2": {"properties": [{"pid": "sameAs", "v": "http://www.wikidata.org/entity/Q36014"}]},
        "q3": {"query": "Nguyen Ai Quoc", "properties": [{"pid": "sameAs", "v": {"id": "Q36014"}}]},
    })
    confirmed, contradicted, by_id, alt = (answer[k]["result"] for k in ("q0", "q1", "q2", "q3"))
    assert ids(confirmed) == [HO] and confirmed[0]["match"] is True
    assert {"id": "identifier_match", "value": True} in confirmed[0]["features"]
    assert ids(contradicted) == [HO] and contradicted[0]["match"] is False and contradicted[0]["score"] < 100
    assert {"id": "identifier_match", "value": False} in contradicted[0]["features"]
    assert ids(by_id) == [HO] and by_id[0]["match"] is True
    assert ids(alt)[0] == HO and alt[0]["match"] is True
    assert all(c["match"] is False and c["score"] < 100 for c in alt[1:])


@pytest.mark.parametrize("queries, status, words", [
    ("not json", 400, "not JSON"),
    ("", 400, "not JSON"),
    ('["Zhou Enlai"]', 400, "must be a JSON object"),
    ('{"q0": "Zhou Enlai"}', 400, "query 'q0' must be a JSON object"),
    ('{"q0": {"limit": 3}}', 400, "neither a 'query' string nor 'properties'"),
    ('{"q0": {"query": "Geneva", "type": "city"}}', 400, "unknown type 'city'"),
    ('{"q0": {"query": "Geneva", "type_strict": "maybe"}}', 400, "type_strict"),
    ('{"q0": {"query": "Geneva", "properties": [{"pid": "P19", "v": "x"}]}}', 400, "unknown property 'P19'"),
    (json.dumps({f"q{i}": {"query": "Geneva"} for i in range(MAX_QUERIES + 1)}), 413,
     f"at most {MAX_QUERIES} queries and this one holds {MAX_QUERIES + 1}"),
    (json.dumps({"q0": {"query": "x" * 2000}}), 400, "longer than"),
])
def test_refused_batches_say_why(client, queries, status, words):
    response = client.post("/reconcile", data={"queries": queries}, headers={"Accept": "application/json"})
    assert response.status_code == status
    assert words in response.get_json()["detail"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_full_batch_is_answered_and_a_huge_body_refused(client):
    full = {f"q{i}": {"query": name} for i, name in
            zip(range(MAX_QUERIES), ["Zhou Enali", "Chou En-lai", "Geneva", "Hanoi", "Cold War"] * MAX_QUERIES)}
    assert len(batch(client, full)) == MAX_QUERIES
    huge = json.dumps({"q0": {"query": "Geneva", "padding": "x" * (2 * 1024 * 1024)}})
    response = client.post("/reconcile", data={"queries": huge})
    assert response.status_code == 413


def test_cors_preflight_for_a_post(client):
    response = client.options("/reconcile", headers={"Origin": "https://example.net",
                                                     "Access-Control-Request-Method": "POST",
                                                     "Access-Control-Request-Headers": "Content-Type"})
    assert response.status_code in (200, 204)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


# --- preview, view, suggest ----------------------------------------------------------------------------

def test_the_preview_shows_the_entity_and_the_records_naming_it(client):
    response = client.get("/reconcile/preview", query_string={"id": ZHOU})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Zhou Enlai" in html and "Chou En-lai" in html and "周恩来" in html
    assert "Named in 1 record" in html and "Telegram, CCP Central Committee to Zhou Enlai" in html
    assert client.get("/reconcile/preview", query_string={"id": f"{BASE}id/agent/nobody"}).status_code == 404
    assert client.get("/reconcile/preview").status_code == 400


def test_the_preview_counts_records_from_the_resource_index_not_the_store(client, built_settings, monkeypatch):
    # Asking the store reads every record graph that links to the entity (a hundred thousand for a
    # busy correspondent of a million records); the build's index answers the same from one row.
    import docket.serve.reconcile as served
    from docket.reconcile import mentions

    minter = Minter.from_settings(built_settings)
    with open_current(built_settings) as store:
        expected = {uri: mentions(store, minter, uri) for uri in (ZHOU, GENEVA, CONFERENCE)}

    def refused(*args, **kwargs):
        raise AssertionError("the preview read the store's record graphs")

    monkeypatch.setattr(served, "mentions", refused)
    assert expected[ZHOU][0] >= 1
    for uri, (count, records) in expected.items():
        html = client.get("/reconcile/preview", query_string={"id": uri}).get_data(as_text=True)
        assert (f"Named in {count} record" in html) if count else ("Named in" not in html)
        for record, title in records:
            assert record in html and title in html


def test_the_preview_escapes_what_it_shows():
    from rdflib import URIRef

    from docket.mapping.authorities import Authority
    from docket.reconcile import Entity, EntityIndex

    uri = f"{BASE}id/agent/mallory"
    hostile = Authority(kind="person", slug="mallory", label="<script>alert(1)</script>", uri=URIRef(uri),
                        alt=('"><img src=x onerror=alert(1)>',), note="Tom & Jerry")
    service = ReconciliationService(EntityIndex({uri: Entity(hostile, "Tom & Jerry")}), Minter(BASE), 88.0)
    html = service.preview(uri)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "Tom &amp; Jerry" in html
    assert service.preview(f"{BASE}id/agent/nobody") is None


def test_view_goes_to_the_entity(client):
    response = client.get("/reconcile/view", query_string={"id": GENEVA})
    assert response.status_code == 303 and response.headers["Location"] == GENEVA
    assert client.get("/reconcile/view", query_string={"id": "http://evil.example/"}).status_code == 404


def test_suggest_completes_names_and_alternative_names(client):
    result = client.get("/reconcile/suggest/entity?prefix=chou").get_json()["result"]
    assert ids(result) == [ZHOU] and "Chou En" in result[0]["description"]
    assert result[0]["notable"] == [{"id": "person", "name": "Person"}]
    places = client.get("/reconcile/suggest/entity?prefix=g&type=place").get_json()["result"]
    assert places and all(c["notable"][0]["id"] == "place" for c in places)
    assert GENEVA in ids(places)
    first, second = (client.get(f"/reconcile/suggest/entity?prefix=c&limit=2&cursor={c}").get_json()["result"]
                     for c in (0, 2))
    assert len(first) == 2 and not set(ids(first)) & set(ids(second))
    assert client.get("/reconcile/suggest/entity?prefix=").get_json() == {"result": []}
    assert client.get("/reconcile/suggest/entity?prefix=a&cursor=-1").status_code == 400


def test_suggest_types_and_properties(client):
    types = client.get("/reconcile/suggest/type?prefix=pl").get_json()["result"]
    assert [t["id"] for t in types] == ["place"]
    props = client.get("/reconcile/suggest/property?prefix=same").get_json()["result"]
    assert [p["id"] for p in props] == ["sameAs"]


# --- properties of the scoring ---------------------------------------------------------------------------

def test_every_preferred_and_alternative_label_finds_its_entity(service):
    for entity in service.index.entities.values():
        a = entity.authority
        for name, _ in a.names():
            result = service.reconcile({"query": name, "type": a.kind})
            assert result and result[0].entity.id == entity.id and result[0].score == 100, (name, entity.id)


@hsettings(max_examples=60, deadline=None)
@given(text=st.text(min_size=1, max_size=40).filter(lambda t: t.strip()),
       kind=st.sampled_from([None, "person", "organization", "place", "event", "topic", "agent"]))
def test_any_name_gets_a_well_formed_answer(service, text, kind):
    query = {"query": text} if kind is None else {"query": text, "type": kind}
    results = [c.to_json() for c in service.reconcile(query)]
    check_results(results)
    assert all(0 <= c["score"] <= 100 for c in results)
    assert len(results) <= 5


def test_entities_are_read_without_the_records_events_and_labels(built_settings):
    # Every record has its own sem:Event and a label; at a million records, reading them all to
    # throw them away cost the serving process its memory.
    class Counting:
        def __init__(self, store):
            self.store, self.subjects = store, []

        def query(self, sparql, **kwargs):
            for row in self.store.query(sparql, **kwargs):
                self.subjects.append(row["s"].value)
                yield row

    minter = Minter.from_settings(built_settings)
    with open_current(built_settings) as store:
        counting = Counting(store)
        index = load_entities(counting, minter)
        record_events = list(store.query("SELECT ?s WHERE { ?s a <http://semanticweb.cs.vu.nl/2009/11/sem/Event> "
                                         'FILTER(CONTAINS(STR(?s), "#event")) }', union_default_graph=True))
    assert record_events and len(index) > 0
    assert counting.subjects
    assert all(minter.split(s) and minter.split(s)[0] in ("agent", "place", "event", "topic")
               for s in counting.subjects)
