"""Measure the memory of a process and everything it started, from /proc (Linux)."""

from __future__ import annotations

import os
from typing import Iterator


def process_tree() -> dict[int, list[int]]:
    """Map each process id to its children's."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def family(root: int) -> Iterator[int]:
    """Yield ``root`` and all its descendants."""
    tree, todo = process_tree(), [root]
    while todo:
        pid = todo.pop()
        yield pid
        todo.extend(tree.get(pid, ()))


def _field_kb(path: str, name: str) -> int:
    try:
        with open(path, encoding="ascii") as fh:
            return next((int(line.split()[1]) for line in fh if line.startswith(name)), 0)
    except (OSError, ValueError):
        return 0


def tree_rss_kb(root: int) -> int:
    """Sum the resident memory (VmRSS) of ``root`` and its descendants; shared pages count in each."""
    return sum(_field_kb(f"/proc/{pid}/status", "VmRSS:") for pid in family(root))


def largest_rss_by_depth_kb(root: int) -> dict[int, int]:
    """Return the resident memory of the largest process at each depth below ``root`` (0: ``root`` itself).

    Under ``docket serve`` depth 1 holds the gunicorn workers, depth 2 their SPARQL query workers.
    """
    tree, todo, largest = process_tree(), [(root, 0)], {}
    while todo:
        pid, depth = todo.pop()
        largest[depth] = max(largest.get(depth, 0), _field_kb(f"/proc/{pid}/status", "VmRSS:"))
        todo.extend((child, depth + 1) for child in tree.get(pid, ()))
    return largest


def largest_rss_kb(root: int) -> int:
    """Return the resident memory (VmRSS) of the largest process among ``root`` and its descendants."""
    return max((_field_kb(f"/proc/{pid}/status", "VmRSS:") for pid in family(root)), default=0)


def tree_pss_kb(root: int) -> int:
    """Sum the proportional set size of ``root`` and its descendants (shared pages shared out)."""
    return sum(_field_kb(f"/proc/{pid}/smaps_rollup", "Pss:") for pid in family(root))


def process_count(root: int) -> int:
    """Count ``root`` and its descendants."""
    return sum(1 for _ in family(root))
