# Two commands for a newcomer: `make demo` and `make test`. Everything installs into .venv
# (Python) and bff/web/web_assets/node_modules (GraphiQL's browser assets).
PYTHON ?= python3
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Test processes: the suite mostly waits on loopback sockets and child processes, so twice the
# cores of a small machine keeps both busy (`make test TEST_WORKERS=0` runs it in one process).
TEST_WORKERS ?= 4
# GraphiQL's browser assets (pinned npm packages), served by the BFF so GraphiQL works offline.
WEB_ASSETS := bff/web/web_assets
WEB_STAMP := $(WEB_ASSETS)/node_modules/.installed

# The locks: every distribution pinned with its hashes (requirements.lock: what the image runs;
# requirements-dev.lock: that plus the tools and test libraries, at the same versions).
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" --quiet

.PHONY: demo test install schema clean test-miniprogram miniprogram-screenshots screenshots lock lock-check

$(STAMP): pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# After a change to the dependencies in pyproject.toml: re-resolve, keeping every pin that still
# fits. `make lock LOCK_UPGRADE=--upgrade` moves everything to the newest releases that fit.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) $(LOCK_UPGRADE) -o requirements-dev.lock
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -c requirements-dev.lock -o requirements.lock

# CI: the committed locks are what `make lock` would write now (pins compared, not the hash
# lists, which grow when a project uploads a wheel for a new platform later).
lock-check: $(STAMP)
	@tmp=$$(mktemp -d) && cp requirements.lock requirements-dev.lock $$tmp/ && \
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) -o $$tmp/requirements-dev.lock && \
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -c $$tmp/requirements-dev.lock -o $$tmp/requirements.lock && \
	for lock in requirements.lock requirements-dev.lock; do \
		diff <(grep -E '^[A-Za-z0-9]' $$lock) <(grep -E '^[A-Za-z0-9]' $$tmp/$$lock) \
			|| { echo "make: $$lock is stale: run make lock" >&2; rm -rf $$tmp; exit 1; }; \
	done; rm -rf $$tmp; echo "locks match pyproject.toml"

# Without npm the BFF still serves GraphiQL, its assets from unpkg.com (online only).
$(WEB_STAMP): $(WEB_ASSETS)/package-lock.json
	@if command -v npm >/dev/null; then \
		cd $(WEB_ASSETS) && npm ci && touch node_modules/.installed; \
	else \
		echo "make: npm not found: GraphiQL will load its assets from unpkg.com" >&2; \
	fi

install: $(STAMP) $(WEB_STAMP)

demo: install
	$(BIN)/bff demo

test: install
	$(BIN)/lint-imports
	$(BIN)/ruff check
	$(BIN)/mypy
	@# Bytecode once for the test processes and the BFF processes they start (the environment
	@# may set PYTHONDONTWRITEBYTECODE, and then every process would compile the sources again).
	$(BIN)/python -m compileall -q -j 0 bff schema resolvers
	@# The mini program's suite runs whatever the Python suite's outcome; make fails if either did.
	@# (No $$(MAKE) on this line: `make -n` would then run it.)
	@status=0; \
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal || status=$$?; \
	$(MINIPROGRAM_TEST) || status=$$?; \
	if [ $$status -ne 0 ]; then echo "make test: a suite failed (exit $$status)" >&2; fi; \
	exit $$status

# The mini program: tsc --noEmit, build, then jest against a real `bff demo` from .venv.
MINIPROGRAM_TEST := (cd miniprogram && npm ci --no-audit --no-fund && npm test)
test-miniprogram: $(STAMP)
	$(MINIPROGRAM_TEST)

# Re-render every screenshot in docs/screenshots/ (headless /usr/bin/chromium); tests never write them.
screenshots: miniprogram-screenshots
	BFF_UPDATE_SCREENSHOTS=1 $(BIN)/pytest -q tests/monitor/test_monitor_dashboard.py

# Re-render docs/screenshots/miniprogram-*.png (headless /usr/bin/chromium).
miniprogram-screenshots: $(STAMP)
	cd miniprogram && npm ci --no-audit --no-fund && npm run screenshots

schema: $(STAMP)
	$(BIN)/bff export-schema > schema.graphql

clean:
	rm -rf $(VENV) var $(WEB_ASSETS)/node_modules
