# tinynet: `make lab` starts the course, `make test` runs every test.
# Both create the virtual environment in .venv and install what they need.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg

.PHONY: help setup lab test unit nbval notebooks figures bench clean

help:
	@echo "make lab      start JupyterLab on the course notebooks (sets up .venv first)"
	@echo "make test     run the unit tests and the notebook checks (sets up .venv first)"
	@echo "make notebooks  re-execute every notebook and save its outputs"
	@echo "make figures  redraw the course figures in figures/"
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

nbval: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) notebooks

# Unit tests and the notebooks (outputs compared, strict) in one pytest run.
test: $(STAMP)
	timeout 3000 $(BIN)/python -m pytest tests notebooks $(NBVAL)

notebooks: $(STAMP)
	timeout 1200 $(BIN)/python tools/execute_notebooks.py

figures: $(STAMP)
	$(BIN)/python -m tinynet.figures figures

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_train_one_iter.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
