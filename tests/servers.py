"""Start real servers on 127.0.0.1 for the tests, and stop them afterwards."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 30.0) -> None:
    """Poll ``url`` until it answers; fail with the server's output if it dies or never answers."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"server exited with {process.returncode}: {out[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                response.read()
                return
        except OSError:
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"server at {url} did not answer within {seconds} s")


def oxigraph_binary() -> str | None:
    """Return the `oxigraph` server program (from the `oxigraph` PyPI package), if installed."""
    beside = Path(sys.executable).with_name("oxigraph")
    return str(beside) if beside.exists() else shutil.which("oxigraph")


class OxigraphServer:
    """An `oxigraph serve` process on a free port of 127.0.0.1, with its own store folder."""

    def __init__(self, location: Path):
        binary = oxigraph_binary()
        if binary is None:
            pytest.skip("the `oxigraph` server program is not installed (pip install oxigraph)")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{self.port}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        wait_for(f"{self.base}/query?query=ASK%7B%7D", self.process)

    @property
    def query_url(self) -> str:
        return f"{self.base}/query"

    @property
    def graph_store_url(self) -> str:
        return f"{self.base}/store"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


VIRTUOSO_INI = """[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DirsAllowed = ., {dir}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = /var/lib/virtuoso-opensource-7/vsp
ServerThreads = 4
Charset = UTF-8
[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 60
"""


class VirtuosoServer:
    """Virtuoso Open Source (Debian's package) with a private ini, bound to 127.0.0.1 only.

    Anonymous SPARQL users may write through the Graph Store Protocol endpoint, as a loader needs;
    the server lives only as long as the tests.
    """

    def __init__(self, location: Path):
        binary, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
        if binary is None or isql is None:
            pytest.skip("Virtuoso is not installed (Debian package virtuoso-opensource; .ci/system-deps.sh)")
        self.sql_port, self.port = free_port(), free_port()
        ini = location / "virtuoso.ini"
        ini.write_text(VIRTUOSO_INI.format(dir=location, sql_port=self.sql_port, http_port=self.port))
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([binary, "+foreground", "+configfile", str(ini)],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=location)
        wait_for(f"{self.base}/sparql?query=ASK%7B%7D", self.process, seconds=60)
        grant = ('grant SPARQL_UPDATE to "SPARQL"; '
                 "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);")
        subprocess.run([isql, str(self.sql_port), "dba", "dba", f"exec={grant}"], check=True,
                       capture_output=True, timeout=60)

    @property
    def query_url(self) -> str:
        return f"{self.base}/sparql"

    @property
    def graph_store_url(self) -> str:
        return f"{self.base}/sparql-graph-crud"

    stop = OxigraphServer.stop
