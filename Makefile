# Two commands set everything up on a fresh machine: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# npm (optional): the SPARQL editor for the query page, and the JavaScript clients the tests drive.
# Without npm both are skipped with a message: the query page keeps its plain form, those tests skip.
ASSETS     := src/docket/serve/assets
VENDOR     := src/docket/serve/static/vendor
YASGUI     := $(ASSETS)/node_modules/@zazuko/yasgui/build
JS_CLIENTS := tests/js

.PHONY: serve test ingest bench clean assets js-clients

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# A slow registry must not hold up the tests: past this many seconds an npm install gives up, and what
# needs it skips (the tests) or falls back (the query page's plain form).
NPM_TIMEOUT ?= 900

# YASGUI for /sparql, installed from the lock file and copied beside the site's own static files.
$(VENDOR)/.installed: $(ASSETS)/package.json $(ASSETS)/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
	    echo "assets: npm not found; the SPARQL query page keeps its plain form (no editor)" >&2; \
	elif (cd $(ASSETS) && timeout $(NPM_TIMEOUT) npm ci --no-audit --no-fund --loglevel=error) \
	    && mkdir -p $(VENDOR) && cp $(YASGUI)/yasgui.min.js $(YASGUI)/yasgui.min.css $(VENDOR)/; then \
	    touch $@; \
	else \
	    echo "assets: npm ci failed; the SPARQL query page keeps its plain form (no editor)" >&2; \
	fi

assets: $(VENDOR)/.installed

# Comunica for tests/test_comunica.py.
$(JS_CLIENTS)/node_modules/.installed: $(JS_CLIENTS)/package.json $(JS_CLIENTS)/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
	    echo "js-clients: npm not found; the Comunica tests will skip" >&2; \
	elif (cd $(JS_CLIENTS) && timeout $(NPM_TIMEOUT) npm ci --no-audit --no-fund --loglevel=error); then \
	    touch $@; \
	else \
	    rm -rf $(JS_CLIENTS)/node_modules; \
	    echo "js-clients: npm ci failed or timed out; the Comunica tests will skip" >&2; \
	fi

js-clients: $(JS_CLIENTS)/node_modules/.installed

serve: $(STAMP) assets
	$(BIN)/docket serve

test: $(STAMP) assets js-clients
	bash .ci/system-deps.sh
	$(BIN)/python -m pytest

ingest: $(STAMP)
	$(BIN)/docket ingest data/records

# The benchmarks at 10,000 synthetic records; RECORDS=100000 (or 1000000) for the larger runs. The
# interface tour walks the store the serving benchmark built, kept under BENCH_KEEP until then.
RECORDS ?= 10000
BENCH_KEEP ?= var/bench
bench: $(STAMP)
	$(BIN)/python -m bench ingest --records $(RECORDS)
	rm -rf $(BENCH_KEEP)
	$(BIN)/python -m bench serving --records $(RECORDS) --keep $(BENCH_KEEP)
	$(BIN)/python -m bench tour --store "$$(ls -d $(BENCH_KEEP)/docket-serving-*/store)"
	rm -rf $(BENCH_KEEP)

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis $(ASSETS)/node_modules $(VENDOR) $(JS_CLIENTS)/node_modules
