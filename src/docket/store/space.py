"""Refuse a build at its start when the disk cannot hold it, rather than after an hour of work.

The estimate comes from the current build: what it takes on disk, scaled by the number of records.
An incremental build hard-links the current build's store files, so its store costs little; the rest
(report, dumps, indexes) is written afresh and counted in full. A first build has nothing to go by
and is not checked.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from docket.store.base import StoreError

MARGIN = 1.1  # a build is rarely exactly the size of the last: allow a tenth more


class NotEnoughSpace(StoreError):
    """The store folder's disk has less free space than the build is expected to need."""


def disk_bytes(folder: Path) -> int:
    """Return the bytes ``folder``'s files take on disk, a file hard-linked twice counted once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except FileNotFoundError:
                continue
            if st.st_nlink > 1:
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


def needed_bytes(current: Path, store: Path, records_then: int, records_now: int, reusing: bool) -> int:
    """Estimate the bytes a new build of ``records_now`` records needs beside ``current``."""
    size = disk_bytes(current)
    if reusing:
        size -= disk_bytes(store)  # hard-linked, not copied; changed records add little
    return int(size * max(records_now, 1) / max(records_then, 1) * MARGIN)


def check_space(root: Path, current: Path, store: Path, records_then: int, records_now: int,
                reusing: bool) -> None:
    """Raise ``NotEnoughSpace`` when ``root``'s disk has less free space than the build needs."""
    need = needed_bytes(current, store, records_then, records_now, reusing)
    free = shutil.disk_usage(root).free
    if free >= need:
        return
    kind = "an incremental build (its store hard-linked)" if reusing else "a full build"
    raise NotEnoughSpace(
        f"not enough free disk for this build: {root} has {_size(free)} free, and {kind} of "
        f"{records_now:,} records needs about {_size(need)} (the current build, {records_then:,} records, "
        f"takes {_size(disk_bytes(current))}); nothing was built. Free some space, or build anyway with "
        "--no-space-check")


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")
