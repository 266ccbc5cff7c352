"""Write one run's section into the benchmark page, keeping the page's introduction and other sections."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
_INTRO = ("# Benchmarks\n\nFigures from `make bench` / `python -m bench ...` on the machine named in each "
          "section. The records are SYNTHETIC (`bench/synthetic.py`, seed 1954); no figure here is a test.\n\n")
_KINDS = ("## Ingest benchmark", "## Serving benchmark", "## Interface tour")
_SIZE = re.compile(r": ([\d,]+) synthetic records")


def write_section(text: str, path: Path = DOC) -> None:
    """Put ``text`` into ``path`` in place of the section with its heading (its first line).

    Sections are ordered ingest first, then serving, then the interface tour, each by record count; any other section after them.
    """
    heading = text.splitlines()[0]
    old = path.read_text(encoding="utf-8") if path.exists() else _INTRO
    parts = old.split("\n## ")
    head, sections = parts[0], ["## " + p for p in parts[1:]]
    kept = [s.rstrip() + "\n" for s in sections if not s.startswith(heading + "\n")]
    kept.append(text)
    kept.sort(key=_order)
    path.write_text(head.rstrip() + "\n\n" + "\n".join(kept), encoding="utf-8")


def _order(section: str) -> tuple[int, int]:
    first = section.splitlines()[0]
    kind = next((n for n, prefix in enumerate(_KINDS) if first.startswith(prefix)), len(_KINDS))
    size = _SIZE.search(first)
    return kind, int(size.group(1).replace(",", "")) if size else 0
