"""Hold every setting in one place: defaults, then environment (``DOCKET_*``), then CLI flags.

Each setting is declared once with its default and help text; ``docs/settings.md`` and the CLI's
``docket settings`` are generated from the same declarations, and a test fails if one is undocumented.
Nothing reads the environment at import time: ``Settings.load()`` does, when asked.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "DOCKET_"
# Request threads per gunicorn worker (serve.wsgi): requests wait on the store and on SPARQL
# workers, not on the GIL. A query worker runs as many queries at once (``sparql_threads``).
REQUEST_THREADS = 4


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Configure Docket; build with ``Settings.load(**overrides)``."""

    base_uri: str = _setting(
        "http://127.0.0.1:8080/",
        "Base of every minted URI; resources live under {base}id/, descriptions under {base}doc/.",
    )
    data_dir: Path = _setting(Path("data"), "Folder holding records/, authorities/ and the ID registry.")
    records_dir: Path = _setting(Path("data/records"), "Folder of source records that `make serve` builds.")
    registry_path: Path = _setting(
        Path("data/id-registry.json"), "ID registry: source fingerprints mapped to the stable record IDs."
    )
    authorities_dir: Path = _setting(Path("data/authorities"), "Authority files (persons, places, ...).")
    rights_table: Path = _setting(Path("data/rights.csv"), "Known rights statements mapped to rights URIs.")
    ontology_dir: Path = _setting(Path("ontology"), "Project ontology (Turtle), published with the data.")
    shapes_dir: Path = _setting(Path("shapes"), "SHACL shapes, one file per class.")
    store_dir: Path = _setting(Path("var/store"), "Where builds of the embedded store are kept.")
    max_file_bytes: int = _setting(
        64 * 1024 * 1024, "Largest source file the readers accept, in bytes; larger files are rejected."
    )
    fuzzy_threshold: float = _setting(
        88.0, "Lowest rapidfuzz score (0-100) at which an unmatched name is reconciled to an authority."
    )
    multi_value_separator: str = _setting("|", "Separator of several values in one CSV cell.")
    host: str = _setting("127.0.0.1", "Address the server binds to.")
    port: int = _setting(8080, "Port the server listens on.")
    workers: int = _setting(0, "Server worker processes; 0 means one per core.")
    proxy_hops: int = _setting(
        0, "Reverse proxies in front of the server whose X-Forwarded-For/-Proto/-Host are trusted "
        "(werkzeug's ProxyFix); 0 trusts none. Set 1 behind one nginx, so limits see the client's address.",
    )
    validation_workers: int = _setting(0, "Processes that validate records in parallel; 0 means one per core.")
    validation_engine: str = _setting(
        "fast",
        "How records are checked: 'fast' (Docket's engine; any record it finds a violation in is re-checked "
        "by pySHACL, whose verdict stands) or 'pyshacl' (pySHACL on every record).",
    )
    sparql_timeout: float = _setting(
        30.0, "Seconds a SPARQL query may run; the worker running it is then killed and the client gets 503."
    )
    sparql_row_cap: int = _setting(
        10_000, "Most rows (or triples) a SPARQL result holds; longer results are cut and say so in a header."
    )
    sparql_max_query_bytes: int = _setting(
        65_536, "Longest SPARQL query (and largest request body) /sparql accepts, in bytes; longer ones get 413."
    )
    sparql_max_concurrent_per_client: int = _setting(
        2, "SPARQL queries one client address may run at once (per server process); more get 429."
    )
    sparql_workers: int = _setting(
        1, "Query worker processes per server process, each with the store open; one is killed when a query "
           "on it overruns (its other queries are sent again)."
    )
    # As many as a server process's request threads: a client's keep-alive connection stays with
    # one server process, so fewer would leave queries waiting there while the other process's
    # worker has idle threads (measured: docs/benchmarks.md).
    sparql_threads: int = _setting(
        REQUEST_THREADS, "Queries each query worker process runs at once, on threads over its one open store."
    )
    sparql_worker_memory: int = _setting(
        2048, "Most memory, in MB, a query worker process may take for its queries (its own resident memory, "
              "not the store's files); a query that takes it over is stopped and gets 503 (when it shared the "
              "worker, it runs again alone first). 0: no limit.",
    )
    sparql_cache_bytes: int = _setting(
        32 * 1024 * 1024,
        "Memory per server process for the answers of repeated SPARQL queries (the same text, format and "
        "dataset, on the same build; none larger than an eighth of it); 0 keeps none.",
    )
    fragments_max_offset: int = _setting(
        500_000,
        "Deepest match a Triple Pattern Fragment page may start at (a query for it reads and holds every match "
        "before it); deeper pages get 400 and a pointer to the dumps. All triples are paged from the union dump, "
        "without limit.",
    )
    oai_page_size: int = _setting(
        100, "Records (or headers, or sets) per OAI-PMH list response; longer lists continue by resumption token."
    )
    admin_email: str = _setting(
        "docket@example.org", "Contact address published as the OAI-PMH adminEmail and the dataset's contact point."
    )
    publisher: str = _setting("Docket", "Who publishes the dataset: named in VoID/DCAT and in every oai_dc record.")
    dataset_license: str = _setting(
        "http://creativecommons.org/publicdomain/zero/1.0/",
        "Licence of the published descriptions and dumps (not of the documents: each record states its rights).",
    )
    min_record_ratio: float = _setting(
        0.9,
        "A build that would publish fewer than this share of the current build's records stops before "
        "it becomes current, unless forced (a folder that went missing).",
    )

    store_backend: str = _setting(
        "embedded", "Where the server reads the data: 'embedded' (the Oxigraph build under store_dir) or 'remote'."
    )
    remote_query_url: str = _setting("", "SPARQL query endpoint of the remote store (store_backend = remote).")
    remote_graph_store_url: str = _setting(
        "", "Graph Store Protocol endpoint of the remote store, used by `docket push` to load it."
    )
    remote_union_param: str = _setting(
        "union-default-graph",
        "Query parameter that makes the remote store's default graph the union of its named graphs "
        "(Oxigraph's; empty for stores whose default graph already is, such as Virtuoso).",
    )

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Build settings from defaults, then ``env`` (default ``os.environ``), then ``overrides``.

        Overrides whose value is ``None`` are ignored, so CLI options left unset fall through.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _coerce(f, raw)
        for name, value in overrides.items():
            if value is None:
                continue
            f = _field(cls, name)
            values[name] = _coerce(f, value) if isinstance(value, str) else value
        return cls(**values)

    def replace(self, **changes: Any) -> "Settings":
        """Return a copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def describe(cls) -> list[tuple[str, str, Any, str]]:
        """List (name, environment variable, default, help) for every setting."""
        return [
            (f.name, ENV_PREFIX + f.name.upper(), f.default, f.metadata["help"]) for f in fields(cls)
        ]


def _field(cls: type, name: str) -> dataclasses.Field:
    for f in fields(cls):
        if f.name == name:
            return f
    raise KeyError(f"unknown setting {name!r}")


def _coerce(f: dataclasses.Field, raw: str) -> Any:
    kind = type(f.default)
    try:
        if kind is bool:
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if issubclass(kind, Path):
            return Path(raw)
        return kind(raw)
    except ValueError as exc:
        raise ValueError(f"setting {ENV_PREFIX}{f.name.upper()}: cannot read {raw!r} as {kind.__name__}") from exc
