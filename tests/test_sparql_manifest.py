"""The W3C SPARQL 1.1 Protocol test manifest, run against /sparql; update tests expect the refusal.

The manifest (``../shared/conformance/sparql11/protocol/``, beside the repository) is read with
rdflib; each test's requests are replayed in order with the Flask test client. Its datasets
(``data1-3.nt``) are loaded as the named graphs the tests name, never fetched. Tests whose first
request is a SPARQL Update expected to succeed get, on this read-only endpoint, a refusal (403),
and their follow-up queries (which check the update's effect) are not run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pyoxigraph as ox
import pytest
from rdflib import Graph, Namespace
from rdflib.collection import Collection
from rdflib.namespace import RDF

from docket.serve.handle import StoreHandle
from sparql_helpers import PROTOCOL_DIR, app_for, conformance_store, settings_for, shutdown

MANIFEST = PROTOCOL_DIR / "manifest.ttl"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = "http://www.w3.org/2011/http-statusCodes#StatusCode"

pytestmark = pytest.mark.skipif(
    not MANIFEST.is_file(),
    reason=f"the W3C conformance material is not at {PROTOCOL_DIR} (CI puts it at ../shared/conformance)",
)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: str | None
    statuses: set[int]  # expected status classes: 2 for 2xx ...
    boolean: bool | None
    form: str | None  # boolean, tabular or RDF


@dataclass
class ProtocolTest:
    name: str
    title: str
    requests: list[Request]

    @property
    def is_update(self) -> bool:
        first = self.requests[0]
        content_type = first.headers.get("content-type", "")
        return first.method == "POST" and 2 in first.statuses and (
            content_type.startswith("application/sparql-update") or (first.body or "").startswith("update="))


def load_tests() -> list[ProtocolTest]:
    if not MANIFEST.is_file():
        return []
    g = Graph().parse(MANIFEST, format="turtle")
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    tests = []
    for entry in Collection(g, g.value(manifest, MF.entries)):
        action = g.value(entry, MF.action)
        requests = []
        for req in Collection(g, g.value(action, HT.requests)):
            headers = {}
            header_list = g.value(req, HT.headers)
            if header_list is not None:
                for h in Collection(g, header_list):
                    headers[str(g.value(h, HT.fieldName)).lower()] = str(g.value(h, HT.fieldValue))
            body = g.value(req, HT.body)
            resp = g.value(req, HT.resp)
            boolean = g.value(resp, MF.expectedBoolean)
            form = g.value(resp, MF.expectedFormat)
            requests.append(Request(
                method=str(g.value(req, HT.methodName)),
                path=str(g.value(req, HT.absolutePath)),
                headers=headers,
                body=str(g.value(body, CNT.chars)) if body is not None else None,
                statuses={int(str(s)[len(HTS)]) for s in g.objects(resp, MF.expectedStatus)},
                boolean=None if boolean is None else boolean.toPython(),
                form=None if form is None else str(form),
            ))
        tests.append(ProtocolTest(str(entry).rsplit("#", 1)[-1], str(g.value(entry, MF.name)), requests))
    return tests


TESTS = load_tests()


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sparql-manifest")
    settings = settings_for(tmp)
    app = app_for(settings, StoreHandle(settings, conformance_store(tmp / "conformance")))
    yield app.test_client()
    shutdown(app)


def test_manifest_was_read():
    assert len(TESTS) == 34
    assert sum(t.is_update for t in TESTS) == 7


def send(client, req: Request):
    headers = dict(req.headers)
    content_type = headers.pop("content-type", None)
    kwargs = {"headers": headers}
    if req.body is not None:
        kwargs["data"] = req.body.encode("utf-16" if "UTF-16" in (content_type or "") else "utf-8")
    if content_type is not None:
        kwargs["content_type"] = content_type
    return client.open(req.path, method=req.method, **kwargs)


@pytest.mark.parametrize("test", TESTS, ids=[t.name for t in TESTS])
def test_protocol(client, test: ProtocolTest):
    if test.is_update:
        r = send(client, test.requests[0])
        assert r.status_code == 403, (test.title, r.status_code, r.data)
        assert "read-only" in r.get_json()["detail"]
        return
    for req in test.requests:
        r = send(client, req)
        assert r.status_code // 100 in req.statuses, (test.title, r.status_code, r.data)
        if req.form == "boolean":
            answer = json.loads(r.data)
            assert isinstance(answer["boolean"], bool)
            if req.boolean is not None:
                assert answer["boolean"] is req.boolean, test.title
        elif req.form == "tabular":
            solutions = ox.parse_query_results(r.data, format=ox.QueryResultsFormat.JSON)
            assert isinstance(solutions, ox.QuerySolutions)
            list(solutions)
        elif req.form == "RDF":
            list(ox.parse(r.data, format=ox.RdfFormat.TURTLE))
            assert r.mimetype == "text/turtle"


def test_service_description_manifest(client):
    """The three service-description tests: GET returns RDF, with a matching sd:endpoint, as the schema says."""
    r = client.get("/sparql/")
    assert r.status_code == 200
    triples = list(ox.parse(r.data, format=ox.RdfFormat.TURTLE, base_iri="http://localhost/sparql/"))
    sd = "http://www.w3.org/ns/sparql-service-description#"
    endpoints = [t for t in triples if t.predicate.value == sd + "endpoint"]
    assert [t.object.value for t in endpoints] == ["http://localhost/sparql/"]
    service = endpoints[0].subject
    types = {t.object.value for t in triples if t.subject == service and t.predicate.value == str(RDF.type)}
    assert sd + "Service" in types
    languages = {t.object.value for t in triples if t.predicate.value == sd + "supportedLanguage"}
    assert languages == {sd + "SPARQL11Query"}
