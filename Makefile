# Two commands for a newcomer: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install schema clean

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

schema: $(STAMP)
	$(BIN)/bff export-schema > schema.graphql

clean:
	rm -rf $(VENV) var
