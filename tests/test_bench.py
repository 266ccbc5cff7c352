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
    text = run_build_only(120, "fast", 1, tmp_path, write=False)
    assert "--build-only" in text and "| (a) `docket build`" in text
    assert "| (c) baseline: Oxigraph `bulk_load` of every quad the build published" in text
