"""Pages for people, checked with an HTML parser: record, agent, home with statistics and timeline,
browse, tombstone, 404 -- semantic, accessible, self-contained (no script needed, nothing external)."""

from __future__ import annotations

import json
import re

import lxml.html
import pytest

from docket.serve.stats import compute_statistics
from docket.store import current_manifest, open_current
from site_helpers import BASE, SEED_ID, WITHDRAWN, client, site_app, site_settings_built  # noqa: F401

RECORD = f"/doc/record/{SEED_ID}.html"
PAGES = [RECORD, "/doc/agent/zhou-enlai.html", "/doc/type/telegram.html", "/doc/event/geneva-conference-1954.html",
         "/", "/browse", "/browse/year", "/browse/type", "/browse/correspondent", "/browse/year/1954",
         "/search", "/search?q=Geneva", "/ontology.html", "/doc/dataset/docket.html"]


def page(client, path, status=200):
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == status, path
    assert response.mimetype == "text/html"
    return lxml.html.fromstring(response.data)


def text(node) -> str:
    return " ".join(node.text_content().split())


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_accessible_and_self_contained(client, path):
    doc = page(client, path)
    assert doc.get("lang") == "en"
    assert doc.find(".//meta[@name='viewport']") is not None
    assert len(doc.findall(".//h1")) == 1
    assert doc.find(".//main") is not None and doc.find(".//nav") is not None
    assert doc.findtext(".//title").strip()
    # No JavaScript needed and nothing from another site (no CDN): scripts are data only.
    for script in doc.iter("script"):
        assert script.get("type") == "application/ld+json" and not script.get("src")
    for link in doc.iter("link"):
        if link.get("rel") == "stylesheet":
            assert link.get("href").startswith("/")
    for img in doc.iter("img"):
        assert img.get("alt") is not None
    for field in doc.iter("input"):
        if field.get("type") not in ("hidden", "submit"):
            assert doc.find(f".//label[@for='{field.get('id')}']") is not None
    # Headings do not skip levels.
    levels = [int(h.tag[1]) for h in doc.iter("h1", "h2", "h3", "h4")]
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels


def test_stylesheet_is_served_and_mobile_ready(client):
    doc = page(client, "/")
    href = next(link.get("href") for link in doc.iter("link") if link.get("rel") == "stylesheet")
    with client.get(href) as css:
        assert css.status_code == 200 and css.mimetype == "text/css"
        body = css.get_data(as_text=True)
    assert "@media" in body and "http" not in body


def test_record_page_shows_what_a_scholar_needs(client):
    doc = page(client, RECORD)
    assert text(doc.find(".//h1")) == "Telegram, CCP Central Committee to Zhou Enlai"
    assert doc.find(".//time[@datetime='1954-06-20']") is not None
    facts = {text(dt): dt.getnext() for dt in doc.iter("dt")}
    assert facts["From"].find("a").get("href") == f"{BASE}id/agent/ccp-central-committee"
    assert text(facts["To"]) == "Zhou Enlai" and facts["To"].find("a").get("href") == f"{BASE}id/agent/zhou-enlai"
    assert "(CCP) Guangxi Provincial Committee" in text(facts["By way of"])
    assert text(facts["Translated by"]) == "Chen Jian"
    assert "Cold War International History Project" in text(facts["Translated for"])
    assert "ZX vol. 4, p. 509" in text(facts["Citation"])
    assert "Translated for CWIHP by Chen Jian." in text(facts["Translation"])
    assert "Geneva Conference (1954)" in text(facts["Subjects"])
    body = text(doc.get_element_by_id("text-heading").getparent())
    assert "Under the circumstances that the Geneva Conference" in body and "[the opinion in]" in body
    assert "Comrade Zhou Enali" in body  # the salutation, verbatim
    summary = text(doc.get_element_by_id("summary-heading").getparent())
    assert "no big operations should be carried out" in summary
    rights = doc.get_element_by_id("rights-heading").getparent()
    licence = rights.find(".//a[@rel='license']")
    assert licence.get("href") == "http://rightsstatements.org/vocab/InC-EDU/1.0/"
    assert "History and Public Policy Program" in text(rights)
    validation = text(doc.get_element_by_id("validation-heading").getparent())
    assert "conforms" in validation and "1 warning" in validation and "no original uploaded date" in validation


def test_record_page_cites_the_record(client):
    doc = page(client, RECORD)
    section = doc.get_element_by_id("cite-heading").getparent()
    chicago = text(section.find_class("citation")[0])
    assert chicago.startswith("CCP Central Committee. \u201cTelegram, CCP Central Committee to Zhou Enlai.\u201d June 20, 1954.")
    assert "Translated by Chen Jian." in chicago and chicago.endswith(f"{BASE}id/record/{SEED_ID}.")
    bibtex = section.find(".//pre").text_content()
    assert bibtex.startswith(f"@misc{{docket:{SEED_ID},")
    assert "author = {{CCP Central Committee}}" in bibtex and "year = {1954}" in bibtex
    assert f"url = {{{BASE}id/record/{SEED_ID}}}" in bibtex
    assert bibtex.count("{") == bibtex.count("}")


def test_record_page_links_every_format_and_embeds_schema_org(client):
    doc = page(client, RECORD)
    formats = doc.get_element_by_id("formats-heading").getparent()
    hrefs = {a.get("href") for a in formats.iter("a")}
    assert {f"{BASE}doc/record/{SEED_ID}.{ext}" for ext in ("ttl", "html", "jsonld", "rdf", "nt")} <= hrefs
    alternates = {link.get("type") for link in doc.iter("link") if link.get("rel") == "alternate"}
    assert {"text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples"} <= alternates
    data = json.loads(doc.find(".//script[@type='application/ld+json']").text)
    assert data["@id"] == f"{BASE}id/record/{SEED_ID}" and data["name"].startswith("Telegram, CCP")
    assert data["dateCreated"] == "1954-06-20"
    assert data["author"][0] == {"@type": "Organization", "@id": f"{BASE}id/agent/ccp-central-committee",
                                 "name": "CCP Central Committee"}
    assert data["recipient"][0]["@type"] == "Person"
    assert data["license"] == "http://rightsstatements.org/vocab/InC-EDU/1.0/"


def test_agent_page_lists_documents_by_date_and_labels_in_other_scripts(client):
    doc = page(client, "/doc/agent/zhou-enlai.html")
    assert text(doc.find(".//h1")) == "Zhou Enlai"
    assert doc.find(".//span[@lang='zh']").text == "周恩来"
    records = doc.find_class("records")[0]
    links = [a.get("href") for a in records.iter("a")]
    assert f"{BASE}id/record/{SEED_ID}" in links
    assert "addressee" in text(records)


def test_type_page_pages_its_documents_in_date_order(site_app):
    site_app.config["DOCKET_PAGE_SIZE"] = 4
    try:
        client = site_app.test_client()
        dates, url, seen = [], "/doc/type/telegram.html", 0
        while url and seen < 10:
            doc = page(client, url)
            dates += [t.get("datetime") for t in doc.find_class("records")[0].iter("time")]
            nxt = doc.find(".//a[@rel='next']")
            url = nxt.get("href").replace(BASE.rstrip("/"), "") if nxt is not None else None
            seen += 1
        assert len(dates) > 4 and dates == sorted(dates)
    finally:
        site_app.config.pop("DOCKET_PAGE_SIZE")


def test_home_page_shows_statistics_and_a_timeline(client, site_settings_built):
    doc = page(client, "/")
    manifest = current_manifest(site_settings_built)
    stats = text(doc.find_class("stats")[0])
    assert f"{manifest.counts['records']} records" in stats
    svg = doc.find(".//svg")
    assert svg is not None and svg.get("role") == "img" and svg.get("aria-labelledby")
    with open_current(site_settings_built) as store:
        years = compute_statistics(store)["years"]
    bars = svg.findall(".//rect")
    assert len(bars) == len(years)
    titles = sorted(bar.findtext("title") for bar in bars)
    assert titles == sorted(f"{y}: {n} record{'s' if n != 1 else ''}" for y, n in years.items())
    hrefs = [a.get("href") for a in svg.iter("a")]
    assert f"{BASE}browse/year/1954" in hrefs


def test_statistics_add_up(site_settings_built):
    with open_current(site_settings_built) as store:
        stats = compute_statistics(store)
    manifest = current_manifest(site_settings_built)
    assert stats["records"] == manifest.counts["records"]
    assert sum(stats["years"].values()) + stats["undated"] == stats["records"]
    assert sum(t["count"] for t in stats["types"]) == stats["records"]
    assert stats["correspondents"][0]["total"] >= stats["correspondents"][-1]["total"]
    ccp = next(c for c in stats["correspondents"] if c["uri"] == f"{BASE}id/agent/ccp-central-committee")
    assert ccp["label"] == "CCP Central Committee" and ccp["sent"] >= 1


def test_browse_year_lists_that_years_records_by_date(client):
    doc = page(client, "/browse/year/1954")
    times = [t.get("datetime") for t in doc.find_class("records")[0].iter("time")]
    assert times and all(t.startswith("1954") for t in times) and times == sorted(times)
    assert f"{BASE}id/record/{SEED_ID}" in [a.get("href") for a in doc.iter("a")]
    page(client, "/browse/year/19x4", status=404)


def test_browse_by_type_and_correspondent(client):
    types = page(client, "/browse/type")
    assert f"{BASE}id/type/telegram" in [a.get("href") for a in types.iter("a")]
    people = page(client, "/browse/correspondent")
    rows = people.findall(".//tbody/tr")
    assert rows and rows[0].find("th").get("scope") == "row"
    assert "CCP Central Committee" in text(people.find(".//tbody"))


def test_tombstone_and_not_found_pages(client):
    doc = page(client, f"/doc/record/{WITHDRAWN}.html", status=410)
    assert "withdrawn" in text(doc.find(".//h1"))
    assert doc.find(".//time[@datetime='2026-02-01']") is not None
    missing = page(client, "/id/agent/no-such-person", status=404)
    assert any("/search" in (a.get("href") or "") for a in missing.iter("a"))
    assert any(a.get("href") == f"{BASE}browse" for a in missing.iter("a"))


def test_search_page_highlights_matches(client):
    doc = page(client, "/search?q=armistice")
    marks = [m.text for m in doc.iter("mark")]
    assert marks and all(re.fullmatch(r"(?i)armistice", m) for m in marks)
    assert f"{BASE}id/record/{SEED_ID}" in [a.get("href") for a in doc.iter("a")]


def test_text_from_the_records_is_escaped(client):
    response = client.get("/search?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert b"<script>alert" not in response.data


@pytest.mark.parametrize("path", [RECORD, "/", "/search?q=Geneva", f"/doc/record/{WITHDRAWN}.html"])
def test_pages_forbid_scripts_and_foreign_resources(client, path):
    response = client.get(path)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
