"""Share fixtures: the repository root, settings pointing at it, the seed record's path."""

from __future__ import annotations

from pathlib import Path

import pytest

from docket.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "records" / "telegram-1954-06-20-ccp-to-zhou-enlai.txt"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def seed_path() -> Path:
    return SEED


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings reading the repository's data but writing the registry and store under tmp_path."""
    return make_settings(tmp_path)


def make_settings(root: Path, **overrides) -> Settings:
    """Return settings reading the repository's data and writing under ``root``."""
    values = dict(
        env={},
        base_uri="http://example.org/",
        data_dir=ROOT / "data",
        records_dir=ROOT / "data" / "records",
        registry_path=root / "id-registry.json",
        authorities_dir=ROOT / "data" / "authorities",
        rights_table=ROOT / "data" / "rights.csv",
        ontology_dir=ROOT / "ontology",
        shapes_dir=ROOT / "shapes",
        store_dir=root / "store",
        validation_workers=1,
    )
    values.update(overrides)
    return Settings.load(**values)


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory) -> Settings:
    """Settings whose store holds a published build of the seed plus the three example records."""
    from docket.cli.pipeline import build
    from docket.ingest import ingest
    from docket.ingest.registry import IdRegistry

    root = tmp_path_factory.mktemp("built")
    s = make_settings(root)
    result = ingest([s.records_dir, ROOT / "docs" / "examples" / "records.json"], s,
                    registry=IdRegistry.open(s.registry_path))
    assert not result.rejections, result.rejections
    outcome = build(result, s)
    assert outcome.summary is not None and outcome.summary.counts["records"] == 4, outcome.report.lines()
    return s
