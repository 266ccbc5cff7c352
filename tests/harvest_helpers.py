"""Build stores for the harvesting tests: a rebuild with a changed and a withdrawn record, an empty one.

``rebuilt`` publishes the seed and the three example records, waits until the first build's
datestamps are in the past, harvests it (tokens included, ``first_harvest`` its responseDate), then
publishes a build where ``ex-0001`` has a new title and ``ex-0003`` is gone (a tombstone), as
``docket build --force`` would.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lxml import etree

from conftest import ROOT, make_settings
from docket.config import Settings

EXAMPLES = ROOT / "docs" / "examples" / "records.json"
SEED_ID = "1954-06-20-telegram-ccp-central-committee-to-zhou-enlai"
ALL_IDS = [SEED_ID, "ex-0001", "ex-0002", "ex-0003"]
OAI = "{http://www.openarchives.org/OAI/2.0/}"


def publish(settings: Settings, records: list[dict] | None = None, force: bool = False, name: str = "records"):
    """Ingest the seed and ``records`` (default: the examples) and run the build; return the summary."""
    from docket.cli.pipeline import build
    from docket.ingest import ingest
    from docket.ingest.registry import IdRegistry

    path = settings.store_dir.parent / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(EXAMPLES.read_text(encoding="utf-8")) if records is None else records
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = ingest([settings.records_dir, path], settings, registry=IdRegistry.open(settings.registry_path))
    assert not result.rejections, result.rejections
    outcome = build(result, settings, force=force)
    assert outcome.summary is not None
    return outcome.summary


def next_second() -> None:
    """Sleep until the UTC clock shows a later second than now, so two builds get different times."""
    now = time.time()
    time.sleep(1.05 - (now % 1.0))


def oai_get(client, **params) -> etree._Element:
    response = client.get("/oai", query_string=params)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    return etree.fromstring(response.data)


def header_ids(root: etree._Element) -> list[str]:
    return [h.findtext(f"{OAI}identifier").rsplit(":", 1)[1] for h in root.iter(f"{OAI}header")]


def error_codes(root: etree._Element) -> list[str]:
    return [e.get("code") for e in root.findall(f"{OAI}error")]


@dataclass
class Rebuilt:
    settings: Settings
    first_created: str
    second_created: str
    first_token: str  # ListIdentifiers token issued by the first build (page size 1)
    first_harvest: str  # responseDate of that harvest: where an incremental harvest starts
    first_page: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def rebuilt(tmp_path_factory) -> Rebuilt:
    from docket.serve import create_app

    settings = make_settings(tmp_path_factory.mktemp("rebuilt"), oai_page_size=1)
    first = publish(settings)
    next_second()  # datestamps are the second after the switch; harvest after them
    next_second()
    client = create_app(settings).test_client()
    root = oai_get(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = root.find(f".//{OAI}resumptionToken").text
    harvested = root.findtext(f"{OAI}responseDate")
    page = header_ids(root)
    records = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    records = [r for r in records if r["record_id"] != "EX-0003"]
    for r in records:
        if r["record_id"] == "EX-0001":
            r["title"] = r["title"] + " (revised)"
    second = publish(settings, records, force=True)
    assert second.withdrawn == ["ex-0003"], second
    return Rebuilt(settings, first.created, second.created, token, harvested, page)


@pytest.fixture(scope="session")
def empty_settings(tmp_path_factory) -> Settings:
    """Settings whose current build publishes no record at all."""
    from docket.harvest import write_build_files
    from docket.store import BuildWriter

    settings = make_settings(tmp_path_factory.mktemp("empty"))
    with BuildWriter(settings, now=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)) as writer:
        writer.commit(before_switch=lambda folder, manifest: write_build_files(settings, folder, manifest))
    return settings


class Server:
    """Run an app on 127.0.0.1 on a free port in a thread (werkzeug's development server)."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Server":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def store_path(settings: Settings) -> Path:
    from docket.store import StoreLayout

    current = StoreLayout(settings.store_dir).current()
    assert current is not None
    return current
