"""Faults against a real gunicorn server: killed builds, a killed worker, a full or unwritable disk.

Whatever happens to a build, what is served stays exactly what it was, and the next build works;
a worker killed mid-request is replaced by gunicorn while the other worker keeps answering.
"""

from __future__ import annotations

import errno
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from production_helpers import (DOCKET, EXAMPLE_ID, SEED_ID, Gunicorn, build, children, current_build, docket_env,
                                make_records)

pytestmark = pytest.mark.slow

KILLS = 20
COUNT = quote("PREFIX rico: <https://www.ica.org/standards/RiC/ontology#> "
              "SELECT (COUNT(?r) AS ?n) WHERE { ?r a rico:Record }")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    make_records(root, synthetic=20)
    env = docket_env(root, sparql_timeout=10)
    build(env)
    server = Gunicorn(env, workers=2)
    try:
        yield {"root": root, "env": env, "store": root / "store", "server": server}
    finally:
        server.stop()


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def served(port: int) -> dict[str, object]:
    """Return what the server publishes, in a form two builds of the same records agree on."""
    found: dict[str, object] = {}
    for name, path in [("seed", f"/doc/record/{SEED_ID}.nt"), ("example", f"/doc/record/{EXAMPLE_ID}.nt"),
                       ("count", f"/sparql?query={COUNT}"), ("search", "/api/search?q=telegram"),
                       ("oai", "/oai?verb=ListIdentifiers&metadataPrefix=oai_dc")]:
        status, headers, body = get(port, path)
        assert status == 200, (path, status, body[:300])
        if name == "count":
            body = json.loads(body)["results"]["bindings"][0]["n"]["value"].encode()
        elif name == "search":
            body = str(json.loads(body)["total"]).encode()
        elif name == "oai":  # identifiers and datestamps, not the response's own date
            body = b"".join(sorted(line for line in body.split(b"<") if line.startswith((b"identifier", b"datestamp"))))
        found[name] = sorted(body.splitlines())
    return found


def complete(store: Path) -> bool:
    target = store / "current"
    return target.is_symlink() and (target.resolve() / "manifest.json").is_file()


def test_kill_9_of_a_build_at_random_points_changes_nothing_served(stack):
    env, store, port = stack["env"], stack["store"], stack["server"].port
    builds = store / "builds"
    # One full build, timed: when its folder appears (the writing starts) and when it ends.
    started = time.monotonic()
    known = set(builds.iterdir())
    process = subprocess.Popen([DOCKET, "build", "--full"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    folder_at = None
    while process.poll() is None:
        if folder_at is None and set(builds.iterdir()) - known:
            folder_at = time.monotonic() - started
        time.sleep(0.02)
    total = time.monotonic() - started
    assert process.returncode == 0 and folder_at is not None
    before = served(port)

    rng = random.Random(20261126)
    mid_write = 0
    for attempt in range(KILLS):
        live = current_build(store)
        known = set(builds.iterdir())
        process = subprocess.Popen([DOCKET, "build", "--full"], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        if rng.random() < 0.2:  # before the build has a folder
            time.sleep(rng.uniform(0, folder_at))
        else:
            # Aimed from the moment its folder appears, not from its start: how long a build takes to
            # get there varies with what else the machine runs, and would aim the kills past its end.
            while process.poll() is None and not set(builds.iterdir()) - known:
                time.sleep(0.005)
            time.sleep(rng.uniform(0, (total - folder_at) * 1.05))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the build and any validation workers it started
        process.wait(timeout=30)
        unfinished = [b for b in builds.iterdir() if not (b / "manifest.json").exists()]
        mid_write += bool(unfinished)
        assert complete(store), f"kill {attempt}: current does not point at a complete build"
        # Killed after its switch (while cleaning up or reporting), a build is published whole: that is fine.
        if current_build(store) != live:
            assert (builds / current_build(store) / "manifest.json").is_file()
        assert served(port) == before, f"kill {attempt} (after {process.returncode}): the served data changed"
    assert mid_write >= KILLS // 2, f"only {mid_write} of {KILLS} kills landed while a build was being written"

    # The next build cleans up after the killed ones and publishes.
    build(env)
    assert complete(store) and served(port) == before
    leftovers = {b.name for b in builds.iterdir()} - {current_build(store), os.path.basename(
        os.readlink(store / "previous"))}
    assert not leftovers, leftovers


def test_kill_9_of_a_worker_is_replaced_and_others_unaffected(stack):
    server = stack["server"]
    workers = server.workers()
    assert len(workers) == 2
    victim = workers[0]
    results: list[tuple[float, bool]] = []
    lock = threading.Lock()
    stop = time.monotonic() + 10
    clients = 4

    def client(n: int) -> None:
        rng = random.Random(n)
        while time.monotonic() < stop:
            path = rng.choice([f"/doc/record/{SEED_ID}.nt?n={rng.random()}", f"/sparql?query={COUNT}",
                               "/api/search?q=harbour", "/oai?verb=Identify"])
            try:
                status = get(server.port, path)[0]
                ok = status == 200 or (status == 429 and "sparql" in path)  # the per-client query limit
            except (OSError, http.client.HTTPException):
                ok = False
            with lock:
                results.append((time.monotonic(), ok))

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(3)
    helpers = children(victim)  # its SPARQL query workers, if it has started them
    killed_at = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    for thread in threads:
        thread.join(timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (len(server.workers()) != 2 or victim in server.workers()):
        time.sleep(0.1)
    assert len(server.workers()) == 2 and victim not in server.workers(), "gunicorn did not replace the worker"

    failed = [t - killed_at for t, ok in results if not ok]
    print(f"{len(results)} requests, failed at {failed} s from the kill; victim had {len(helpers)} query workers")
    # Only what the victim was answering at that moment may fail: one request per client at most.
    assert len(failed) <= clients and all(-0.5 < t < 2 for t in failed), failed
    assert sum(ok for t, ok in results if t > killed_at + 2) > 10, "few answers after the kill"
    assert sum(ok for t, ok in results if t < killed_at) > 10
    for _ in range(10):  # both workers, the new one included, answer
        assert get(server.port, f"/doc/record/{EXAMPLE_ID}.ttl?n={random.random()}")[0] == 200
    # The dead worker's query processes notice and leave.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in helpers):
        time.sleep(0.2)
    assert not [pid for pid in helpers if Path(f"/proc/{pid}/status").exists()
                and "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()], "SPARQL workers outlived their server"


# A build that cannot write: the disk fills up while the build writes its files, or the builds folder
# refuses a new build. (Running as root, chmod would not stop it, so the failure is injected where
# the operating system would raise it.)
FAILING_BUILD = """
import errno, os, pathlib, sys
builds = pathlib.Path(os.environ["DOCKET_STORE_DIR"]).resolve() / "builds"
if sys.argv[1] == "disk-full":
    real = pathlib.Path.write_text
    def write_text(self, *args, **kwargs):
        if builds in self.resolve().parents:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, *args, **kwargs)
    pathlib.Path.write_text = write_text
else:
    real = pathlib.Path.mkdir
    def mkdir(self, *args, **kwargs):
        if self.resolve().parent == builds:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real(self, *args, **kwargs)
    pathlib.Path.mkdir = mkdir
from docket.cli import main
sys.argv = ["docket", "build", "--full"]
main()
"""


@pytest.mark.parametrize("fault, message", [("disk-full", "No space left on device"),
                                            ("unwritable", "Permission denied")])
def test_a_build_that_cannot_write_fails_clearly_and_the_current_build_stays(stack, fault, message):
    env, store, port = stack["env"], stack["store"], stack["server"].port
    live = current_build(store)
    folders = {b.name for b in (store / "builds").iterdir()}
    before = served(port)
    done = subprocess.run([sys.executable, "-c", FAILING_BUILD, fault], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]  # nothing published (1 would mean records held back)
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("Error: the build could not be written under") and message in error, error
    assert str(store / "builds") in error and "the current build is still published" in error
    assert current_build(store) == live
    assert {b.name for b in (store / "builds").iterdir()} == folders, "the unfinished build was left behind"
    assert served(port) == before
    status, headers, _ = get(port, f"/doc/record/{SEED_ID}.nt")
    assert status == 200 and headers["x-docket-build"] == live
