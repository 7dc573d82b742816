# tinynet: `make lab` starts the course, `make test` runs every test.
# Both create the virtual environment in .venv and install what they need.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: help setup lab test unit bench figures clean

help:
	@echo "make lab      start JupyterLab on the course notebooks (sets up .venv first)"
	@echo "make test     run the unit tests and the notebook checks (sets up .venv first)"
	@echo "make bench    time one training step against the loop versions"
	@echo "make clean    remove .venv and caches"

# Re-install whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

unit: $(STAMP)
	$(BIN)/python -m pytest tests

test: unit

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_train_one_iter.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
