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
    return Settings.load(
        env={},
        base_uri="http://example.org/",
        data_dir=ROOT / "data",
        records_dir=ROOT / "data" / "records",
        registry_path=tmp_path / "id-registry.json",
        authorities_dir=ROOT / "data" / "authorities",
        rights_table=ROOT / "data" / "rights.csv",
        ontology_dir=ROOT / "ontology",
        shapes_dir=ROOT / "shapes",
        store_dir=tmp_path / "store",
    )
