"""Build small published stores and apps for the SPARQL endpoint tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from docket.config import Settings
from docket.serve import create_app
from docket.serve.handle import StoreHandle
from docket.serve.sparql import close_runner
from docket.store import BuildWriter, OxigraphStore, content_hash

BASE = "http://example.org/"
RICO = "https://www.ica.org/standards/RiC/ontology#"
DCT = "http://purl.org/dc/terms/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
CONFORMANCE = Path(__file__).resolve().parent.parent.parent / "shared" / "conformance"
PROTOCOL_DIR = CONFORMANCE / "sparql11" / "protocol"

RECORDS = {
    "telegram-1954-06-20": ("Telegram from the CCP Central Committee to Zhou Enlai", "1954-06-20", "ccp"),
    "telegram-1954-06-22": ("Telegram from Zhou Enlai to Mao Zedong on Geneva", "1954-06-22", "zhou-enlai"),
    "minutes-1954-07-01": ("Minutes of a conversation in Geneva", "1954-07-01", "zhou-enlai"),
}
AGENTS = {"ccp": "Central Committee of the Chinese Communist Party", "zhou-enlai": "Zhou Enlai"}


def record_nt(rid: str, title: str, date: str, sender: str) -> str:
    s = f"<{BASE}id/record/{rid}>"
    return (
        f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{RICO}Record> .\n"
        f"{s} <{DCT}identifier> \"{rid}\" .\n"
        f"{s} <{DCT}title> \"{title}\"@en .\n"
        f"{s} <{DCT}date> \"{date}\"^^<http://www.w3.org/2001/XMLSchema#date> .\n"
        f"{s} <{RICO}hasSender> <{BASE}id/agent/{sender}> .\n"
    )


def settings_for(tmp: Path, **overrides: Any) -> Settings:
    """Settings writing the store under ``tmp``, with the endpoint's limits overridable."""
    values: dict[str, Any] = dict(base_uri=BASE, store_dir=tmp / "store", registry_path=tmp / "registry.json",
                                  sparql_workers=2)
    values.update(overrides)
    return Settings.load(env={}, **values)


def publish(settings: Settings, numbers: int = 0, now: dt.datetime | None = None) -> None:
    """Publish the three records, their agents, and ``numbers`` extra triples (for row caps and slow queries)."""
    with BuildWriter(settings, now=now or dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.timezone.utc)) as writer:
        for rid, (title, date, sender) in RECORDS.items():
            data = record_nt(rid, title, date, sender)
            writer.add_record(rid, data, content_hash(data), source=f"{rid}.txt")
        writer.add_graph("authorities", "".join(
            f"<{BASE}id/agent/{slug}> <{SKOS}prefLabel> \"{label}\"@en .\n" for slug, label in AGENTS.items()))
        if numbers:
            writer.add_graph("numbers", "".join(
                f"<{BASE}n/{i}> <{BASE}value> \"{i}\"^^<http://www.w3.org/2001/XMLSchema#integer> .\n"
                for i in range(numbers)))
        writer.commit()


def app_for(settings: Settings, handle: StoreHandle | None = None):
    app = create_app(settings, handle)
    app.config["TESTING"] = True
    return app


def conformance_store(path: Path) -> OxigraphStore:
    """Load the W3C protocol data (data1-3.nt) as the named graphs the manifest names."""
    store = ox.Store(str(path))
    for n in (1, 2, 3):
        graph = ox.NamedNode(f"http://kasei.us/2009/09/sparql/data/data{n}.rdf")
        for triple in ox.parse(path=str(PROTOCOL_DIR / f"data{n}.nt"), format=ox.RdfFormat.N_TRIPLES):
            store.add(ox.Quad(triple.subject, triple.predicate, triple.object, graph))
    store.flush()
    del store
    return OxigraphStore.open(path, read_only=True)


def shutdown(app) -> None:
    close_runner(app)
