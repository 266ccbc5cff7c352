"""Visit every interface of a served build of SYNTHETIC records: time cold and warm, and each process's memory.

For a store an earlier run kept (``python -m bench ingest --keep DIR`` or ``serving --keep``), start
Docket's production server on 127.0.0.1 (``docket serve --no-build``, one gunicorn worker per core)
and ask, in turn, for what each kind of user asks: the home page, a record (HTML, Turtle, JSON-LD),
the busiest correspondent (the resource with the most backlinks) as a page and as Turtle, browsing by
year and by correspondent, search, SPARQL (service description, query page, a query), OAI-PMH
(Identify, ListSets, ListRecords, GetRecord), VoID, the dump index, the sitemaps, Triple Pattern
Fragments, the reconciliation service (manifest, a query, suggest, preview) and the ontology.

Each step is asked once cold (nothing of it answered before; with several server processes, "cold"
is for whichever process took it) and then ``--repeats`` times warm (median). After each step the
memory of every process in the server's tree is read from /proc; the section lists the largest
process after each step, so what makes a process grow is plain. Writes "## Interface tour: N
synthetic records" into ``docs/benchmarks.md``. Nothing here is a test: no figure is asserted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from bench.ingest import machine
from bench.page import DOC, write_section
from bench.procs import family, largest_rss_kb, tree_rss_kb
from bench.serving import docket_server, record_ids

HEADING = "## Interface tour: "
HTML, TURTLE, JSONLD = "text/html", "text/turtle", "application/ld+json"
SPARQL_JSON = "application/sparql-results+json"
COUNT_PER_YEAR = ("SELECT ?y (COUNT(?r) AS ?n) WHERE { ?r a <https://www.ica.org/standards/RiC/ontology#Record> ; "
                  "<http://purl.org/dc/terms/date> ?d BIND(SUBSTR(STR(?d), 1, 4) AS ?y) } GROUP BY ?y ORDER BY ?y")


@dataclass(frozen=True)
class Step:
    name: str
    path: str
    accept: str = HTML
    body: bytes | None = None  # sent by POST, form-encoded


@dataclass
class Visit:
    step: Step
    status: int
    size: int
    cold_ms: float
    warm_ms: float
    largest_mb: float
    tree_mb: float


def fetch(port: int, step: Step, timeout: float = 600.0) -> tuple[int, bytes, float]:
    """Ask ``step`` on a fresh connection; return its status, body and milliseconds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.perf_counter()
    try:
        headers = {"Accept": step.accept}
        if step.body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request("POST" if step.body is not None else "GET", step.path, body=step.body, headers=headers)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    return response.status, body, (time.perf_counter() - started) * 1000


def steps_for(store: Path, base: str) -> list[Step]:
    """Name the tour's requests for the build in ``store``, picking real records and resources."""
    current = store / "current"
    ids = record_ids(store)
    record = ids[len(ids) // 2]
    stats = json.loads((current / "statistics.json").read_text(encoding="utf-8"))
    busiest = stats["correspondents"][0]["uri"]
    agent = urllib.parse.urlsplit(busiest).path.replace("/id/", "/doc/", 1)
    year = str(max(stats["years"], key=stats["years"].get))
    name = stats["correspondents"][0]["label"]
    from docket.serve.dereference import PAGE_SIZE

    middle = max(1, stats["correspondents"][0]["total"] // PAGE_SIZE // 2)  # deep in its backlinks
    q = urllib.parse.quote
    return [
        Step("home page", "/"),
        Step("record page", f"/doc/record/{record}.html"),
        Step("record as Turtle", f"/doc/record/{record}.ttl", TURTLE),
        Step("record as JSON-LD", f"/doc/record/{record}", JSONLD),
        Step("busiest correspondent, page", f"{agent}.html"),
        Step(f"busiest correspondent, backlinks page {middle:,}", f"{agent}.html?page={middle}"),
        Step("busiest correspondent as Turtle", f"{agent}.ttl", TURTLE),
        Step("browse: a year", f"/browse/year/{year}"),
        Step("browse: correspondents", "/browse/correspondent"),
        Step("search page", "/search?q=" + q("conference")),
        Step("search API", "/api/search?q=" + q(name.split()[0]), "application/json"),
        Step("SPARQL service description", "/sparql", TURTLE),
        Step("SPARQL query page", "/sparql", HTML),
        Step("SPARQL count per year", "/sparql?query=" + q(COUNT_PER_YEAR), SPARQL_JSON),
        Step("OAI-PMH Identify", "/oai?verb=Identify", "text/xml"),
        Step("OAI-PMH ListSets", "/oai?verb=ListSets", "text/xml"),
        Step("OAI-PMH ListRecords", "/oai?verb=ListRecords&metadataPrefix=oai_dc", "text/xml"),
        Step("OAI-PMH GetRecord", "/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier="
             + q(f"oai:{urllib.parse.urlsplit(base).hostname}:{record}"), "text/xml"),
        Step("VoID", "/.well-known/void", TURTLE),
        Step("dump index", "/dumps/", HTML),
        Step("sitemap index", "/sitemap.xml", "application/xml"),
        Step("sitemap page 1", "/sitemap-1.xml", "application/xml"),
        Step("TPF: all triples", "/fragments", TURTLE),
        Step("TPF: all triples, page 1,000", "/fragments?page=1000", TURTLE),  # a crawler walking them all
        Step("TPF: all triples, page 10,000", "/fragments?page=10000", TURTLE),
        Step("TPF: by sender", "/fragments?predicate=" + q("https://www.ica.org/standards/RiC/ontology#hasSender"),
             TURTLE),
        Step("reconciliation manifest", "/reconcile", "application/json"),
        Step("reconciliation query", "/reconcile", "application/json",
             urllib.parse.urlencode({"queries": json.dumps({"q0": {"query": name, "type": "person"}})}).encode()),
        Step("reconciliation suggest", "/reconcile/suggest/entity?prefix=" + q(name[:3]), "application/json"),
        Step("reconciliation preview", "/reconcile/preview?id=" + q(busiest)),
        Step("ontology", "/ontology", TURTLE),
    ]


def tour(store: Path, workers: int, repeats: int, work: Path) -> tuple[list[Visit], dict[str, float]]:
    """Start the server on ``store``, walk the steps, stop it; return the visits and the start-up figures."""
    base = json.loads((store / "current" / "manifest.json").read_text(encoding="utf-8"))["base_uri"]
    port = urllib.parse.urlsplit(base).port or 80
    steps = steps_for(store, base)
    server = docket_server(store, base, port, workers, 4, work / "docket.log")
    server.start()
    try:
        started = server.wait_for("/", HTML, seconds=300)
        time.sleep(1.0)
        idle = {"first page (s)": started, "idle, largest process (MB)": largest_rss_kb(server.pid) / 1024,
                "idle, whole tree (MB)": tree_rss_kb(server.pid) / 1024,
                "processes": float(sum(1 for _ in family(server.pid)))}
        visits = []
        for step in steps:
            status, body, cold = fetch(port, step)
            warm = [fetch(port, step)[2] for _ in range(repeats)]
            visits.append(Visit(step, status, len(body), cold, statistics.median(warm) if warm else cold,
                                largest_rss_kb(server.pid) / 1024, tree_rss_kb(server.pid) / 1024))
            print(f"{step.name}: {status}, {len(body):,} bytes, cold {cold:,.0f} ms, "
                  f"largest process {visits[-1].largest_mb:,.0f} MB", file=sys.stderr, flush=True)
    finally:
        server.stop()
    return visits, idle


def section(count: int, visits: list[Visit], idle: dict[str, float], info: dict[str, str], workers: int,
            repeats: int, command: str) -> str:
    """Render the tour as a markdown section of the benchmark page."""
    lines = [f"{HEADING}{count:,} synthetic records", "",
             f"`{command}` — {info['cpu']}, {info['cores']} cores, {info['ram']} RAM; Python {info['python']}, "
             f"pyoxigraph {info['pyoxigraph']}. Docket under gunicorn, {workers} worker processes (each with "
             "its SPARQL query worker), one request at a time on a fresh connection. Cold: the first time a "
             f"step is asked; warm: median of the next {repeats}. Memory: resident (VmRSS) from /proc after "
             "each step, the largest single process of the server's tree and the tree summed (shared pages "
             "counted in each process).", "",
             f"Started in {idle['first page (s)']:.2f} s (process start to the first page); idle, the largest "
             f"process held {idle['idle, largest process (MB)']:,.0f} MB and the tree of "
             f"{idle['processes']:.0f} processes {idle['idle, whole tree (MB)']:,.0f} MB.", "",
             "| Step | Status | Bytes | Cold ms | Warm ms | Largest process MB | Tree MB |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for v in visits:
        lines.append(f"| {v.step.name} | {v.status} | {v.size:,} | {v.cold_ms:,.0f} | {v.warm_ms:,.1f} | "
                     f"{v.largest_mb:,.0f} | {v.tree_mb:,.0f} |")
    worst = max(visits, key=lambda v: v.largest_mb)
    slowest = max(visits, key=lambda v: v.cold_ms)
    failed = [v.step.name for v in visits if v.status != 200]
    lines += ["", f"Largest process at its peak: {worst.largest_mb:,.0f} MB (after \"{worst.step.name}\"); "
              f"slowest cold step: \"{slowest.step.name}\", {slowest.cold_ms:,.0f} ms. "
              + (f"Not 200: {', '.join(failed)}." if failed else "Every step answered 200."), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench tour", description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="a store folder an earlier run kept (--keep)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="Docket's gunicorn workers")
    parser.add_argument("--repeats", type=int, default=3, help="warm repeats of each step")
    parser.add_argument("--doc", type=Path, default=DOC, help="the benchmark page to update")
    parser.add_argument("--no-write", action="store_true", help="print only; do not update the benchmark page")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="docket-tour-"))
    visits, idle = tour(args.store, args.workers, args.repeats, work)
    shutil.rmtree(work, ignore_errors=True)  # kept, with the server's log, when the tour failed
    count = len(record_ids(args.store))
    text = section(count, visits, idle, machine(), args.workers, args.repeats,
                   "python -m bench tour --store STORE")
    if not args.no_write:
        write_section(text, args.doc)
    print(text)


if __name__ == "__main__":
    main()
