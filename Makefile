# The two entry points: `make demo` and `make test`. Each creates .venv and installs .[dev] when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit bench clean

# The editable install is a path in a .pth file, visible to mypy (see pyproject's package-dir).
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/structbatch demo

lint: $(STAMP)
	$(BIN)/ruff check structbatch tests examples benchmarks
	$(BIN)/ruff format --check structbatch

typecheck: $(STAMP)
	$(BIN)/mypy --strict structbatch benchmarks

unit: $(STAMP)
	$(BIN)/python -m pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build *.egg-info
