"""Answer one request in-process, for ``docket serve --get PATH`` (checks, scripts, cron jobs)."""

from __future__ import annotations

import sys
from typing import BinaryIO, Mapping, TextIO

from flask import Flask


def get_once(app: Flask, path: str, headers: Mapping[str, str] | None = None, *,
             method: str = "GET", out: BinaryIO | None = None, err: TextIO | None = None) -> int:
    """Send one request to ``app``; write the body to ``out`` and the status and headers to ``err``.

    Returns the exit status: 0 for a 2xx or 3xx answer (a redirect is not an error: it is what
    ``id/`` URIs answer), 1 for 4xx and 5xx. Redirects are not followed, so the answer is exactly
    what a client would first see. ``path`` may carry a query string.
    """
    out = out if out is not None else sys.stdout.buffer
    err = err if err is not None else sys.stderr
    if not path.startswith("/"):
        path = "/" + path
    response = app.test_client().open(path, method=method, headers=dict(headers or {}))
    try:
        err.write(f"{response.status}\n")
        for name, value in response.headers.items():
            err.write(f"{name}: {value}\n")
        if method != "HEAD":
            out.write(response.get_data())
        out.flush()
    finally:
        response.close()
    return 0 if response.status_code < 400 else 1
