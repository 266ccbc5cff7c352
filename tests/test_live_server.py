"""Dereference through a real HTTP server with real clients: rdflib follows the 303 for every format,
headless Chromium loads the home, record and person pages (DOM checked, screenshots kept).

Screenshots go to ``$DOCKET_TEST_ARTIFACTS`` (default ``build/test-artifacts/screenshots``), at a
phone's and a desktop's width. The Chromium tests are skipped when ``chromium`` is not on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import urllib.request
import warnings
from pathlib import Path

import lxml.html
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDFS
from werkzeug.serving import make_server

from docket.serve import create_app
from docket.serve.sparql import close_runner
from servers import free_port
from site_helpers import SEED_ID, build_site, site_settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get("DOCKET_TEST_ARTIFACTS", ROOT / "build" / "test-artifacts")) / "screenshots"
TITLE = "Telegram, CCP Central Committee to Zhou Enlai"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """Serve a published build whose base URI is the server's own address."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    settings = site_settings(tmp_path_factory.mktemp("live"), base=base)
    build_site(settings)
    app = create_app(settings)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        close_runner(app)  # the SPARQL workers, if a test queried /sparql


@pytest.mark.parametrize("fmt", ["turtle", "xml", "json-ld", "nt"])
def test_rdflib_follows_the_303_for_every_format(live, fmt):
    record = URIRef(f"{live}id/record/{SEED_ID}")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)  # rdflib 7.6's own JSON-LD code
        graph = Graph().parse(str(record), format=fmt)
    assert (record, DCTERMS.title, Literal(TITLE)) in graph
    assert (URIRef(f"{live}id/agent/zhou-enlai"), RDFS.label, Literal("Zhou Enlai", lang="en")) in graph


def test_a_browser_accept_header_lands_on_the_page(live):
    request = urllib.request.Request(f"{live}id/record/{SEED_ID}", headers={
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.url == f"{live}doc/record/{SEED_ID}.html"
        assert response.headers["Content-Type"].startswith("text/html")
        assert TITLE in response.read().decode("utf-8")


# --- headless Chromium ------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="`chromium` is not on PATH (Debian: apt-get install chromium)")


def chromium(tmp_path: Path, *args: str) -> str:
    """Run headless Chromium with a throwaway profile, no network besides the URL given."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'profile'}", *args]
    done = subprocess.run(command, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode("utf-8")


PAGES = {
    "home": ("", "Docket: archival records as linked data"),
    "record": (f"id/record/{SEED_ID}", TITLE),
    "person": ("id/agent/zhou-enlai", "Zhou Enlai"),
}


@needs_chromium
@pytest.mark.parametrize("name", sorted(PAGES))
def test_chromium_renders_the_pages(live, tmp_path, name):
    path, heading = PAGES[name]
    url = live + path
    dom = lxml.html.fromstring(chromium(tmp_path, "--dump-dom", url))
    assert dom.get("lang") == "en"
    assert " ".join(dom.find(".//h1").text_content().split()) == heading
    if name == "home":
        assert dom.find(".//svg") is not None
    if name == "record":
        assert dom.find(".//time[@datetime='1954-06-20']") is not None
        assert dom.find(".//a[@rel='license']") is not None
    if name == "person":
        assert f"{live}id/record/{SEED_ID}" in [a.get("href") for a in dom.iter("a")]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for device, size in (("phone", "412,915"), ("desktop", "1280,900")):
        shot = ARTIFACTS / f"{name}-{device}.png"
        shot.unlink(missing_ok=True)
        chromium(tmp_path, f"--window-size={size}", f"--screenshot={shot}", url)
        assert shot.stat().st_size > 2000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
