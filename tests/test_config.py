"""Settings come from defaults, then the environment, then explicit overrides; all are documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from docket.config import Settings


def test_defaults_environment_and_overrides_layer():
    assert Settings.load(env={}).port == 8080
    env = {"DOCKET_PORT": "9000", "DOCKET_BASE_URI": "https://archive.example/"}
    s = Settings.load(env=env)
    assert (s.port, s.base_uri) == (9000, "https://archive.example/")
    s = Settings.load(env=env, port=9100, base_uri=None)
    assert (s.port, s.base_uri) == (9100, "https://archive.example/")
    assert isinstance(Settings.load(env={"DOCKET_STORE_DIR": "x/y"}).store_dir, Path)


def test_bad_values_name_the_variable():
    with pytest.raises(ValueError, match="DOCKET_PORT"):
        Settings.load(env={"DOCKET_PORT": "eighty"})


def test_every_setting_is_documented(repo_root):
    readme = (repo_root / "README.md").read_text()
    for name, env, _default, help_text in Settings.describe():
        assert help_text.strip(), name
        assert env in readme, f"{env} is not documented in README.md"
