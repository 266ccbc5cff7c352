"""Validate many records in parallel: one engine per worker process, records sent in batches.

Workers are started with an initializer that parses the shapes and indexes the context once; records
travel as N-Triples bytes (cheap to pickle), results come back in input order.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from rdflib import Graph, URIRef

from docket.config import Settings
from docket.uris import Minter
from docket.validate.engine import ENGINES, Engine, as_text
from docket.validate.report import Finding, RecordResult
from docket.validate.shapes import ShapeSource

Item = tuple[str, "str | bytes | Graph", "str | None"]  # (record ID, its triples, source file)
Prepared = tuple[str, bytes, "str | None", Any]  # (record ID, its N-Triples, source file, anything else)

_ENGINE: Engine | None = None  # one per worker process


def _init_worker(shapes: ShapeSource, context: bytes, engine: str) -> None:
    global _ENGINE
    _ENGINE = Engine(shapes, context, engine)


def _validate_batch(batch: list[tuple[str, bytes, str | None]]) -> list[RecordResult]:
    assert _ENGINE is not None, "worker started without its initializer"
    return [_ENGINE.validate_record(record, data, source) for record, data, source in batch]


def _prepare_batch(prepare: Callable[[Any], Prepared], batch: list[Any]) -> list[tuple[RecordResult, bytes, Any]]:
    assert _ENGINE is not None, "worker started without its initializer"
    out = []
    for item in batch:
        record, data, source, extra = prepare(item)
        out.append((_ENGINE.validate_record(record, data, source), data, extra))
    return out


class Validator:
    """Validate records against the shapes, in this process or in ``workers`` processes.

    ``context`` is the authorities and ontology (N-Triples or a graph): records are validated together
    with the parts of it they mention. Use as a context manager, or call ``close()``, to stop workers.
    """

    def __init__(
        self,
        shapes_dir: Path | None = None,
        context: str | bytes | Graph = b"",
        workers: int = 1,
        base_uri: str = "http://127.0.0.1:8080/",
        batch_size: int = 32,
        shapes: ShapeSource | None = None,
        engine: str = "fast",
    ):
        if shapes is None:
            if shapes_dir is None:
                raise ValueError("give the shapes folder or the shapes themselves")
            shapes = ShapeSource.read(shapes_dir, base_uri)
        if engine not in ENGINES:
            raise ValueError(f"unknown validation engine {engine!r}; choose one of {', '.join(ENGINES)}")
        self.shapes = shapes
        self.engine_name = engine
        self.minter = Minter(shapes.base)
        self.context = as_text(context)
        self.workers = workers if workers > 0 else (os.cpu_count() or 1)
        self.batch_size = max(1, batch_size)
        self._engine: Engine | None = None
        self._pool: ProcessPoolExecutor | None = None

    @classmethod
    def from_settings(cls, settings: Settings, context: str | bytes | Graph = b"",
                      workers: int | None = None) -> "Validator":
        return cls(settings.shapes_dir, context,
                   settings.validation_workers if workers is None else workers, settings.base_uri,
                   engine=settings.validation_engine)

    @property
    def engine(self) -> Engine:
        """Return the in-process engine (built on first use)."""
        if self._engine is None:
            self._engine = Engine(self.shapes, self.context, self.engine_name)
        return self._engine

    def fingerprint(self) -> str:
        """Hash the shapes and base: a build reuses earlier results only when this is unchanged."""
        return self.shapes.fingerprint()

    # --- records ----------------------------------------------------------------------------------

    def validate(self, record: str, data: str | bytes | Graph, source: str | None = None) -> RecordResult:
        """Validate one record in this process."""
        return self.engine.validate_record(record, data, source)

    def validate_many(self, items: Iterable[Item]) -> Iterator[RecordResult]:
        """Validate (record ID, triples, source) items; yield one result per item, in input order.

        Input is consumed lazily: at most a few batches per worker are in flight, so a million
        records never sit in memory at once.
        """
        items = iter(items)
        # Starting workers costs about a second; a handful of records is quicker done here.
        head = list(itertools.islice(items, self.batch_size * self.workers))
        if self.workers <= 1 or len(head) < self.batch_size * self.workers:
            for record, data, source in itertools.chain(head, items):
                yield self.engine.validate_record(record, data, source)
            return
        pool = self._start()
        pending: deque[Future] = deque()
        limit = self.workers * 4
        for batch in _batches(itertools.chain(head, items), self.batch_size):
            pending.append(pool.submit(_validate_batch, batch))
            while len(pending) >= limit:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()

    def validate_prepared(self, items: Iterable[Any],
                          prepare: Callable[[Any], Prepared]) -> Iterator[tuple[RecordResult, bytes, Any]]:
        """Turn each item into a record's triples with ``prepare`` and validate it, both in the workers.

        ``prepare(item)`` returns (record ID, N-Triples bytes, source, extra); it must be picklable
        (a module-level function or an instance of a module-level class), as must the items. Yields
        (result, N-Triples, extra) in input order. This lets the expensive step before validation
        (mapping a record to RDF) run in parallel too, instead of in the one process feeding workers.
        """
        items = iter(items)
        head = list(itertools.islice(items, self.batch_size * self.workers))
        if self.workers <= 1 or len(head) < self.batch_size * self.workers:
            for item in itertools.chain(head, items):
                record, data, source, extra = prepare(item)
                yield self.engine.validate_record(record, data, source), data, extra
            return
        pool = self._start()
        pending: deque[Future] = deque()
        limit = self.workers * 4
        batch: list[Any] = []
        for item in itertools.chain(head, items):
            batch.append(item)
            if len(batch) >= self.batch_size:
                pending.append(pool.submit(_prepare_batch, prepare, batch))
                batch = []
            while len(pending) >= limit:
                yield from pending.popleft().result()
        if batch:
            pending.append(pool.submit(_prepare_batch, prepare, batch))
        while pending:
            yield from pending.popleft().result()

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the parent may hold open Oxigraph stores and their threads.
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.shapes, self.context, self.engine_name),
            )
        return self._pool

    # --- authorities and dataset ------------------------------------------------------------------

    def validate_context(self) -> list[Finding]:
        """Validate the authorities and ontology themselves, once."""
        return self.engine.validate_context()

    def validate_dataset(
        self, description: str | bytes | Graph, identifiers: Iterable[tuple[str, str]]
    ) -> list[Finding]:
        """Run the dataset-level checks: the dataset's ``description`` plus (record IRI, identifier) pairs.

        A duplicate identifier gives one violation per record involved, with the record as ``sh:value``
        and its ID in ``Finding.record``, so ``ValidationReport.held_back()`` names them.
        """
        out = []
        for finding in self.engine.validate_dataset(description, identifiers):
            split = self.minter.split(str(finding.value)) if isinstance(finding.value, URIRef) else None
            record = split[1] if split and split[0] == "record" else None
            out.append(finding.with_context(record, "dataset"))
        return out

    # --- lifetime ---------------------------------------------------------------------------------

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "Validator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _batches(items: Iterable[Item], size: int) -> Iterator[list[tuple[str, bytes, str | None]]]:
    batch: list[tuple[str, bytes, str | None]] = []
    for record, data, source in items:
        batch.append((record, as_text(data), None if source is None else str(source)))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
