"""`docket build` shows its progress: a bar over the records on a terminal, a line as each phase ends."""

from __future__ import annotations

import io
import re

from docket.cli.progress import BuildProgress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_bar_counts_the_records_and_ends_before_the_first_phase_line():
    out = Terminal()
    with BuildProgress(4, file=out) as progress:
        for _ in range(4):
            progress.advance(1)
        progress.phase("records", 12.34)
        progress.phase("report", 1.0)
    text = out.getvalue()
    bar, _, after = text.rpartition("\n" + "records mapped")
    assert "Building" in bar and "4/4" in bar and "100%" in bar
    assert after.startswith(", validated and loaded in 12.3 s; writing the validation report\n")
    assert after.endswith("validation report written in 1.0 s; loading the unreconciled names and checking the store\n")


def test_elsewhere_only_the_phase_lines_are_written():
    out = io.StringIO()  # a log file, a pipe
    with BuildProgress(3, file=out) as progress:
        progress.advance(3)
        progress.phase("records", 2.0)
        progress.phase("derived files", 5.0)
        progress.phase("a phase it does not know", 0.5)
    assert out.getvalue().splitlines() == [
        "records mapped, validated and loaded in 2.0 s; writing the validation report",
        "dumps, indexes, sitemaps and VoID written in 5.0 s; switching to the new build",
        "a phase it does not know in 0.5 s",
    ]


def test_a_build_that_fails_early_still_ends_the_bar():
    out = Terminal()
    try:
        with BuildProgress(10, file=out) as progress:
            progress.advance(2)
            raise RuntimeError("the disk is full")
    except RuntimeError:
        pass
    assert progress.bar is None and out.getvalue().endswith("\n")


def test_a_large_build_redraws_the_bar_a_thousand_times_at_most_and_ends_on_its_count():
    out = Terminal()
    with BuildProgress(1_000_500, file=out) as progress:
        for _ in range(1_000_500):
            progress.advance(1)
        progress.phase("records", 1.0)
    text = out.getvalue()
    assert text.count("Building") <= 1002
    assert "1000500/1000500" in text.rpartition("Building")[2]


def test_each_derived_file_is_told_with_how_far_into_its_phase_it_came():
    out = io.StringIO()
    with BuildProgress(1, file=out) as progress:
        progress.phase("final load and checks", 1.0)
        progress.step("dumps")
    assert re.fullmatch(r"  dumps written, \d+\.\d s into the phase", out.getvalue().splitlines()[-1])
