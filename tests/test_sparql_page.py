"""The /sparql query page: a plain form that works without JavaScript, and the YASGUI editor over it.

Without the editor's files (``make assets`` copies them from npm into ``static/vendor``) the page is
the form and the examples; with them it loads YASGUI from this server, never from another host, and
headless Chromium shows the editor with the examples as tabs and runs a shared link's query through it.
Screenshots go where tests/test_live_server.py puts its own.
"""

from __future__ import annotations

import re
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import lxml.html
import pytest

from docket.serve import create_app
from docket.serve import sparql as sparql_module
from docket.serve.sparql import close_runner, examples
from site_helpers import client, site_app, site_settings_built  # noqa: F401  (fixtures)
from test_live_server import ARTIFACTS, CHROMIUM, live  # noqa: F401  (the live site fixture)

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
needs_editor = pytest.mark.skipif(not sparql_module.editor_installed(),
                                  reason="the SPARQL editor is not installed (run `make assets`, which needs npm)")
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="`chromium` is not on PATH (Debian: apt-get install chromium)")


def page(client) -> tuple[object, lxml.html.HtmlElement]:
    response = client.get("/sparql", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return response, lxml.html.fromstring(response.get_data(as_text=True))


@pytest.fixture(scope="module")
def querying_client(site_settings_built):
    """A client of an app of its own, whose query workers are stopped after the module."""
    app = create_app(site_settings_built)
    app.config["TESTING"] = True
    yield app.test_client()
    close_runner(app)


@pytest.fixture
def without_editor(monkeypatch, tmp_path):
    """Serve the page as on a machine where `make assets` could not run (no npm)."""
    monkeypatch.setattr(sparql_module, "VENDOR", tmp_path / "vendor")
    assert not sparql_module.editor_installed()


# --- without JavaScript ------------------------------------------------------------------------------


@pytest.mark.parametrize("editor", [False, pytest.param(True, marks=needs_editor)])
def test_the_page_lists_the_examples_and_its_forms_query_this_endpoint(request, client, site_settings_built, editor):
    if not editor:
        request.getfixturevalue("without_editor")
    _, doc = page(client)
    form = doc.get_element_by_id("query-form")
    assert form.get("method") == "get"
    assert urllib.parse.urlsplit(form.get("action")).path == "/sparql"
    textarea = form.find(".//textarea[@name='query']")
    assert textarea is not None and textarea.get("id") == "query"
    assert doc.find(".//label[@for='query']") is not None
    listed = doc.find_class("example")
    wanted = examples(site_settings_built)
    assert [a.get("data-title") for a in listed] == [title for title, _, _ in wanted]
    for article, (title, explanation, text) in zip(listed, wanted):
        assert article.findtext(".//h3") == title
        assert explanation in article.text_content()
        assert article.find_class("example-query")[0].text_content() == text
        run = article.find(".//form")
        assert urllib.parse.urlsplit(run.get("action")).path == "/sparql" and run.get("method") == "get"
        assert run.find(".//input[@name='query']").get("value") == text
    assert textarea.text.strip() == wanted[0][2].strip()


def test_submitting_the_form_without_javascript_answers_the_query(querying_client):
    """What a browser does with the plain form: GET /sparql?query=… with its own Accept header."""
    client = querying_client
    _, doc = page(client)
    form = doc.get_element_by_id("query-form")
    query = form.find(".//textarea[@name='query']").text
    response = client.get(urllib.parse.urlsplit(form.get("action")).path, query_string={"query": query},
                          headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert "Telegram, CCP Central Committee to Zhou Enlai" in response.get_data(as_text=True)
    for article in doc.find_class("example"):
        text = article.find(".//input[@name='query']").get("value")
        assert client.get("/sparql", query_string={"query": text}).status_code == 200, article.get("data-title")


def test_the_page_without_the_editor_loads_no_script(client, without_editor):
    response, doc = page(client)
    assert doc.xpath("//script") == []
    assert doc.get_element_by_id("query-form").get("hidden") is None
    assert "yasgui" not in response.get_data(as_text=True)


def test_the_content_security_policy_allows_this_server_only(client):
    response, _ = page(client)
    policy = dict(d.strip().split(None, 1) for d in response.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'none'"
    for directive in ("script-src", "style-src", "connect-src"):
        assert policy[directive] == "'self'", directive
    assert policy["form-action"] == "'self'" and policy["frame-ancestors"] == "'none'"
    for sources in policy.values():
        assert not re.search(r"https?:|\*|'unsafe-", sources), sources
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_script_or_style_comes_from_another_host(client):
    response, doc = page(client)
    urls = doc.xpath("//script/@src") + doc.xpath("//link[@rel='stylesheet']/@href")
    assert urls, "the page has at least its own stylesheet"
    for url in urls:
        assert not urllib.parse.urlsplit(url).netloc, url
        assert url.startswith("/static/"), url
    assert not re.search(r"""<(script|link)[^>]+(src|href)=["'](https?:)?//""", response.get_data(as_text=True))


# --- with the editor's files ----------------------------------------------------------------------------


@needs_editor
def test_the_page_loads_the_editor_from_this_server(client):
    _, doc = page(client)
    scripts = doc.xpath("//script/@src")
    styles = doc.xpath("//link[@rel='stylesheet']/@href")
    assert scripts == ["/static/vendor/yasgui.min.js", "/static/sparql-editor.js"]
    assert "/static/vendor/yasgui.min.css" in styles
    assert all(s.getparent().get("defer") is not None for s in doc.xpath("//script/@src"))
    for url, media in [(scripts[0], "text/javascript"), (scripts[1], "text/javascript"),
                       ("/static/vendor/yasgui.min.css", "text/css"), ("/static/sparql.css", "text/css")]:
        served = client.get(url)
        assert served.status_code == 200, url
        assert served.mimetype == media, url
        if "/vendor/" in url:
            assert served.data == (sparql_module.VENDOR / Path(url).name).read_bytes()
        served.close()


# --- in a browser -------------------------------------------------------------------------------------


def browse(tmp_path: Path, url: str, *args: str) -> tuple[str, list[str]]:
    """Load ``url`` in headless Chromium; return its stdout and the page's console messages."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-dev-shm-usage",
               "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--log-level=0",
               "--virtual-time-budget=15000", *args, url]
    done = subprocess.run(command, capture_output=True, timeout=120)
    log = done.stderr.decode(errors="replace")
    assert done.returncode == 0, log[-2000:]
    return done.stdout.decode("utf-8"), [line for line in log.splitlines() if ":CONSOLE" in line]


# YASR's column resizer inserts a <style> element; the policy refuses it and sparql.css has its rules.
KNOWN_REFUSAL = re.compile(r"Applying inline style violates .*style-src 'self'.*source: \S+/static/vendor/yasgui\.min\.js")


def assert_quiet(console: list[str]) -> None:
    """No script error and nothing refused by the page's policy, but the one known, harmless refusal."""
    for line in console:
        assert "Uncaught" not in line, line
        if "Content Security Policy" in line or "Refused" in line:
            assert KNOWN_REFUSAL.search(line), line


@needs_chromium
@needs_editor
def test_chromium_shows_the_editor_with_the_examples_as_tabs(live, tmp_path, site_settings_built):
    dom_text, console = browse(tmp_path, f"{live}sparql", "--dump-dom")
    assert_quiet(console)
    dom = lxml.html.fromstring(dom_text)
    editor = dom.get_element_by_id("sparql-editor")
    assert editor.get("data-ready") == "true"
    assert editor.find_class("yasgui"), "YASGUI drew itself"
    assert editor.find_class("CodeMirror"), "the query editor (YASQE) is there"
    tabs = [" ".join(t.text_content().replace("✖", "").split()) for t in editor.xpath(".//*[@role='tab']")]
    assert tabs == [title for title, _, _ in examples(site_settings_built)]
    selected = editor.xpath(".//*[@role='tab'][@aria-selected='true']")
    assert [t.text_content().replace("✖", "").strip() for t in selected] == [tabs[0]]
    assert "rico:Record" in " ".join(editor.find_class("CodeMirror")[0].itertext())
    assert editor.get("data-endpoint") == f"{live}sparql"
    assert dom.get_element_by_id("query-form").get("hidden") is not None  # the editor took its place
    assert len(dom.find_class("example")) == len(tabs)  # the examples stay on the page as text

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for device, size in (("phone", "412,915"), ("desktop", "1280,1000")):
        shot = ARTIFACTS / f"sparql-{device}.png"
        shot.unlink(missing_ok=True)
        browse(tmp_path, f"{live}sparql", f"--window-size={size}", f"--screenshot={shot}")
        assert shot.stat().st_size > 2000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_chromium
@needs_editor
def test_chromium_runs_a_shared_link_through_the_editor(live, tmp_path):
    """A YASGUI share link (#query=…) opens a tab, POSTs the query to /sparql and shows the table."""
    query = ("PREFIX dcterms: <http://purl.org/dc/terms/>\n"
             "SELECT ?record ?title WHERE { ?record dcterms:title ?title FILTER(CONTAINS(?title, \"Zhou Enlai\")) }")
    link = f"{live}sparql#" + urllib.parse.urlencode({"query": query, "tabTitle": "Zhou Enlai",
                                                      "endpoint": "http://example.invalid/sparql"})
    dom_text, console = browse(tmp_path, link, "--dump-dom")
    assert_quiet(console)
    dom = lxml.html.fromstring(dom_text)
    editor = dom.get_element_by_id("sparql-editor")
    selected = editor.xpath(".//*[@role='tab'][@aria-selected='true']")
    assert [t.text_content().replace("✖", "").strip() for t in selected] == ["Zhou Enlai"]
    cells = [" ".join(td.text_content().split()) for td in editor.iter("td")]
    assert "Telegram, CCP Central Committee to Zhou Enlai" in cells, cells[:20]
    # The link's own endpoint was replaced by this one: asking example.invalid would have been refused
    # by the policy (a console message) and shown no table.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "sparql-shared-link-desktop.png"
    shot.unlink(missing_ok=True)
    browse(tmp_path, link, "--window-size=1280,1100", f"--screenshot={shot}")
    assert shot.stat().st_size > 2000


def test_the_editor_script_is_served_and_names_no_other_host(client):
    """The page's own script is served too (it is committed; only YASGUI's files come from npm)."""
    served = client.get("/static/sparql-editor.js")
    assert served.status_code == 200 and b"Yasgui" in served.data
    assert not re.search(rb"https?://(?!www\.w3\.org)", served.data)
    served.close()
