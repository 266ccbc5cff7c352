"""Every answer drawn from a build names it in X-Docket-Build; DOCKET_PROXY_HOPS trusts a proxy's headers."""

from __future__ import annotations

import os

import pytest

from docket.serve import create_app
from docket.serve.sparql import close_runner
from docket.serve.wsgi import DocketServer

SEED = "1954-06-20-telegram-ccp-central-committee-to-zhou-enlai"


@pytest.fixture(scope="module")
def app(built_settings):
    app = create_app(built_settings)
    yield app
    close_runner(app)


def test_answers_name_the_build_they_come_from(app, built_settings):
    build = os.path.basename(os.readlink(built_settings.store_dir / "current"))
    client = app.test_client()
    for path, status in [(f"/id/record/{SEED}", 303), (f"/doc/record/{SEED}.ttl", 200),
                         (f"/doc/record/{SEED}.html", 200), ("/search?q=telegram", 200),
                         ("/api/search?q=telegram", 200), ("/sparql?query=ASK%7B%7D", 200),
                         ("/oai?verb=Identify", 200), ("/doc/record/no-such-record", 404)]:
        response = client.get(path)
        assert response.status_code == status, path
        assert response.headers["X-Docket-Build"] == build, path
    described = client.get(f"/doc/record/{SEED}.ttl")
    assert "X-Docket-Build" in described.headers["Access-Control-Expose-Headers"]
    # A conditional request answered 304 still says which build it checked against.
    again = client.get(f"/doc/record/{SEED}.ttl", headers={"If-None-Match": described.headers["ETag"]})
    assert again.status_code == 304 and again.headers["X-Docket-Build"] == build


def test_no_build_no_header(tmp_path):
    from conftest import make_settings

    client = create_app(make_settings(tmp_path)).test_client()
    response = client.get(f"/doc/record/{SEED}.ttl")
    assert response.status_code == 503 and "X-Docket-Build" not in response.headers


FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "docket.example"}


def test_forwarded_headers_are_trusted_only_with_proxy_hops(built_settings):
    plain = create_app(built_settings).test_client()
    body = plain.get("/sparql", headers={**FORWARDED, "Accept": "text/turtle"}).get_data(as_text=True)
    assert "https://docket.example/sparql" not in body and "http://localhost/sparql" in body
    proxied = create_app(built_settings.replace(proxy_hops=1)).test_client()
    body = proxied.get("/sparql", headers={**FORWARDED, "Accept": "text/turtle"}).get_data(as_text=True)
    assert "https://docket.example/sparql" in body


def test_gunicorn_configuration(built_settings):
    server = DocketServer(built_settings.replace(workers=3, sparql_timeout=20.0))
    cfg = server.cfg
    assert cfg.workers == 3 and cfg.worker_class_str == "gthread" and cfg.threads == 4
    assert cfg.preload_app is False  # the store and query workers are opened after the fork
    assert cfg.graceful_timeout == 30 and cfg.keepalive > 60
    assert cfg.limit_request_line == 0
