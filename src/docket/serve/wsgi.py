"""Run the app under gunicorn: one worker process per core, each with a few threads.

No preloading: each worker imports and builds the app after the fork, so the store (RocksDB holds
threads, locks and file handles that must not cross a fork) and the SPARQL query workers are opened
per process, on first use. A worker's memory is the store's page cache plus the app, so the cost of
not sharing code pages is small; the store files themselves are shared through the OS page cache.

Graceful replacement: ``kill -HUP`` starts new workers on the current code and settings and stops the
old ones once their requests finish (within ``graceful_timeout``); a worker that dies (``kill -9``,
out of memory) is replaced by the arbiter at once. A switch of builds needs neither: each process
follows the ``current`` link by itself.
"""

from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication

from docket.config import REQUEST_THREADS, Settings

KEEPALIVE = 75  # seconds; longer than nginx's upstream keepalive_timeout (60 s), so nginx closes first


class DocketServer(BaseApplication):
    """Serve ``create_app(settings)`` with gunicorn, configured from the settings alone."""

    def __init__(self, settings: Settings):
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        workers = self.settings.workers or os.cpu_count() or 1
        self.cfg.set("bind", f"{self.settings.host}:{self.settings.port}")
        self.cfg.set("workers", workers)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("threads", REQUEST_THREADS)
        self.cfg.set("preload_app", False)
        # A gthread worker's heartbeat comes from its main loop, not from the request threads, so a
        # long query does not trip this; a worker that stops beating this long is killed and replaced.
        self.cfg.set("timeout", 60)
        # Requests in flight when a worker is told to stop (HUP, TERM) may finish: a SPARQL query
        # runs at most sparql_timeout.
        self.cfg.set("graceful_timeout", int(self.settings.sparql_timeout) + 10)
        self.cfg.set("keepalive", KEEPALIVE)
        if os.path.isdir("/dev/shm"):
            self.cfg.set("worker_tmp_dir", "/dev/shm")  # heartbeat file off a disk a build keeps busy
        self.cfg.set("accesslog", "-")
        # Long SPARQL queries arrive by GET; /sparql answers 413 past its own limit, so gunicorn's
        # 4 KB request-line limit (a bare 414) must not cut in first.
        self.cfg.set("limit_request_line", 0)
        self.cfg.set("worker_exit", _worker_exit)
        self.cfg.set("post_worker_init", _post_worker_init)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn >= 25 opens one control socket per user ($HOME/.gunicorn/gunicorn.ctl): a second
            # server on the machine would take it over from the first. Signals do the same job.
            self.cfg.set("control_socket_disable", True)

    def load(self):
        # Imported here so that a worker opens its store after the fork, never before.
        from docket.serve import create_app

        return create_app(self.settings)


def _post_worker_init(worker) -> None:
    """Start the worker's SPARQL query processes now, not on the first query: they load meanwhile."""
    from flask import Flask

    from docket.serve.sparql import runner

    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        runner(app)


def _worker_exit(server, worker) -> None:
    """Stop the exiting worker's SPARQL query processes rather than leave them to notice by themselves."""
    from flask import Flask

    from docket.serve.sparql import close_runner

    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        close_runner(app)


def run(settings: Settings) -> None:
    """Serve until interrupted."""
    DocketServer(settings).run()
