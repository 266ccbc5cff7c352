"""The serving benchmark runs end to end at a tiny size and writes its section without touching others.

No figure is asserted (the machine is shared); only that every table is there and filled in.
"""

from __future__ import annotations

import re

import pytest

from bench import serving
from bench.page import write_section
from servers import oxigraph_binary

OTHER = "## Ingest benchmark: 10,000 synthetic records\n\nSome figures | 1 | 2 |\n"


def test_write_doc_replaces_only_its_own_section(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nIntro.\n\n" + OTHER, encoding="utf-8")
    write_section("## Serving benchmark: 50 synthetic records\n\nfirst\n", doc)
    write_section("## Serving benchmark: 9 synthetic records\n\nother size\n", doc)
    write_section("## Serving benchmark: 50 synthetic records\n\nsecond\n", doc)
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nIntro.\n")
    assert OTHER in text
    assert "second" in text and "first" not in text and "other size" in text
    assert text.count("## Serving benchmark: 50 synthetic records") == 1
    # Ingest sections first, then serving, each by size.
    assert text.index("## Ingest") < text.index("## Serving benchmark: 9 ") < text.index("## Serving benchmark: 50 ")


def test_load_counts_requests_and_errors_against_a_real_server(tmp_path):
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            status = 200 if self.path == "/ok" else 404
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"hi")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        requests = [serving.Request("/ok", "text/plain"), serving.Request("/missing", "text/plain")]
        load = serving.run_load(port, requests, clients=2, duration=30, cap=40)
    finally:
        server.shutdown()
        server.server_close()
    assert load.count == 20 and load.errors == 20 and load.statuses == {404: 20}
    assert load.rate > 0 and 0 < load.pct(50) <= load.pct(95) <= load.pct(99)


@pytest.fixture
def doc(tmp_path):
    """A benchmark page with another section on it; the run needs the bare Oxigraph server."""
    if oxigraph_binary() is None:
        pytest.skip("the `oxigraph` server program is not installed (pip install oxigraph)")
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\n" + OTHER, encoding="utf-8")
    return page


@pytest.mark.slow
def test_the_benchmark_runs_at_a_tiny_size_and_writes_its_tables(doc, capsys):
    serving.main(["--records", "50", "--clients", "1", "--duration", "0.3", "--max-requests", "20", "--rounds", "2",
                  "--cold-starts", "1", "--doc", str(doc)])
    printed = capsys.readouterr().out
    text = doc.read_text(encoding="utf-8")
    assert OTHER in text
    assert "## Serving benchmark: 50 synthetic records" in printed and printed.strip() in text
    for heading in ("### (a) Dereference a record as Turtle", "### (b) A record's HTML page (Docket only)",
                    "### (b′) OAI-PMH (Docket only)", "### (c) SPARQL query mix", "### Memory and cold start"):
        assert heading in text
    number = r"[\d,]+(?:\.\d+)?"
    # a row per client count: throughputs, a ratio, three latencies each, no errors
    rows = re.findall(rf"^\| 1 \| (?:[a-z ]+ \| )?({number}) \| ({number}) \| ({number})× \| .* \| 0 / 0 \|$",
                      text, re.M)
    assert len(rows) == 3  # dereference, the query mix repeated and all new
    assert all(float(v.replace(",", "")) > 0 for row in rows for v in row)
    docket_only = re.findall(rf"^\| 1 \| ({number}) \| [\d. /]+ \| {number}× \| 0 \|$", text, re.M)
    assert len(docket_only) == 2 and all(float(v.replace(",", "")) > 0 for v in docket_only)  # HTML, OAI-PMH
    for query in ("describe a record", "records by sender", "count per year", "date range", "2-hop join",
                  "text filter"):
        assert re.search(rf"^\| {query} \| {number} \| {number} \| {number}× \|", text, re.M), query
    assert re.search(rf"^\| peak RSS \(MB\) \| {number} \| {number} \|", text, re.M)
    for role in ("request worker \\(gunicorn\\)", "SPARQL query worker"):  # Docket's processes by what they do
        found = re.search(rf"^\| largest {role}, peak RSS \(MB\) \| ({number}) \| – \| – \|$", text, re.M)
        assert found and float(found.group(1).replace(",", "")) > 20, role
    assert re.search(r"^\| cold start to first dereference \(s\) \| \d+\.\d+ \| \d+\.\d+ \|", text, re.M)
    assert "AMD" in text or "Intel" in text or "cores" in text
    assert "Differences in answers" not in text  # both servers answered every SELECT alike


@pytest.mark.slow
def test_only_runs_the_named_workloads_and_leaves_the_page_alone(doc, capsys):
    serving.main(["--records", "30", "--clients", "1", "--duration", "0.3", "--max-requests", "10", "--rounds", "1",
                  "--cold-starts", "1", "--doc", str(doc), "--only", "sparql-fresh"])
    printed = capsys.readouterr().out
    assert doc.read_text(encoding="utf-8") == "# Benchmarks\n\n" + OTHER  # a partial run never replaces a full one
    number = r"[\d,]+(?:\.\d+)?"
    assert re.search(rf"^\| 1 \| all new \| {number} \| {number} \| {number}× \|", printed, re.M)
    assert not re.search(r"^\| 1 \| repeated \|", printed, re.M)
    assert not re.search(r"^\| 1 \| [\d,]+ \| [\d,]+ \| [\d.]+× \| [\d. /]+ \| [\d. /]+ \| 0 / 0 \|$", printed, re.M)
    assert not re.search(r"^\| count per year \|", printed, re.M)


def test_only_refuses_a_workload_it_does_not_know(capsys):
    with pytest.raises(SystemExit) as exc:
        serving.main(["--only", "sparql,dereferencing"])
    assert exc.value.code == 2
    assert "unknown workload dereferencing" in capsys.readouterr().err


@pytest.mark.slow
def test_the_interface_tour_visits_every_interface_and_writes_its_table(tmp_path, capsys):
    from bench import tour

    port = serving.free_port()
    store = serving.build_store(tmp_path, 60, f"http://127.0.0.1:{port}/")
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n" + OTHER, encoding="utf-8")
    tour.main(["--store", str(store), "--workers", "1", "--repeats", "1", "--doc", str(doc)])
    text = doc.read_text(encoding="utf-8")
    assert OTHER in text and "## Interface tour: 60 synthetic records" in text
    assert text.index("## Ingest") < text.index("## Interface tour")
    rows = re.findall(r"^\| ([^|]+) \| (\d+) \| ([\d,]+) \| ([\d,]+) \| ([\d,.]+) \| ([\d,]+) \| ([\d,]+) \|$", text, re.M)
    assert len(rows) == len(tour.steps_for(store, f"http://127.0.0.1:{port}/"))
    assert {row[1] for row in rows} == {"200"}, [row[:2] for row in rows if row[1] != "200"]
    assert all(int(row[2].replace(",", "")) > 0 and int(row[5].replace(",", "")) > 0 for row in rows)
    assert "Every step answered 200." in text
