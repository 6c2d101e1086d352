# The two set-up commands of rltnet (see README.md):
#   make run   - create the virtual environment if needed, then run the service with demo data
#   make test  - create the virtual environment if needed, then ruff, mypy and pytest
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/rltnet serve --demo

lint: $(INSTALLED)
	$(BIN)/ruff check src tests tools bench
	$(BIN)/mypy

test: lint
	tools/ensure_chromium.sh
	$(BIN)/pytest

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache .hypothesis
