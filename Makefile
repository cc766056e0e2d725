# The two commands of the README:
#   make demo   set up, generate the synthetic demo data and build its audit packs
#   make test   set up and run the test suite (CI runs this)
# and for whoever changes the dependencies (docs/development.md):
#   make lock         compile requirements/dev.lock and requirements/floors.lock again
#   make test-floors  run the suite on the lowest versions pyproject.toml allows
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DATA   ?= data/demo
OUT    ?= out/demo
PERIOD ?= 2023-03
PERIODS ?= 2023-01 2023-02 2023-03
# the floors are tried on the lowest Python that pyproject.toml allows
FLOORS_PYTHON ?= python3.11
FLOORS ?= .venv-floors
# `make lock` keeps every pin that still satisfies pyproject.toml; LOCK_FLAGS=--upgrade
# moves all to their newest releases, LOCK_FLAGS="--upgrade-package lxml" one of them
LOCK_FLAGS ?=

.PHONY: demo test setup lock test-floors bench screenshots clean

# A virtual environment holding exactly a lock file (every package pinned and hashed),
# then kpitools itself, editable, without resolving anything: $(call install,VENV,PYTHON,LOCK).
# The environment is made anew (--clear) so that nothing from an older lock stays in it.
define install
	$(2) -m venv --clear $(1)
	@# an egg-info left in the checkout by an older install shadows the new metadata (its
	@# entry points: the kernel provisioner) for any python started here
	rm -rf kpitools.egg-info
	$(1)/bin/python -m pip install --quiet --require-hashes -r $(3)
	$(1)/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(1)/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	$(1)/bin/python -m kpitools.run.provisioner
	touch $(1)/bin/kpitools
endef

$(BIN)/kpitools: pyproject.toml requirements/dev.lock
	$(call install,$(VENV),$(PYTHON),requirements/dev.lock)

setup: $(BIN)/kpitools

# the months in order into one OUT, as an auditor builds them: each month's registers
# carry the follow-up of the month before, and the audit store (OUT/kpitools.duckdb)
# records every run; the log shows them
demo: setup
	$(BIN)/kpitools demo --out $(DATA)
	for period in $(PERIODS); do \
		$(BIN)/kpitools packs $(DATA)/$$period --out $(OUT) --workers 2 || exit $$?; \
	done
	$(BIN)/kpitools log $(OUT)
	@echo "Open $(OUT)/$(PERIOD)/index.html"

# one worker process per core; each test file stays on one worker (--dist loadfile), so
# a module's shared fixtures (a built period of packs) are built once; files are handed
# out in collection order, slow ones first (tests/conftest.py), not by number of tests.
# Bytecode is cached (in the ignored __pycache__ folders) even where the environment says
# PYTHONDONTWRITEBYTECODE: without it each xdist worker parses and rewrites the asserts
# of every test module again at each run (~2 s of CPU a worker before its first test),
# and every process the run starts (pool workers, kernels) compiles kpitools again
PYTEST = -m pytest -q -n auto --dist loadfile --no-loadscope-reorder

test: setup
	PYTHONDONTWRITEBYTECODE= $(BIN)/python $(PYTEST)

# The locks are compiled by uv (in the dev extra) from pyproject.toml's dependencies, the
# `dev` and `lab` extras and the build backend (installed too: `make setup` builds
# kpitools without build isolation, so nothing it installs is unpinned). dev.lock holds
# the tested set, for every platform and Python >= 3.11 (--universal); floors.lock the
# lowest version of each direct dependency (every other package at its newest), on
# Python 3.11, compiled afresh each time (--upgrade) so that no old pin survives.
LOCK_INPUTS = pyproject.toml - --extra dev --extra lab --generate-hashes --quiet
BUILD_REQUIRES = $(BIN)/python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['build-system']['requires'], sep='\\n')"

# uv from the .venv as it is: one made from an older lock will do to compile the new one
$(BIN)/uv:
	$(MAKE) setup

lock: $(BIN)/uv
	$(BUILD_REQUIRES) | UV_CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/uv pip compile \
		$(LOCK_INPUTS) --universal $(LOCK_FLAGS) -o requirements/dev.lock
	$(BUILD_REQUIRES) | UV_CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/uv pip compile \
		$(LOCK_INPUTS) --python-version 3.11 --resolution lowest-direct --upgrade \
		-o requirements/floors.lock

$(FLOORS)/bin/kpitools: pyproject.toml requirements/floors.lock
	$(call install,$(FLOORS),$(FLOORS_PYTHON),requirements/floors.lock)

test-floors: $(FLOORS)/bin/kpitools
	PYTHONDONTWRITEBYTECODE= $(FLOORS)/bin/python $(PYTEST)

# What CI checks besides the tests (.ci/run runs it after `make test`): ruff's lint and
# format, the import contracts of pyproject.toml ([tool.importlinter]) and mypy on kpitools/
# ([tool.mypy]). Every check runs, whatever the one before it said; the target fails when
# any failed and names them.
.PHONY: lint
LINTED = kpitools tests benchmarks notebooks
lint: setup
	@failed=""; \
	echo "== ruff check"; $(BIN)/ruff check $(LINTED) || failed="$$failed ruff-check"; \
	echo "== ruff format --check"; $(BIN)/ruff format --check $(LINTED) || failed="$$failed ruff-format"; \
	echo "== lint-imports"; $(BIN)/lint-imports --no-logo --no-cache || failed="$$failed lint-imports"; \
	echo "== mypy"; $(BIN)/mypy || failed="$$failed mypy"; \
	if [ -n "$$failed" ]; then echo "make lint: failed:$$failed" >&2; exit 1; fi; \
	echo "make lint: all checks passed"

bench: setup
	$(BIN)/python benchmarks/run.py

screenshots: setup
	$(BIN)/python benchmarks/screenshots.py $(OUT)/$(PERIOD)

clean:
	rm -rf $(OUT) $(DATA)
