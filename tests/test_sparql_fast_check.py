"""Queries that cannot hold SERVICE, FROM or LOAD skip rdflib's slow parse; every refusal still stands."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from docket.sparql import guard
from docket.sparql.jobs import Job, answer

from test_sparql_safety import SERVICE_QUERIES

EX = "http://example.org/"


@pytest.fixture
def store():
    s = ox.Store()
    s.add(ox.Quad(ox.NamedNode(EX + "s"), ox.NamedNode(EX + "p"), ox.Literal("o"), ox.NamedNode(EX + "g")))
    return s


@pytest.fixture
def parses(monkeypatch):
    """Count the full (rdflib) parses."""
    calls = []
    original = guard._parse.__wrapped__

    def spy(text):
        calls.append(text)
        return original(text)

    monkeypatch.setattr(guard, "_parse", spy)
    return calls


def job(query: str, **kw) -> Job:
    return Job(query, "", "json", 100, **kw)


@pytest.mark.parametrize("query, form", [
    ("SELECT ?o WHERE { ?s ?p ?o }", "select"),
    ("ASK { ?s ?p ?o }", "ask"),
    (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}", "construct"),
    (f"DESCRIBE <{EX}s>", "describe"),
])
def test_a_plain_query_runs_without_rdflibs_parse(store, parses, query, form):
    outcome = answer(store, job(query))
    assert (outcome.error, outcome.form, parses) == (None, form, [])
    assert outcome.body


@pytest.mark.parametrize("template", SERVICE_QUERIES)
def test_every_service_query_takes_the_full_check_and_is_refused(store, parses, template):
    query = template.format(url="http://127.0.0.1:9/sparql")
    assert not guard.may_skip_parse(query)
    outcome = answer(store, job(query))
    assert outcome.error_kind == "refused" and "SERVICE is not allowed" in outcome.error
    assert parses == [query]


@pytest.mark.parametrize("query", [
    f"SELECT * FROM <{EX}elsewhere> WHERE {{ ?s ?p ?o }}",
    f"SELECT * from named <{EX}elsewhere> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "SELECT * WHERE { ?s ?p ?o } # a comment that says from",
    "SELECT * WHERE { ?s ?p \"download\" }",  # LOAD inside a word: a full parse, which accepts it
    "SELECT * WHERE { ?s ?p ?o FILTER(?o = \"\\u0041\") }",
    "ſelect * WHERE { ſervice <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o } " + "#" * 3000,
])
def test_risky_words_escapes_and_long_texts_take_the_full_check(query):
    assert not guard.may_skip_parse(query)


def test_an_update_sent_as_a_query_is_still_refused_as_one(store, parses):
    update = f"INSERT DATA {{ <{EX}a> <{EX}b> <{EX}c> }}"
    assert guard.may_skip_parse(update)  # no risky word: Oxigraph's query parser turns it down ...
    outcome = answer(store, job(update))
    assert outcome.error_kind == "refused" and "read-only" in outcome.error  # ... and the guard says why
    assert parses == [update] and len(store) == 1


def test_a_syntax_error_gets_rdflibs_message(store, parses):
    outcome = answer(store, job("SELECT * WHERE { ?s ?p "))
    assert outcome.error_kind == "refused" and outcome.error.startswith("SPARQL syntax error")
    assert outcome.status == 400 and len(parses) == 1


def test_no_acceptable_format_is_said_after_the_fast_run(store):
    outcome = answer(store, Job("SELECT * WHERE { ?s ?p ?o }", "", None, 100))
    assert (outcome.error_kind, outcome.form) == ("not_acceptable", "select")


WORDS = st.sampled_from(["SELECT", "*", "WHERE", "{", "}", "?s", "?p", "?o", "SERVICE", "service", "ſervice",
                         "SERV", "ICE", "FROM", "from", "NAMED", "LOAD", "<http://127.0.0.1:9/>", "#", "\n",
                         "\"", "'", "\\u0053", "\\U00000053", "ERVICE", "GRAPH", "OPTIONAL", "SILENT", "(", ")"])


@hsettings(max_examples=400, deadline=None)
@given(st.lists(WORDS, max_size=25).map(" ".join) | st.lists(WORDS, max_size=25).map("".join))
def test_the_fast_path_never_skips_what_the_full_check_refuses(text):
    """Whatever the text, a query the full check refuses for SERVICE or FROM is never run unparsed."""
    try:
        guard._parse.__wrapped__(text)
    except guard.QuerySyntaxError:
        return
    except guard.UpdateRefused:
        return
    except guard.Refused:
        assert not guard.may_skip_parse(text)
        return
    checked = guard._parse.__wrapped__(text)
    if checked.has_dataset:
        assert not guard.may_skip_parse(text)
