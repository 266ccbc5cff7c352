"""Build a small published site for the server tests: the seed record, synthetic records, tombstones.

The build is made the way ``docket build`` makes one (Mapper -> BuildWriter), plus the search index
and statistics the build writes beside the store, and a validation graph with one warning for the seed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS

from bench.synthetic import generate
from conftest import make_settings
from docket.config import Settings
from docket.ingest import ingest
from docket.mapping import Mapper
from docket.serve import create_app
from docket.serve.stats import write_site_files
from docket.store import BuildWriter, content_hash

ROOT = Path(__file__).resolve().parent.parent
SEED_FILE = ROOT / "data" / "records" / "telegram-1954-06-20-ccp-to-zhou-enlai.txt"
SEED_ID = "1954-06-20-telegram-ccp-central-committee-to-zhou-enlai"
BASE = "http://example.org/"
WITHDRAWN = "1954-07-01-withdrawn-telegram"
MERGED = "1954-06-20-duplicate-of-the-seed"
MERGED_AGENT = "zhou-enali"
BUILT = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
SYNTHETIC = 40

VALIDATION = f"""
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix docket: <{BASE}ontology#> .
<{BASE}graph/validation#report> a sh:ValidationReport ; sh:conforms true ; sh:result [
    a sh:ValidationResult ; sh:resultSeverity sh:Warning ;
    sh:resultMessage "the source gives no original uploaded date"@en ;
    sh:focusNode <{BASE}id/record/{SEED_ID}> ; docket:record "{SEED_ID}" ] .
"""


def site_settings(root: Path, base: str = BASE) -> Settings:
    return make_settings(root, base_uri=base, validation_workers=0)


def build_site(settings: Settings) -> Path:
    """Publish the seed record and synthetic records; return the build folder."""
    mapper = Mapper(settings)
    seed = ingest([SEED_FILE], settings).records
    assert [r.id for r in seed] == [SEED_ID]
    records = seed + list(generate(SYNTHETIC, seed=5))
    with BuildWriter(settings, now=BUILT) as writer:
        for record in records:
            result = mapper.map(record)
            writer.add_record(record.id, result.graph, content_hash(record), source=str(record.source))
        authorities = mapper.authorities_graph()
        # A merge as an authority entry's ``replaces`` publishes it (docs/uri-policy.md).
        authorities.add((URIRef(f"{BASE}id/agent/{MERGED_AGENT}"), DCTERMS.isReplacedBy, URIRef(f"{BASE}id/agent/zhou-enlai")))
        writer.add_graph("authorities", authorities)
        writer.add_graph("ontology", mapper.ontology_graph())
        writer.add_graph("validation", Graph().parse(data=VALIDATION, format="turtle"))
        writer.withdraw(WITHDRAWN, date=dt.date(2026, 2, 1), reason="rights holder asked for removal")
        writer.merge(MERGED, into=SEED_ID, date=dt.date(2026, 2, 2))
        # As the build command does: the site's files are written before the switch.
        summary = writer.commit(before_switch=lambda folder, manifest: write_site_files(folder))
    return summary.path


@pytest.fixture(scope="session")
def site_settings_built(tmp_path_factory) -> Settings:
    settings = site_settings(tmp_path_factory.mktemp("site"))
    build_site(settings)
    return settings


@pytest.fixture(scope="session")
def site_app(site_settings_built):
    app = create_app(site_settings_built)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(site_app):
    return site_app.test_client()
