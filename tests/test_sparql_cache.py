"""The endpoint's cache of answers: a repeated query is answered without running it, on the same build only."""

from __future__ import annotations

import datetime as dt

import pytest

from docket.memo import SizedCache
from docket.serve.sparql import CACHE_HEADER, TRUNCATED_HEADER
from docket.sparql.runner import QueryRunner
from sparql_helpers import app_for, publish, settings_for, shutdown

QUERY = "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 2"
JSON = "application/sparql-results+json"


@pytest.fixture
def runs(monkeypatch):
    """Count the queries that reach a query worker."""
    seen: list[str] = []
    real = QueryRunner.run

    def counted(self, job, timeout=None):
        seen.append(job.query)
        return real(self, job, timeout)

    monkeypatch.setattr(QueryRunner, "run", counted)
    return seen


@pytest.fixture
def setup(tmp_path):
    settings = settings_for(tmp_path, sparql_row_cap=1)
    publish(settings)
    app = app_for(settings)
    yield settings, app
    shutdown(app)


def ask(client, query=QUERY, accept=JSON):
    return client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})


def test_a_repeated_query_is_answered_from_the_cache(setup, runs):
    _, app = setup
    client = app.test_client()
    first, second = ask(client), ask(client)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.headers[CACHE_HEADER] == "miss" and second.headers[CACHE_HEADER] == "hit"
    assert second.data == first.data and second.content_type == first.content_type
    assert second.headers[TRUNCATED_HEADER] == "true"  # the row cap (1) still shows
    assert runs == [QUERY]


def test_format_and_text_are_part_of_the_key(setup, runs):
    _, app = setup
    client = app.test_client()
    json_answer, xml_answer = ask(client), ask(client, accept="application/sparql-results+xml")
    assert xml_answer.headers[CACHE_HEADER] == "miss" and xml_answer.data != json_answer.data
    assert ask(client, QUERY + " # another text").headers[CACHE_HEADER] == "miss"
    assert len(runs) == 3


def test_errors_are_not_kept(setup, runs):
    _, app = setup
    client = app.test_client()
    for _ in range(2):
        assert ask(client, "SELECT WHERE {").status_code == 400
    assert len(runs) == 2


def test_a_new_build_is_asked_afresh(setup, runs):
    settings, app = setup
    client = app.test_client()
    before = ask(client, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    publish(settings, numbers=5, now=dt.datetime(2026, 1, 11, tzinfo=dt.timezone.utc))
    after = ask(client, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert after.headers[CACHE_HEADER] == "miss" and after.data != before.data
    assert len(runs) == 2


def test_no_cache_when_turned_off(tmp_path, runs):
    settings = settings_for(tmp_path, sparql_cache_bytes=0)
    publish(settings)
    app = app_for(settings)
    try:
        client = app.test_client()
        answers = [ask(client), ask(client)]
    finally:
        shutdown(app)
    assert all(a.status_code == 200 and CACHE_HEADER not in a.headers for a in answers)
    assert len(runs) == 2


def test_the_cache_forgets_the_least_recently_used_within_its_bound():
    cache: SizedCache[str] = SizedCache(100, largest=60)
    assert cache.put("a", "A", 40) and cache.put("b", "B", 40)
    assert cache.get("a") == "A"  # now b is the least recently used
    assert cache.put("c", "C", 40)
    assert cache.get("b") is None and cache.get("a") == "A" and cache.get("c") == "C"
    assert cache.size == 80 <= cache.limit
    assert not cache.put("huge", "H", 61) and cache.get("huge") is None
    assert cache.put("a", "A2", 10) and cache.size == 50 and cache.get("a") == "A2"
    assert SizedCache(80).largest == 10  # by default no answer takes more than an eighth
