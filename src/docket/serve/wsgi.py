"""Run the app under gunicorn: one worker per core, the app loaded once and shared by the workers."""

from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication

from docket.config import Settings


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
        self.cfg.set("threads", 4)
        self.cfg.set("timeout", 120)
        self.cfg.set("accesslog", "-")
        # Long SPARQL queries arrive by GET; /sparql answers 413 past its own limit, so gunicorn's
        # 4 KB request-line limit (a bare 414) must not cut in first.
        self.cfg.set("limit_request_line", 0)

    def load(self):
        # Imported here so that a worker opens its store after the fork, never before.
        from docket.serve import create_app

        return create_app(self.settings)


def run(settings: Settings) -> None:
    """Serve until interrupted."""
    DocketServer(settings).run()
