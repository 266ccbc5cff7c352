"""Harvesting: OAI-PMH, the VoID/DCAT description, dumps and sitemaps, all made from one build.

``write_build_files`` (``write_harvest_files``, then ``write_oai_index``, which ``docket build``
calls apart) runs once the new store is complete and before it becomes current
(``BuildWriter.commit(before_switch=...)``), so the dumps, sitemaps, VoID description and OAI-PMH
index are part of the atomic build: a server never serves the records of one build with the dumps
of another. No Flask here; ``docket.serve.harvest`` serves the files.

Files in the build folder::

    oai-index.sqlite           every record's datestamp, deletion and sets (``harvest.index``)
    dumps/docket.{nt,ttl,nq}.gz, dumps/index.json
    record-graphs.sqlite       every record's graph and findings, written with the N-Quads dump (``docket.record_graphs``)
    sitemaps/sitemap.xml, sitemaps/sitemap-1.xml, ...
    void.ttl
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Callable

from docket.config import Settings
from docket.harvest.dumps import FOLDER, write_dumps
from docket.harvest.index import INDEX_FILE, IndexReader, compute_index
from docket.harvest.sitemap import render, sitemap_urls, write_sitemaps
from docket.harvest.void import describe_dataset, write_void
from docket.store import Manifest, OxigraphStore, StoreLayout
from docket.store.layout import OXIGRAPH
from docket.store.manifest import iso, utc_now
from docket.uris import Minter

__all__ = ["write_build_files", "write_harvest_files", "write_oai_index"]


def previous_index(settings: Settings) -> IndexReader | None:
    """Return the harvest index of the build that is current now (the one a new build follows), if any."""
    current = StoreLayout(settings.store_dir).current()
    path = current / INDEX_FILE if current else None
    if path is None or not path.exists():
        return None
    try:
        return IndexReader(path)
    except ValueError:
        return None


def write_build_files(settings: Settings, folder: Path, manifest: Manifest) -> None:
    """Write the OAI-PMH index, dumps, sitemaps and VoID description into the build ``folder``."""
    write_harvest_files(settings, folder, manifest)
    write_oai_index(settings, folder, manifest)


def write_harvest_files(settings: Settings, folder: Path, manifest: Manifest,
                        on_step: Callable[[str], None] | None = None) -> None:
    """Write the dumps, sitemaps and VoID description into the build ``folder``.

    ``on_step(name)`` is told as each is written ("dumps", "sitemaps", "VoID description").
    """
    minter = Minter.from_settings(settings)
    folder = Path(folder)
    done = on_step or (lambda name: None)
    with OxigraphStore.open(folder / OXIGRAPH, read_only=True) as store:
        dumps = write_dumps(store, folder, manifest, minter)
        done("dumps")
        write_sitemaps(render(sitemap_urls(store, manifest, minter), minter, manifest.created), folder)
        done("sitemaps")
        union = next((folder / FOLDER / d.name for d in dumps if d.format == "ntriples"), None)
        write_void(describe_dataset(store, manifest, settings, dumps, minter, union_dump=union), folder)
        done("VoID description")


def write_oai_index(settings: Settings, folder: Path, manifest: Manifest) -> None:
    """Write the OAI-PMH index into the build ``folder``: the last file before the switch.

    Changes are stamped with the next full second, by which the build is current (see
    ``docket.harvest.index``), so nothing slow may come between this and the switch.
    """
    minter = Minter.from_settings(settings)
    folder = Path(folder)
    with OxigraphStore.open(folder / OXIGRAPH, read_only=True) as store:
        published = iso(utc_now() + _dt.timedelta(seconds=1))
        compute_index(store, manifest, minter, previous_index(settings), published).write(folder / INDEX_FILE)
