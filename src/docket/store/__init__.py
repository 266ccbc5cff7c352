"""Keep published builds of the dataset: an embedded Oxigraph store per build, switched atomically.

``BuildWriter`` writes a build; ``open_current`` opens the published one read-only; ``rollback``
switches back to the previous build; ``stats`` reports the current build's counts.
"""

from __future__ import annotations

from typing import Any

from docket.config import Settings
from docket.store.base import StoreError, TripleStore
from docket.store.builder import BuildSummary, BuildWriter
from docket.store.checks import BuildError, RecordCountDrop
from docket.store.layout import StoreBusy, StoreLayout
from docket.store.manifest import Manifest, content_hash
from docket.store.oxigraph import OxigraphStore

__all__ = [
    "BuildError",
    "BuildSummary",
    "BuildWriter",
    "Manifest",
    "OxigraphStore",
    "RecordCountDrop",
    "StoreBusy",
    "StoreError",
    "StoreLayout",
    "TripleStore",
    "content_hash",
    "current_manifest",
    "open_current",
    "rollback",
    "stats",
]


def current_manifest(settings: Settings) -> Manifest | None:
    """Return the published build's manifest, or None before the first build."""
    layout = StoreLayout(settings.store_dir)
    build = layout.current()
    return Manifest.read(layout.manifest_path(build)) if build else None


def open_current(settings: Settings) -> OxigraphStore:
    """Open the published build read-only (the link is resolved now; a later switch needs a reopen)."""
    layout = StoreLayout(settings.store_dir)
    build = layout.current()
    if build is None:
        raise StoreError(f"no published build in {settings.store_dir}; run `docket build` first")
    return OxigraphStore.open(layout.store_path(build), read_only=True)


def rollback(settings: Settings) -> tuple[str, str]:
    """Make the previous build current again (and the current one previous); return (current, previous) IDs."""
    layout = StoreLayout(settings.store_dir)
    with layout.locked():
        current, previous = layout.rollback()
    return current.name, previous.name


def stats(settings: Settings, live: bool = False) -> dict[str, Any]:
    """Return the current build's ID, time and counts; ``live`` also counts triples and graphs in the store."""
    layout = StoreLayout(settings.store_dir)
    build = layout.current()
    if build is None:
        raise StoreError(f"no published build in {settings.store_dir}; run `docket build` first")
    manifest = Manifest.read(layout.manifest_path(build))
    previous = layout.previous()
    out: dict[str, Any] = {
        "build": manifest.build_id,
        "created": manifest.created,
        "previous": previous.name if previous else None,
        "base_uri": manifest.base_uri,
        "source_fingerprint": manifest.source_fingerprint,
        "counts": dict(manifest.counts),
        "graphs": dict(manifest.graphs),
    }
    if live:
        with OxigraphStore.open(layout.store_path(build)) as store:
            out["live"] = {"quads": store.count(), "named_graphs": sum(1 for _ in store.named_graphs())}
    return out
