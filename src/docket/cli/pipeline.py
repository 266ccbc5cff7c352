"""Run the whole flow for the build and validate commands: ingest → map → validate → store.

Only the CLI wires the parts together; this module is the CLI's, kept apart from the click
commands so the flow reads in one place.
"""

from __future__ import annotations

import hashlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

import ijson
from rdflib import Graph

from docket import __version__
from docket.config import Settings
from docket.harvest import write_harvest_files, write_oai_index
from docket.ingest import IngestResult
from docket.ingest.model import Record
from docket.mapping import Mapper, MappingResult, dataset_description
from docket.serve.published import RECORD_INDEX
from docket.serve.record_index import write_record_index
from docket.serve.stats import write_site_files
from docket.store import BuildSummary, BuildWriter
from docket.validate import Finding, ValidationReport, Validator

if TYPE_CHECKING:
    from docket.cli.progress import BuildProgress


@dataclass
class Outcome:
    """Hold what a build or validation run produced."""

    report: ValidationReport
    rejected: list = field(default_factory=list)
    summary: BuildSummary | None = None


def _nt(graph: Graph) -> bytes:
    return graph.serialize(format="nt", encoding="utf-8")


def build_fingerprint(validator: Validator, context: Graph, settings: Settings) -> str:
    """Fingerprint everything besides a record that shapes its published triples.

    A build made with other code, shapes, authorities, ontology or rights table re-maps and
    re-validates every record instead of reusing the previous build's graphs.
    """
    h = hashlib.sha256()
    h.update(__version__.encode())
    h.update(validator.fingerprint().encode())
    for line in sorted(_nt(context).splitlines()):
        h.update(line)
    if settings.rights_table.exists():
        h.update(settings.rights_table.read_bytes())
    return "sha256:" + h.hexdigest()


class MapRecord:
    """Map one record to (ID, N-Triples, source, (problems, where the shared triples begin)) in whichever
    process runs it.

    Sent to the validation workers, so mapping runs in parallel with validation instead of in the
    process feeding them; each process builds its ``Mapper`` once, on first use.
    """

    _mappers: dict[Settings, Mapper] = {}

    def __init__(self, settings: Settings):
        self.settings = settings

    def __call__(self, record: Record) -> tuple[str, bytes, str, tuple[list, int]]:
        mapper = self._mappers.get(self.settings)
        if mapper is None:
            mapper = self._mappers[self.settings] = Mapper(self.settings)
        result = mapper.map(record)
        data, shared_at = result.split_ntriples()
        return record.id, data, str(record.source), (result.problems, shared_at)


def map_and_validate(
    records: Iterable[Record],
    mapper: Mapper,
    validator: Validator,
    report: ValidationReport,
    on_result: Callable[[Record, MappingResult | None, bytes, bytes, bool], None],
    keep_graphs: bool = False,
) -> None:
    """Map each record, validate all in parallel, and hand each back with whether it conforms.

    ``on_result(record, result, own, shared, conforms)`` gets the record's own N-Triples and those of
    the resources published for its unreconciled names (``MappingResult.shared``) apart; each record
    is validated with both. Unless ``keep_graphs``, mapping runs in the validation workers and
    ``result`` is None: only the N-Triples come back, not each record's rdflib graph.
    """
    if not keep_graphs:
        pending: deque[Record] = deque()

        def sent():
            for record in records:
                pending.append(record)
                yield record

        MapRecord._mappers.setdefault(mapper.settings, mapper)  # this process already has one
        for checked, data, (problems, shared_at) in validator.validate_prepared(sent(), MapRecord(mapper.settings)):
            record = pending.popleft()
            assert record.id == checked.record, "results come back in input order"
            report.add(checked)
            report.add_problems(problems, file=str(record.source), record=record.id)
            on_result(record, None, data[:shared_at], data[shared_at:], checked.conforms)
        return
    mapped: dict[str, tuple[Record, MappingResult, bytes, int]] = {}

    def items():
        for record in records:
            result = mapper.map(record)
            data, shared_at = result.split_ntriples()
            mapped[record.id] = (record, result, data, shared_at)
            yield record.id, data, str(record.source)

    for checked in validator.validate_many(items()):
        record, result, data, shared_at = mapped.pop(checked.record)
        report.add(checked)
        report.add_problems(result.problems, file=str(record.source), record=record.id)
        on_result(record, result, data[:shared_at], data[shared_at:], checked.conforms)


def validate_only(ingested: IngestResult, settings: Settings) -> Outcome:
    """Map and validate every record without touching the store."""
    mapper = Mapper(settings)
    report = ValidationReport(mapper.minter)
    context = mapper.authorities_graph() + mapper.ontology_graph()
    with Validator.from_settings(settings, context) as validator:
        map_and_validate(ingested.records, mapper, validator, report, lambda *a: None)
        report.add_findings(validator.validate_context())
        identifiers = [(str(mapper.minter.record(r.id)), r.id) for r in ingested.records]
        report.add_findings(validator.validate_dataset(dataset_description(mapper.minter), identifiers))
    return Outcome(report, ingested.rejections)


def build(ingested: IngestResult, settings: Settings, *, force: bool = False, full: bool = False,
          check_space: bool = True,
          after_records: Callable[[BuildWriter, list[tuple[Record, MappingResult]]], None] | None = None,
          progress: "BuildProgress | None" = None) -> Outcome:
    """Publish a new build from ``ingested``: unchanged records are reused, the rest mapped and validated.

    Records that violate a shape are held back and listed; the others are published. The
    validation report is written into the build (as RDF graph and as files) before the switch.
    ``progress`` (``docket.cli.progress``) hears of each record as it is published, reused or held
    back, of each phase of the build as it ends, and of each derived file as it is written.
    """
    advance = progress.advance if progress else (lambda n: None)
    mapper = Mapper(settings)
    report = ValidationReport(mapper.minter)
    authorities, ontology = mapper.authorities_graph(), mapper.ontology_graph()
    published: list[tuple[Record, MappingResult]] = []
    with Validator.from_settings(settings, authorities + ontology) as validator:
        fingerprint = build_fingerprint(validator, authorities + ontology, settings)
        with BuildWriter(settings, fingerprint=fingerprint, incremental=not full,
                         expected_records=len(ingested.records), check_space=check_space,
                         on_phase=progress.phase if progress else None) as writer:
            hashes: dict[str, str] = {}
            reused: set[str] = set()

            def changed() -> Iterator[Record]:
                # One pass over the (possibly spooled) records: reuse the unchanged, map the rest.
                for record in ingested.records:
                    hashes[record.id] = record.fingerprint()
                    if writer.is_unchanged(record.id, hashes[record.id]):
                        writer.reuse(record.id)
                        reused.add(record.id)
                        advance(1)
                    else:
                        yield record

            def publish(record: Record, result: MappingResult | None, own: bytes, shared: bytes,
                        conforms: bool) -> None:
                if conforms:
                    writer.add_record(record.id, own, hashes[record.id], source=str(record.source), shared=shared)
                    if result is not None:  # only kept for after_records: each holds an rdflib graph
                        published.append((record, result))
                else:
                    writer.hold_back(record.id, "violates the shapes; see the validation report",
                                     source=str(record.source))
                advance(1)

            map_and_validate(changed(), mapper, validator, report, publish, keep_graphs=after_records is not None)
            writer.load_pending()  # loading the records is part of their phase, not the report's
            writer.phase("records")
            carry_over_findings(report, writer, reused)
            report.add_findings(validator.validate_context())
            writer.add_graph("authorities", authorities)
            writer.add_graph("ontology", ontology)
            report.add_findings(writer.check_dataset(validator, dataset_description(mapper.minter)))
            # As a file, not bytes nor an rdflib graph: a million findings at 100,000 records.
            report_nt = writer.path / "validation.nt"
            report.write_rdf(report_nt, "nt")
            writer.add_graph_file("validation", report_nt)
            write_report_files(report, ingested, writer.path, report_nt)
            report_nt.unlink()
            writer.phase("report")
            if after_records is not None:
                after_records(writer, published)
            summary = writer.commit(force=force, before_switch=lambda folder, manifest: write_derived_files(
                settings, folder, manifest, on_step=progress.step if progress else None))
    return Outcome(report, ingested.rejections, summary)


def write_derived_files(settings: Settings, folder: Path, manifest,
                        on_step: Callable[[str], None] | None = None) -> None:
    """Write what is derived from a complete build into it before the switch, so it publishes atomically.

    The search index and collection statistics (pages), the dumps, sitemaps, VoID and OAI-PMH index
    (harvesting), and the records by ID: computed once per build, never per request. The pages'
    files are made on a second thread while the dumps are written: the dumps spend their time in
    Oxigraph, zlib and sort, which let go of the GIL, the pages' in Python and SQLite. ``on_step(name)``
    is told as each is written (from either thread).
    """
    written = on_step or (lambda name: None)

    def pages() -> None:
        write_site_files(folder)
        written("search index, statistics and resource index")
        write_record_index(folder, manifest, RECORD_INDEX)
        written("record index")

    with ThreadPoolExecutor(max_workers=1) as pool:
        done = pool.submit(pages)
        write_harvest_files(settings, folder, manifest, on_step)
        done.result()
    write_oai_index(settings, folder, manifest)
    written("OAI-PMH index")


def carry_over_findings(report: ValidationReport, writer: BuildWriter, reused: set[str]) -> None:
    """Copy the previous build's findings for records reused unchanged, so every build's report is whole."""
    report.reused = len(reused)
    if not reused or writer.previous is None:
        return
    current = writer.layout.current()
    path = current / "validation.json" if current else None
    if path is None or not path.exists():
        return
    # Read one finding at a time: at 1,000,000 records the report is 2.4 GB of JSON, which parsed
    # whole would take several times that in memory on top of the build's own report.
    with open(path, "rb") as fh:
        report.add_findings(_reused_findings(ijson.items(fh, "results.item", use_float=True), reused))


def _reused_findings(results: Iterable[dict], reused: set[str]) -> Iterator[Finding]:
    for f in results:
        if f.get("mentions"):  # an unreconciled name: keep where the reused records name it
            kept = [m for m in f["mentions"] if m.get("record") in reused]
            if kept:
                yield Finding.from_json(f | {"mentions": kept})
        elif f.get("record") in reused:
            yield Finding.from_json(f)


def write_report_files(report: ValidationReport, ingested: IngestResult, folder: Path,
                       ntriples: Path | None = None) -> None:
    """Write the validation report as JSON (with the ingest rejections) and as Turtle into ``folder``.

    Both are streamed to the files; the Turtle is rewritten natively from ``ntriples``, a file of the
    report's N-Triples, when the build already wrote one to load into the store.
    """
    with open(folder / "validation.json", "w", encoding="utf-8") as out:
        report.write_json(out, {"ingest": ingested.to_report()})
        out.write("\n")
    report.write_rdf(folder / "validation.ttl", "ttl", ntriples=ntriples)
