# Two commands for a newcomer: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install schema clean test-miniprogram miniprogram-screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/bff demo

test: $(STAMP)
	$(BIN)/pytest -q
	$(MAKE) test-miniprogram

# The mini program: tsc --noEmit, build, then jest against a real `bff demo` from .venv.
test-miniprogram: $(STAMP)
	cd miniprogram && npm ci --no-audit --no-fund && npm test

# Re-render docs/screenshots/miniprogram-*.png (headless /usr/bin/chromium).
miniprogram-screenshots: $(STAMP)
	cd miniprogram && npm ci --no-audit --no-fund && npm run screenshots

schema: $(STAMP)
	$(BIN)/bff export-schema > schema.graphql

clean:
	rm -rf $(VENV) var
