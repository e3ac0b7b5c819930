# The two commands: `make run` serves the relay with demo data; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run demo drills test test-fast lint typecheck pytest bench fuzz clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

run: install
	mkdir -p var
	$(BIN)/meldkamer migrate
	$(BIN)/meldkamer seed-demo --out var/demo-credentials.json
	$(BIN)/meldkamer seed-history --days 60 --once
	@echo ""
	@echo "Meldkamer relay on http://$(HOST):$(PORT)"
	@echo "  videowall:          http://$(HOST):$(PORT)/wall"
	@echo "  console (centralist): http://$(HOST):$(PORT)/ops"
	@echo "  beheerdersportaal:  http://$(HOST):$(PORT)/beheerder"
	@echo "  cijfers (evaluatie): http://$(HOST):$(PORT)/stats"
	@echo "  API docs:           http://$(HOST):$(PORT)/docs  (OpenAPI: /openapi.json)"
	@echo "  demo credentials:   var/demo-credentials.json"
	@echo ""
	$(BIN)/meldkamer serve --host $(HOST) --port $(PORT)

# `make run` with life in it: the simulator (`meldkamer simulate`) sends reports over REST, signed WhatsApp
# and partner webhooks, operators claim and close, beheerders pass alerts on. The webhook secrets below are
# for this local demo only. Ctrl-C stops both.
DEMO_RATE ?= 0.3
DEMO_ENV := MELDKAMER_WHATSAPP_APP_SECRET=demo-whatsapp-secret MELDKAMER_PARTNER_SECRETS='{"waaksamen": "demo-partner-secret"}'
demo: install
	mkdir -p var
	$(BIN)/meldkamer migrate
	$(BIN)/meldkamer seed-demo --out var/demo-credentials.json
	$(BIN)/meldkamer seed-history --days 60 --once
	@echo ""
	@echo "Meldkamer relay with simulated traffic on http://$(HOST):$(PORT)  (wall: /wall, console: /ops)"
	@echo "  demo credentials: var/demo-credentials.json"
	@echo ""
	$(DEMO_ENV) $(BIN)/meldkamer serve --host $(HOST) --port $(PORT) & server=$$!; \
	trap 'kill $$server' EXIT INT TERM; \
	$(DEMO_ENV) $(BIN)/meldkamer simulate --target http://$(HOST):$(PORT) --rate $(DEMO_RATE) --duration 0 --burst

lint: install
	$(BIN)/ruff check app tests bench

typecheck: install
	$(BIN)/mypy

# The browser tests drive Debian's Chromium (never a downloaded one); installed only when missing.
.PHONY: browser-deps
browser-deps:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

# Runs every test on SQLite and on a throwaway PostgreSQL server that the suite starts and stops, spread over
# TEST_WORKERS pytest-xdist processes (each with its own PostgreSQL server); TEST_WORKERS=0 runs one process.
# loadfile keeps the tests of a file on one worker: a browser module shares its server and Chromium.
# Timings: docs/performance.md, "Test suite".
TEST_WORKERS ?= 2
pytest: install browser-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test: lint typecheck pytest

# The inner loop: ruff, mypy and the tests on SQLite only, without the browser; `make test` stays the whole
# suite. WORKERS=2 spreads the tests over two pytest-xdist processes: faster only with cores to spare.
WORKERS ?= 0
test-fast: lint typecheck
	MELDKAMER_TEST_POSTGRES=skip $(BIN)/python -m pytest -m "not browser" -n $(WORKERS)

# The fault drills only (database outage, SIGKILL under load): docs/performance.md, "Fault drills".
drills: install
	$(BIN)/python -m pytest -m drill -p no:cacheprovider

# Every benchmark; the figures go to bench/results/latest.json. BENCH_ARGS=--quick for a shortened run.
BENCH_ARGS ?=
bench: install
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

# Schemathesis (all checks, all phases) over every operation as beheerder and as admin, on a fresh SQLite
# database and on a throwaway PostgreSQL server. Fails on a server error or an answer the OpenAPI document
# does not declare. Figures: docs/security.md.
FUZZ_EXAMPLES ?= 25
fuzz: install
	$(BIN)/python -m tests.support.fuzz --examples $(FUZZ_EXAMPLES)
	$(BIN)/python -m tests.support.fuzz --examples $(FUZZ_EXAMPLES) --postgres

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
