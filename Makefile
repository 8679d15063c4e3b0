# Two commands for a newcomer: `make demo` and `make test`. Everything installs into .venv
# (Python) and bff/web/web_assets/node_modules (GraphiQL's browser assets).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Test processes: the suite mostly waits on loopback sockets and child processes, so twice the
# cores of a small machine keeps both busy (`make test TEST_WORKERS=0` runs it in one process).
TEST_WORKERS ?= 4
# GraphiQL's browser assets (pinned npm packages), served by the BFF so GraphiQL works offline.
WEB_ASSETS := bff/web/web_assets
WEB_STAMP := $(WEB_ASSETS)/node_modules/.installed

.PHONY: demo test install schema clean test-miniprogram miniprogram-screenshots screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

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
