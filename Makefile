# Two entry points for a fresh machine with Python >= 3.11: `make demo` and `make test`.
# Both create .venv when it is missing and install the project from its own files.

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DB ?= demo/aidledger-demo.db
DEMO_SITE ?= demo/site

.PHONY: demo test lint fuzz bench clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "aidledger needs Python >= 3.11 (python3.11 or newer on PATH)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	@mkdir -p $(dir $(DEMO_DB))
	$(BIN)/aidledger demo --db $(DEMO_DB)
	$(BIN)/aidledger site --db $(DEMO_DB) --out $(DEMO_SITE) --on 2018-12-31

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest tests/property

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache .hypothesis
