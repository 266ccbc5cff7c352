"""Show a build's progress on standard error: a bar over the records, a line as each phase ends.

A build of a million records maps and validates for most of an hour and then writes its report,
dumps and indexes for as long again; the archivist running it sees where it is and what comes next,
and, in the last phase, each derived file as it is written.
The bar is drawn only on a terminal; the phase lines are written anywhere (a log keeps them).
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

import click

# What each phase of ``docket.cli.pipeline.build`` did, and what the next one does.
_PHASES = {
    "records": ("records mapped, validated and loaded", "writing the validation report"),
    "report": ("validation report written", "loading the unreconciled names and checking the store"),
    "final load and checks": ("store checked", "writing the dumps, indexes, sitemaps and VoID"),
    "derived files": ("dumps, indexes, sitemaps and VoID written", "switching to the new build"),
}


class BuildProgress:
    """Count the records of a build on a progress bar; report each phase as ``BuildWriter.phase`` ends it."""

    def __init__(self, records: int, file: TextIO | None = None):
        self.file = file or sys.stderr
        self.bar: Any = click.progressbar(length=records, label="Building", file=self.file, show_pos=True,
                                          show_percent=True, hidden=not self.file.isatty())
        # Drawn a thousand times at most: a million redraws would cost the build seconds.
        self._step, self._pending = max(1, records // 1000), 0
        self._phase_ended = time.monotonic()

    def __enter__(self) -> "BuildProgress":
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._end_bar()

    def advance(self, records: int) -> None:
        self._pending += records
        if self.bar is not None and self._pending >= self._step:
            self.bar.update(self._pending)
            self._pending = 0

    def phase(self, name: str, seconds: float) -> None:
        """Say that phase ``name`` ended after ``seconds``, and what the build does next."""
        if name == "records":
            self._end_bar()
        self._phase_ended = time.monotonic()
        done, next_step = _PHASES.get(name, (name, ""))
        then = f"; {next_step}" if next_step else ""
        click.echo(f"{done} in {seconds:.1f} s{then}", file=self.file)

    def step(self, name: str) -> None:
        """Say that ``name`` (a derived file: dumps, an index) is written, and how far into its phase."""
        click.echo(f"  {name} written, {time.monotonic() - self._phase_ended:.1f} s into the phase", file=self.file)

    def _end_bar(self) -> None:
        if self.bar is not None:
            if self._pending:
                self.bar.update(self._pending)
                self._pending = 0
            self.bar.__exit__(None, None, None)
            self.bar = None
