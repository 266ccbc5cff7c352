"""The ingest benchmark's report: one section per record count, other sections kept, the machine named."""

from __future__ import annotations

from bench.ingest import Timing, machine, section, tree_rss_kb
from bench.page import write_section


def test_sections_are_replaced_by_record_count_and_others_kept(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nIntro kept.\n\n## Serving benchmark\n\nTheirs.\n", encoding="utf-8")
    info = machine()
    base = Timing("(c) baseline", 2.0, 1000)
    first = section(1000, [Timing("(b) map", 4.0, 1000), base], base, info, ["first run"])
    write_section(first, doc)
    write_section(section(100, [base], base, info, ["small"]), doc)
    write_section(first.replace("first run", "second run"), doc)
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nIntro kept.\n")
    assert "## Serving benchmark\n\nTheirs." in text
    assert text.count("## Ingest benchmark: 1,000 synthetic records") == 1
    assert "second run" in text and "first run" not in text
    assert text.index("## Ingest benchmark: 100 ") < text.index("## Ingest benchmark: 1,000 ")
    assert "| (b) map | 1,000 | 4.0 | 250 | 0.500 |" in text  # half the baseline's speed


def test_the_machine_and_memory_are_read_from_the_system():
    info = machine()
    assert int(info["cores"]) >= 1 and info["cpu"] and info["python"].count(".") == 2
    assert info["pyoxigraph"] != "not installed" and info["pyshacl"] != "not installed"
    import os

    assert tree_rss_kb(os.getpid()) > 1000  # this process alone holds more than a megabyte


def test_the_ingest_benchmark_runs_end_to_end_at_a_tiny_size(tmp_path):
    """Every step runs and is reported; no figure is asserted (the machine is shared)."""
    from bench.ingest import run, run_build_only

    text = run(120, "fast", 1, None, tmp_path, write=False)
    for step in ("(a) `docket build`", "(b) read", "(b) map", "(b) validate", "(b) load", "(c) baseline",
                 "(d) pySHACL alone"):
        assert f"| {step}" in text, step
    assert "× the bare bulk load" in text
    assert "| (a) … records |" in text
    # The rebuild after one correction reuses every other record, and says what it cost.
    assert "| (a′) `docket build` again, one record corrected (incremental) |" in text
    assert "1 records: 1 conform" in text and "(and 119 unchanged records reused" in text
    assert "× the full build's" in text
    text = run_build_only(120, "fast", 1, tmp_path, write=False)
    assert "--build-only" in text and "| (a) `docket build`" in text
    # The build's own clock, phase by phase, and the part issue 4 sets a rate for.
    for phase in ("reading", "records", "report", "final load and checks", "derived files",
                  "reading, records and final load"):
        assert f"| (a) … {phase}" in text, phase
    assert "| (c) baseline: Oxigraph `bulk_load` of every quad the build published" in text
    assert "| (a′) `docket build` again" in text
    assert "(a′)" not in run_build_only(120, "fast", 1, tmp_path, write=False, incremental=False)


def test_a_builds_phases_are_read_from_its_log():
    from bench.ingest import Timing, build_phases, phase_rows

    log = ("3 files: 120 records read in 1.5 s, 120 with warnings, 0 rejected\n"
           "build 20261127T210133Z-1c9897: 120 records published (120 new, 0 changed, 0 unchanged), 0 withdrawn, "
           "0 held back, 13000 triples, 9.0 s (records 4.0 s, report 1.0 s, final load and checks 0.5 s, "
           "derived files 3.5 s)\n")
    phases = build_phases(log)
    assert phases == {"reading": 1.5, "records": 4.0, "report": 1.0, "final load and checks": 0.5,
                      "derived files": 3.5}
    rows = {t.name: t for t in phase_rows(Timing("(a) build", 10.5, 120, phases=phases))}
    core = rows["(a) … reading, records and final load (read + map + validate + load, without the report and "
                "the derived files)"]
    assert core.seconds == 6.0 and core.rate == 20.0
    assert build_phases("an older build's log\n") == {}
