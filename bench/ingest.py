"""Time publishing SYNTHETIC records: the whole `docket build`, each stage, and two baselines.

One run, one set of generated records (JSON files, read by the JSON reader):

(a) ``docket build`` as a user runs it (a child process: read + map + validate + load), with the peak
    memory of its process tree (the build and its validation workers, sampled from /proc);
(a′) ``docket build`` again after one record's title is corrected: the incremental rebuild an archivist
    waits for (``--no-rebuild`` skips it);
(b) each stage alone, in this process: read, map (graph + N-Triples), validate (the configured
    engine, in parallel workers), load (``BuildWriter``: one named graph per record, commit);
(c) the baseline: a bare Oxigraph ``Store.bulk_load`` of the same records' N-Quads;
(d) pySHACL alone (the reference engine) on the same records, or the first ``--reference`` of them.

Prints a markdown section (figures, ratios to the baseline, the machine) and writes it into
``docs/benchmarks.md``, replacing the section of the same record count and keeping the others.
Run ``python -m bench ingest --records 10000``. Nothing here is a test: no figure is asserted.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import pickle
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from bench.page import DOC, write_section
from bench.procs import largest_rss_by_depth_kb, tree_rss_kb

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Timing:
    name: str
    seconds: float
    records: int
    peak_mb: float | None = None
    note: str = ""
    phases: dict[str, float] = field(default_factory=dict)  # of a whole build, by its own clock

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else float("inf")


# --- memory -------------------------------------------------------------------------------------------

class PeakSampler:
    """Sample a process tree's resident memory every ``interval`` seconds; keep the peak."""

    def __init__(self, root: int, interval: float = 0.25):
        self.root, self.interval, self.peak_kb, self.largest_kb = root, interval, 0, 0
        self.by_depth_kb: dict[int, int] = {}  # the largest process at each depth of the tree, at its peak
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.root))
            for depth, kb in largest_rss_by_depth_kb(self.root).items():
                self.by_depth_kb[depth] = max(self.by_depth_kb.get(depth, 0), kb)
            self.largest_kb = max(self.largest_kb, max(self.by_depth_kb.values(), default=0))
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024


# --- the machine --------------------------------------------------------------------------------------

def machine() -> dict[str, str]:
    """Describe the machine: CPU model, cores, memory, Python and library versions."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    versions = {}
    for name in ("pyoxigraph", "pyshacl", "rdflib"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {"cpu": cpu, "cores": str(os.cpu_count()), "ram": ram,
            "python": platform.python_version(), **versions}


# --- the stages ---------------------------------------------------------------------------------------

def _settings(work: Path, **extra):
    from docket.config import Settings

    # The repository's authorities, ontology, shapes and rights; a private store and ID registry.
    return Settings.load(
        env={}, data_dir=REPO / "data", authorities_dir=REPO / "data/authorities",
        rights_table=REPO / "data/rights.csv", ontology_dir=REPO / "ontology", shapes_dir=REPO / "shapes",
        records_dir=work / "records", registry_path=work / "id-registry.json", **extra)


def whole_build(work: Path, records_dir: Path, count: int, engine: str, workers: int, *, full: bool = True,
                name: str = "(a) `docket build` (read + map + validate + load)") -> Timing:
    """Run ``docket build`` in a child process; time it and sample its process tree's memory.

    ``full``: ``--full``, every record mapped and validated; without it the build reuses what the
    previous one (the same folder's) published unchanged.
    """
    env = dict(os.environ)
    env.update({
        "DOCKET_DATA_DIR": str(REPO / "data"), "DOCKET_AUTHORITIES_DIR": str(REPO / "data/authorities"),
        "DOCKET_RIGHTS_TABLE": str(REPO / "data/rights.csv"), "DOCKET_ONTOLOGY_DIR": str(REPO / "ontology"),
        "DOCKET_SHAPES_DIR": str(REPO / "shapes"), "DOCKET_STORE_DIR": str(work / "store-build"),
        "DOCKET_REGISTRY_PATH": str(work / "id-registry-build.json"),
        "DOCKET_VALIDATION_ENGINE": engine, "DOCKET_VALIDATION_WORKERS": str(workers),
    })
    command = [sys.executable, "-c", "from docket.cli import main; main()", "build",
               *(["--full"] if full else []), str(records_dir)]
    log = work / ("build.log" if full else "rebuild.log")
    start = time.perf_counter()
    with open(log, "wb") as out:
        child = subprocess.Popen(command, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT)
        with PeakSampler(child.pid) as sampler:
            code = child.wait()
    seconds = time.perf_counter() - start
    text = log.read_text(encoding="utf-8", errors="replace")
    # Exit code 1 also means "some record was held back", which a benchmark reports but survives.
    if code not in (0, 1) or "Traceback (most recent call last)" in text:
        tail = text[-2000:]
        raise RuntimeError(f"docket build failed with exit code {code}:\n{tail}")
    summary = [line for line in text.splitlines() if re.match(r"\d+ records: ", line)][-1:]
    return Timing(name, seconds, count, sampler.peak_mb, "; ".join(summary), build_phases(text))


def rebuild(work: Path, records_dir: Path, count: int, engine: str, workers: int) -> Timing:
    """Correct one record's title and build again, as an archivist does: the incremental rebuild's cost."""
    change_one_record(records_dir)
    timing = whole_build(work, records_dir, count, engine, workers, full=False,
                         name="(a′) `docket build` again, one record corrected (incremental)")
    phases = ", ".join(f"{name} {seconds:,.1f} s" for name, seconds in timing.phases.items())
    timing.note = "; ".join(x for x in (timing.note, phases) if x)
    return timing


def change_one_record(records_dir: Path) -> None:
    """Append " (corrected)" to the title of the first record of the first JSON file."""
    path = sorted(records_dir.glob("*.json"))[0]
    records = json.loads(path.read_text(encoding="utf-8"))
    records[0]["title"] += " (corrected)"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")


def build_phases(log: str) -> dict[str, float]:
    """Read the seconds of each phase from a ``docket build`` log: reading, then the build summary's phases."""
    phases: dict[str, float] = {}
    read = re.search(r"records read in ([\d.]+) s", log)
    if read:
        phases["reading"] = float(read.group(1))
    summary = re.search(r"^build .* triples, [\d.]+ s \((.*)\)$", log, re.MULTILINE)
    for part in summary.group(1).split(", ") if summary else ():
        name, _, seconds = part.removesuffix(" s").rpartition(" ")
        phases[name] = float(seconds)
    return phases


def phase_rows(whole: Timing) -> list[Timing]:
    """Break the whole build's time into its phases, and sum those issue 4 names: read + map + validate + load."""
    p = whole.phases
    rows = [Timing(f"(a) … {name}", seconds, whole.records) for name, seconds in p.items()]
    core = ("reading", "records", "final load and checks")
    if all(name in p for name in core):
        rows.append(Timing("(a) … reading, records and final load (read + map + validate + load, without "
                           "the report and the derived files)", sum(p[name] for name in core), whole.records))
    return rows


def _peak_self_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_stage(records_dir: Path, settings) -> tuple[Timing, list]:
    from docket.ingest import ingest
    from docket.ingest.registry import IdRegistry

    start = time.perf_counter()
    result = ingest([records_dir], settings, registry=IdRegistry(None))
    seconds = time.perf_counter() - start
    if result.rejections:
        raise RuntimeError(f"{len(result.rejections)} synthetic records were rejected: {result.rejections[0]}")
    return Timing("(b) read (JSON reader, IDs)", seconds, len(result.records), _peak_self_mb()), result.records


def map_stage(records: list, settings, spool: Path, quads: Path) -> Timing:
    """Map every record; spool (id, N-Triples, source, where the shared begin) for the next stages and
    N-Quads for the baseline: as the build stores them, each record's own triples in its graph and the
    unreconciled names' descriptions once, in theirs."""
    from docket.mapping import Mapper

    mapper = Mapper(settings)
    shared: dict[bytes, None] = {}
    start = time.perf_counter()
    with open(spool, "wb") as out, open(quads, "wb") as nq:
        for record in records:
            result = mapper.map(record)
            data, shared_at = result.split_ntriples()
            pickle.dump((record.id, data, str(record.source), shared_at), out, protocol=pickle.HIGHEST_PROTOCOL)
            suffix = b" <" + str(result.graph_uri).encode() + b"> .\n"
            nq.write(b"".join(line[:-2] + suffix for line in data[:shared_at].splitlines(keepends=True) if line.strip()))
            shared.update(dict.fromkeys(data[shared_at:].splitlines(keepends=True)))
        suffix = b" <" + str(mapper.minter.graph("unreconciled")).encode() + b"> .\n"
        nq.write(b"".join(line[:-2] + suffix for line in shared if line.strip()))
    return Timing("(b) map (to N-Triples)", time.perf_counter() - start, len(records), _peak_self_mb())


def spooled(spool: Path, limit: int | None = None, split: bool = False) -> Iterator[tuple]:
    """Yield (id, N-Triples, source) as validation takes them, or with ``split`` (id, own, source, shared)."""
    with open(spool, "rb") as fh:
        n = 0
        while limit is None or n < limit:
            try:
                record_id, data, source, shared_at = pickle.load(fh)
            except EOFError:
                return
            yield (record_id, data[:shared_at], source, data[shared_at:]) if split else (record_id, data, source)
            n += 1


def validate_stage(spool: Path, settings, engine: str, workers: int, limit: int | None = None,
                   label: str = "") -> tuple[Timing, int]:
    from docket.mapping import Mapper
    from docket.validate import Validator

    mapper = Mapper(settings)
    context = mapper.authorities_graph() + mapper.ontology_graph()
    held = count = 0
    with Validator.from_settings(settings.replace(validation_engine=engine), context, workers=workers) as v:
        start = time.perf_counter()
        for result in v.validate_many(spooled(spool, limit)):
            count += 1
            held += not result.conforms
        seconds = time.perf_counter() - start
    name = label or f"(b) validate ({engine} engine, {workers} workers)"
    return Timing(name, seconds, count, _peak_self_mb(), f"{held} held back" if held else "all conform"), held


def load_stage(spool: Path, settings, count: int) -> Timing:
    from docket.store import BuildWriter

    start = time.perf_counter()
    with BuildWriter(settings, fingerprint="bench", incremental=False) as writer:
        for record_id, own, source, shared in spooled(spool, split=True):
            writer.add_record(record_id, own, "bench", source=source, shared=shared)
        writer.commit(force=True)
    return Timing("(b) load (BuildWriter: named graphs, verify, switch)", time.perf_counter() - start, count,
                  _peak_self_mb())


def bulk_load_baseline(quads: Path, target: Path, count: int) -> Timing:
    import pyoxigraph as ox

    start = time.perf_counter()
    store = ox.Store(str(target))
    store.bulk_load(path=str(quads), format=ox.RdfFormat.N_QUADS)
    store.flush()
    seconds = time.perf_counter() - start
    del store
    return Timing("(c) baseline: Oxigraph `bulk_load` of the same N-Quads", seconds, count, _peak_self_mb())


# --- report -------------------------------------------------------------------------------------------

def section(count: int, timings: list[Timing], baseline: Timing | None, info: dict[str, str],
            notes: list[str], options: str = "") -> str:
    when = time.strftime("%Y-%m-%d", time.gmtime())
    lines = [
        f"## Ingest benchmark: {count:,} synthetic records",
        "",
        f"Run {when} with `python -m bench ingest --records {count}{options}`. Machine: {info['cpu']}, "
        f"{info['cores']} cores, {info['ram']} RAM; Python {info['python']}, pyoxigraph {info['pyoxigraph']}, "
        f"pyshacl {info['pyshacl']}, rdflib {info['rdflib']}.",
        "",
        "| step | records | seconds | records/s | × baseline speed | peak memory | notes |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for t in timings:
        ratio = f"{t.rate / baseline.rate:.3f}" if baseline is not None and baseline.rate else ""
        peak = f"{t.peak_mb:,.0f} MB" if t.peak_mb is not None else ""
        lines.append(f"| {t.name} | {t.records:,} | {t.seconds:,.1f} | {t.rate:,.0f} | {ratio} | {peak} | {t.note} |")
    lines.append("")
    lines.extend(notes)
    return "\n".join(lines).rstrip() + "\n"


# --- run ----------------------------------------------------------------------------------------------

def dump_baseline(work: Path, count: int) -> tuple[Timing, float]:
    """Time Oxigraph's bulk load of every quad the build published (its N-Quads dump); also return how
    long decompressing the dump alone takes.

    The dump is decompressed on the fly by ``gzip`` in a second process: at 1,000,000 records an
    unzipped copy (about 16 GB) beside the build's store and the baseline's would not fit on the disk.
    The second figure says how much of the baseline's time that reading can account for at most.
    """
    import pyoxigraph as ox

    from docket.store import StoreLayout

    current = StoreLayout(work / "store-build").current()
    assert current is not None, "the build published nothing"
    dump = current / "dumps" / "docket.nq.gz"
    target = work / "bulk"
    start = time.perf_counter()
    with subprocess.Popen(["gzip", "-dc", str(dump)], stdout=subprocess.PIPE, bufsize=1 << 20) as unzip:
        store = ox.Store(str(target))
        store.bulk_load(unzip.stdout, format=ox.RdfFormat.N_QUADS)
        store.flush()
    seconds = time.perf_counter() - start
    del store
    shutil.rmtree(target, ignore_errors=True)
    if unzip.returncode:
        raise RuntimeError(f"gzip -dc {dump} failed with exit code {unzip.returncode}")
    start = time.perf_counter()
    subprocess.run(["gzip", "-dc", str(dump)], stdout=subprocess.DEVNULL, check=True)
    unzip_seconds = time.perf_counter() - start
    timing = Timing("(c) baseline: Oxigraph `bulk_load` of every quad the build published (its N-Quads dump)",
                    seconds, count, _peak_self_mb())
    return timing, unzip_seconds


@contextmanager
def _workdir(keep: Path | None) -> Iterator[Path]:
    """Give a run a fresh folder (under ``keep``, kept; else removed afterwards)."""
    work = Path(tempfile.mkdtemp(prefix="docket-bench-", dir=keep))
    try:
        yield work
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)


def _finish(text: str, write: bool) -> str:
    if write:
        write_section(text)
    return text


def generate(work: Path, count: int) -> Path:
    """Write ``count`` synthetic records as JSON files into ``work/records``; return that folder."""
    from bench.synthetic import write_json

    records_dir = work / "records"
    t0 = time.perf_counter()
    write_json(records_dir, count)
    print(f"generated {count} synthetic records in {time.perf_counter() - t0:.1f} s ({records_dir})",
          file=sys.stderr, flush=True)
    return records_dir


def run_build_only(count: int, engine: str, workers: int, keep: Path | None, write: bool,
                   incremental: bool = True) -> str:
    """Generate, build, and time the bare bulk load of what the build published: for 1,000,000 records,
    where the separate stages would each take as long as the build."""
    with _workdir(keep) as work:
        records_dir = generate(work, count)
        info = machine()
        whole = whole_build(work, records_dir, count, engine, workers)
        _progress(whole)
        if write:
            write_section(section(count, [whole], None, info,
                                  ["*Incomplete: the run was still going when this was written.*"], " --build-only"))
        baseline, unzip_seconds = dump_baseline(work, count)
        _progress(baseline)
        again = [rebuild(work, records_dir, count, engine, workers)] if incremental else []
        for t in again:
            _progress(t)
        notes = [f"Run with `--build-only`: the build, then the bare bulk load of every quad it published "
                 f"(record graphs, unreconciled names, report, authorities, build metadata). Peak memory of (a) "
                 f"is the build's whole process tree (sampled from /proc every 0.25 s). The baseline reads the gzipped dump "
                 f"through `gzip -dc` in a second process; decompressing it alone takes {unzip_seconds:,.0f} s, "
                 f"the most that reading can add to the baseline's {baseline.seconds:,.0f} s.",
                 f"\n`docket build` runs at {whole.rate:,.0f} records/s, {whole.rate / baseline.rate:.2f}× the "
                 f"bare bulk load of what it published ({baseline.rate:,.0f} records/s)."]
        notes.extend(_rebuild_notes(whole, again))
        text = section(count, [whole, *phase_rows(whole), *again, baseline], baseline, info, notes, " --build-only")
        return _finish(text, write)


def run(count: int, engine: str, workers: int, reference: int | None, keep: Path | None, write: bool,
        skip_whole: bool = False, incremental: bool = True) -> str:
    with _workdir(keep) as work:
        records_dir = generate(work, count)
        settings = _settings(work, store_dir=work / "store-stages", validation_engine=engine,
                             validation_workers=workers)
        timings: list[Timing] = []
        info = machine()

        def done(t: Timing, last: bool = False) -> None:
            timings.append(t)
            _progress(t)
            if write and not last:  # a long run leaves what it measured so far
                base = next((x for x in timings if x.name.startswith("(c)")), None)
                write_section(section(count, timings, base, info,
                                      ["*Incomplete: the run was still going when this was written.*"]))

        read, records = read_stage(records_dir, settings)
        done(read)
        done(map_stage(records, settings, work / "records.pickle", work / "records.nq"))
        del records
        validate, _held = validate_stage(work / "records.pickle", settings, engine, workers)
        done(validate)
        done(load_stage(work / "records.pickle", settings, count))
        stage_sum = sum(t.seconds for t in timings if t.name.startswith("(b)"))
        done(Timing("(b) sum of the stages", stage_sum, count))
        baseline = bulk_load_baseline(work / "records.nq", work / "bulk", count)
        done(baseline)
        limit = min(count, reference) if reference else count
        ref, _ = validate_stage(work / "records.pickle", settings, "pyshacl", workers, limit,
                                label=f"(d) pySHACL alone ({workers} workers)")
        if limit < count:
            ref.note += f"; first {limit:,} records only"
        done(ref)
        if not skip_whole:  # last: the longest step, and the one a user waits for
            whole = whole_build(work, records_dir, count, engine, workers)
            _progress(whole)
            again = [rebuild(work, records_dir, count, engine, workers)] if incremental else []
            for t in again:
                _progress(t)
            timings[:0] = [whole, *phase_rows(whole), *again]
        with open(work / "records.nq", "rb") as nq:
            triples = sum(1 for _ in nq)
        notes = [
            f"{triples:,} quads of records ({triples / count:.0f} per record: each record's own graph, and the "
            "unreconciled names' graph once). Peak memory: (a) is the build's "
            "whole process tree (sampled from /proc every 0.25 s); the others are this process's "
            "high-water mark so far (`ru_maxrss`), validation workers not included.",
        ]
        if timings[0].name.startswith("(a)"):
            whole = timings[0]
            notes.append(f"\n`docket build` runs at {whole.rate:,.0f} records/s, "
                         f"{whole.rate / baseline.rate:.2f}× the bare bulk load ({baseline.rate:,.0f} records/s); "
                         f"the {engine} engine validates {validate.rate / ref.rate:.1f}× as fast as pySHACL alone.")
            notes.extend(_rebuild_notes(whole, again))
        text = section(count, timings, baseline, info, notes)
        return _finish(text, write)


def _rebuild_notes(whole: Timing, again: list[Timing]) -> list[str]:
    """Say what the incremental rebuild cost against the full build it followed."""
    return [f"\n(a′) corrects one record's title and builds again, without `--full`: the other records are "
            f"reused unmapped and unvalidated, the report and the derived files are made whole again. It took "
            f"{t.seconds:,.1f} s, {t.seconds / whole.seconds:.2f}× the full build's {whole.seconds:,.1f} s."
            for t in again]


def _progress(t: Timing) -> None:
    print(f"{t.name}: {t.seconds:.1f} s, {t.rate:,.0f} records/s", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    from docket.config import Settings

    defaults = Settings.load()
    parser = argparse.ArgumentParser(prog="python -m bench ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000, help="synthetic records to generate")
    parser.add_argument("--engine", default=defaults.validation_engine, choices=("fast", "pyshacl"),
                        help="validation engine of the build and the validate stage")
    parser.add_argument("--workers", type=int, default=defaults.validation_workers or (os.cpu_count() or 1),
                        help="validation worker processes")
    parser.add_argument("--reference", type=int, default=100_000,
                        help="validate at most this many records with pySHACL alone (0: all)")
    parser.add_argument("--keep", type=Path, help="keep the generated records and stores under this folder")
    parser.add_argument("--no-write", action="store_true", help=f"print only; do not update {DOC.relative_to(REPO)}")
    parser.add_argument("--skip-build", action="store_true", help="skip (a), the whole `docket build`")
    parser.add_argument("--build-only", action="store_true",
                        help="only (a) and the bulk load of what it published (for 1,000,000 records)")
    parser.add_argument("--no-rebuild", action="store_true",
                        help="skip (a′), the incremental rebuild after one record is corrected")
    args = parser.parse_args(argv)
    if args.build_only:
        print(run_build_only(args.records, args.engine, args.workers, args.keep, not args.no_write,
                             not args.no_rebuild))
        return
    print(run(args.records, args.engine, args.workers, args.reference or None, args.keep, not args.no_write,
              args.skip_build, not args.no_rebuild))


if __name__ == "__main__":
    main()
