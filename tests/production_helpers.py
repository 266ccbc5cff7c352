"""Run Docket as in production for the load and fault tests: `docket build` and `docket serve`
(gunicorn) as subprocesses, nginx with the shipped config in front, all on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from servers import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
DOCKET = str(Path(sys.executable).with_name("docket"))
NGINX_CONF = ROOT / "docs" / "nginx" / "docket.conf"
SEED = ROOT / "data" / "records" / "telegram-1954-06-20-ccp-to-zhou-enlai.txt"
EXAMPLES = ROOT / "docs" / "examples" / "records.json"
EXAMPLE_ID = "ex-0001"
SEED_ID = "1954-06-20-telegram-ccp-central-committee-to-zhou-enlai"


def docket_env(root: Path, **settings: object) -> dict[str, str]:
    """Return the environment a `docket` subprocess reads: repository data, records and store under ``root``."""
    values: dict[str, object] = dict(
        base_uri="http://example.org/", data_dir=ROOT / "data", records_dir=root / "records",
        registry_path=root / "id-registry.json", authorities_dir=ROOT / "data" / "authorities",
        rights_table=ROOT / "data" / "rights.csv", ontology_dir=ROOT / "ontology", shapes_dir=ROOT / "shapes",
        store_dir=root / "store", validation_workers=1)
    values.update(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKET_")}
    env.update({f"DOCKET_{k.upper()}": str(v) for k, v in values.items()})
    return env


def make_records(root: Path, synthetic: int = 0) -> Path:
    """Write the seed, the three examples and ``synthetic`` invented records into ``root/records``."""
    from bench.synthetic import write_json

    records = root / "records"
    records.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, records)
    shutil.copy(EXAMPLES, records)
    if synthetic:
        write_json(records / "synthetic", synthetic)
    return records


def retitle(records: Path, old: str, new: str) -> None:
    """Change one record's title in the examples file (the one difference between two builds)."""
    path = records / EXAMPLES.name
    text = path.read_text(encoding="utf-8")
    assert text.count(f'"title": "{old}"') == 1
    path.write_text(text.replace(f'"title": "{old}"', f'"title": "{new}"'), encoding="utf-8")


def build(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `docket build` to the end; fail with its output unless it succeeds."""
    done = subprocess.run([DOCKET, "build", *args], env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def current_build(store: Path) -> str | None:
    try:
        return os.path.basename(os.readlink(store / "current"))
    except OSError:
        return None


class Gunicorn:
    """`docket serve --no-build` (gunicorn, gthread workers) on a free port of 127.0.0.1."""

    def __init__(self, env: dict[str, str], workers: int = 2):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(Path(env["DOCKET_STORE_DIR"]).parent / f"gunicorn-{self.port}.log", "wb")
        self.process = subprocess.Popen(
            [DOCKET, "serve", "--no-build", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(f"{self.base}/oai?verb=Identify", self.process, seconds=60)

    def workers(self) -> list[int]:
        """Return the pids of the arbiter's worker processes."""
        return children(self.process.pid)

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful: workers finish, close their SPARQL workers
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return sorted(found)


NGINX_MAIN = """{user}
worker_processes 2;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/docket.conf;
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (str(p) if (p := Path("/usr/sbin/nginx")).exists() else None)


class Nginx:
    """nginx (Debian's package) with the shipped docs/nginx/docket.conf in front of ``upstream_port``.

    The config is rendered with a private prefix (cache, temp files, logs, pid) under ``prefix``, listening
    on a free port of 127.0.0.1; nginx runs in the foreground and is stopped by its pid.
    """

    def __init__(self, prefix: Path, upstream_port: int):
        binary = nginx_binary()
        if binary is None:
            pytest.skip("nginx is not installed (Debian package nginx; .ci/system-deps.sh)")
        prefix.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        conf = NGINX_CONF.read_text(encoding="utf-8")
        conf, n1 = re.subn(r"server 127\.0\.0\.1:8080\b", f"server 127.0.0.1:{upstream_port}", conf)
        conf, n2 = re.subn(r"listen 80;", f"listen 127.0.0.1:{self.port};", conf)
        conf, n3 = re.subn(r"/var/cache/nginx/docket", str(prefix / "cache"), conf)
        assert (n1, n2, n3) == (1, 1, 1), "docs/nginx/docket.conf no longer has the lines the test renders"
        (prefix / "docket.conf").write_text(conf, encoding="utf-8")
        main = prefix / "nginx.conf"
        user = "user root;" if os.geteuid() == 0 else ""  # workers must reach the private cache
        main.write_text(NGINX_MAIN.format(prefix=prefix, user=user), encoding="utf-8")
        check = subprocess.run([binary, "-t", "-p", str(prefix), "-c", str(main), "-e", str(prefix / "error.log")],
                               capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen([binary, "-p", str(prefix), "-c", str(main), "-e", str(prefix / "error.log")],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_for(f"{self.base}/oai?verb=Identify", self.process, seconds=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful shutdown
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


@dataclass
class Answer:
    status: int
    seconds: float
    headers: dict[str, str]
    body: bytes


def fetch(conn: http.client.HTTPConnection, method: str, path: str, headers: dict[str, str] | None = None,
          body: bytes | None = None) -> Answer:
    """Send one request on a kept-alive connection (redirects are not followed); time it."""
    started = time.monotonic()
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    return Answer(response.status, time.monotonic() - started,
                  {k.lower(): v for k, v in response.getheaders()}, data)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
