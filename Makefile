# amurlink: the two commands of the quick start are `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS := report,web,dask,photos,test,bench,landscape
CONSTRAINTS := requirements/constraints.txt

.PHONY: install demo serve test test-all bench lint lock freeze clean

install: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[$(EXTRAS)]"
	@touch $@

demo: install
	$(BIN)/amurlink demo

# The web platform on SQLite with the demo site (users and password printed at start).
serve: install
	$(BIN)/amurlink serve --port $${PORT:-8000}

test: install
	$(BIN)/python -m pytest -n 2 -q

test-all: install
	$(BIN)/python -m pytest -n 2 -q -m "slow or not slow"

bench: install
	$(BIN)/python benchmarks/run.py

lint: install
	$(BIN)/python -m ruff check src tests

# Re-resolve the locked versions from scratch (maintainers only; needs the package index).
# `make freeze` instead pins exactly what the current .venv was tested with.
freeze:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^amurlink' | grep -v '^#' > $(CONSTRAINTS)

lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet --upgrade "pip>=24"
	.lockenv/bin/python -m pip install --quiet -e ".[$(EXTRAS)]"
	.lockenv/bin/python -m pip freeze --exclude-editable | grep -v '^amurlink' > $(CONSTRAINTS)
	rm -rf .lockenv

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis
