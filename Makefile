# tinynet: `make lab` starts the course, `make test` runs every test,
# `make present` shows the slider panels as an app for projecting in class,
# `make exercises` / `make lab-exercises` build and open the exercise edition,
# `make grade SUBMISSIONS=folder` autogrades students' notebooks (nbgrader).
# Each creates the virtual environment in .venv and installs what it needs.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg
PORT   ?= 8866
PRESENT_NOTEBOOK := notebooks/instructor/present.ipynb
PRESENT_CONFIG   := notebooks/instructor

# TinyNet multiplies small matrices, where BLAS threads buy nothing; on a
# busy 2-core machine they made a 0.3 s retrain take up to 19 s (threads
# waiting for each other). One thread keeps the sliders fast.
lab lab-exercises present test check unit nbval browser notebooks exercises grade: export OPENBLAS_NUM_THREADS = 1

# The notebooks under nbval read the multi-seed studies of notebooks 08-13 from
# the cache that grading fills (tinynet/cache.py: keyed by the package's files,
# so an edit recomputes); the first run stores them. The unit tests always
# compute (tests/conftest.py). Tests spread over the cores: nbval and the
# grading test keep a module on one worker (--dist loadscope).
test check unit nbval: export TINYNET_CACHE_DIR = $(CURDIR)/build/study-cache
XDIST := -n auto --dist loadscope

.PHONY: help setup lab lab-exercises present test check unit lint nbval browser chromium sandbox \
        notebooks exercises grade figures bench clean

help:
	@echo "make lab      start JupyterLab on the course notebooks (sets up .venv first)"
	@echo "make present  serve the slider panels on http://127.0.0.1:$(PORT) (Voila; opens no browser; closed pages free their kernel after 2 min)"
	@echo "make lab-exercises  the exercise edition in JupyterLab: you write the layers (builds it first)"
	@echo "make check    a student-sized check: unit tests and notebook checks (no browser, no grading)"
	@echo "make test     run every test: ruff, unit, notebooks, grading and browser tests"
	@echo "make lint     check the code with ruff (style, errors, import order, bugbear)"
	@echo "make exercises  build the exercise edition with nbgrader into exercises/"
	@echo "make grade SUBMISSIONS=dir  grade dir/<student>/*.ipynb, each student in a sandbox, into build/grades/ (JOBS=n)"
	@echo "make browser  run only the browser tests (JupyterLab and Voila in headless Chromium)"
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

# JupyterLab refuses to run as root unless told (containers, cloud sandboxes).
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# The exercise edition: nbgrader turns the complete notebooks into exercises
# (solutions become stubs, outputs are cleared). Your copy in exercises/ is
# never overwritten by a rebuild.
exercises: $(STAMP)
	timeout 600 $(BIN)/python tools/course.py exercises

lab-exercises: exercises
	$(BIN)/jupyter lab --notebook-dir=exercises $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# Autograde a folder with one subfolder per student: build/grades/grades.csv
# and HTML feedback per student.
# JOBS students at once (default: one per core); UNSANDBOXED=1 grades without
# bubblewrap (unsafe: student code then runs with your rights).
grade: $(STAMP) $(if $(UNSANDBOXED),,sandbox)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=<folder with one subfolder per student>"; exit 2; }
	$(BIN)/python tools/course.py grade "$(SUBMISSIONS)" $(if $(OUT),--out "$(OUT)") \
	  $(if $(JOBS),--jobs $(JOBS)) $(if $(UNSANDBOXED),--unsandboxed)

# Grading runs each student in a bubblewrap sandbox: Debian's package when we
# are root; otherwise say how to get it (make grade then stops with the same advice).
sandbox:
	@if command -v bwrap >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian's bubblewrap for grading in a sandbox"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; \
	else \
	  echo "make grade needs bubblewrap: sudo apt-get install bubblewrap (Debian, Ubuntu)," \
	       "sudo dnf install bubblewrap (Fedora), or run make grade UNSANDBOXED=1 (unsafe)"; \
	fi

# For projecting in class: the instructor notebook's panels, without code,
# on this machine only; open the printed address yourself (no browser is
# started). Kernels of closed or reloaded pages are culled after two minutes
# (notebooks/instructor/voila.py). Stop with Ctrl+C.
present: $(STAMP)
	@echo "make present: open http://127.0.0.1:$(PORT)/ in a browser (Ctrl+C stops the server)"
	$(BIN)/voila $(PRESENT_NOTEBOOK) --no-browser --Voila.ip=127.0.0.1 --port=$(PORT) \
	  --Voila.config_file_paths=$(PRESENT_CONFIG) --theme=light $(VOILA_FLAGS)

unit: $(STAMP)
	$(BIN)/python -m pytest $(XDIST) tests --ignore=tests/browser

# What a student runs to see that the installation works: the unit tests and
# the notebooks, without the browser and grading tests (no Chromium needed).
check: $(STAMP)
	timeout 1800 $(BIN)/python -m pytest $(XDIST) tests notebooks $(NBVAL) --ignore=tests/browser \
	  --ignore=tests/test_grading.py --ignore=tests/test_sandbox.py

nbval: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) notebooks

# The browser tests need Chromium: Debian's package when we are root,
# otherwise Playwright's own download.
chromium: $(STAMP)
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
	  $(BIN)/python -m playwright install chromium; \
	fi

browser: $(STAMP) chromium
	timeout 600 $(BIN)/python -m pytest tests/browser

# ruff's rules are in pyproject.toml ([tool.ruff]).
lint: $(STAMP)
	$(BIN)/ruff check .

# ruff first, then the unit tests, the notebooks (outputs compared, strict), a
# class graded in sandboxes (tests/test_grading.py), and the browser tests, in
# one pytest run over the cores.
test: $(STAMP) chromium sandbox
	$(BIN)/ruff check .
	timeout 3000 $(BIN)/python -m pytest $(XDIST) tests notebooks $(NBVAL)

notebooks: $(STAMP)
	timeout 1200 $(BIN)/python tools/execute_notebooks.py notebooks/[0-9][0-9]_*.ipynb notebooks/instructor/*.ipynb

figures: $(STAMP)
	$(BIN)/python -m tinynet.figures figures

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_train_one_iter.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
	@echo "exercises/ (your work on the exercise edition) is kept"
