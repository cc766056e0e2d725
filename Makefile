# The two commands of the README:
#   make demo   set up, generate the synthetic demo data and build its audit packs
#   make test   set up and run the test suite (CI runs this)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DATA   ?= data/demo
OUT    ?= out/demo
PERIOD ?= 2023-03

.PHONY: demo test setup bench screenshots clean

$(BIN)/kpitools: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	$(BIN)/python -m kpitools.packs.provisioner
	touch $(BIN)/kpitools

setup: $(BIN)/kpitools

demo: setup
	$(BIN)/kpitools demo --out $(DATA)
	$(BIN)/kpitools packs $(DATA)/$(PERIOD) --out $(OUT) --workers 2

# one worker process per core; each test file stays on one worker (--dist loadfile), so
# a module's shared fixtures (a built period of packs) are built once; files are handed
# out in collection order, slow ones first (tests/conftest.py), not by number of tests.
# Bytecode is cached (in the ignored __pycache__ folders) even where the environment says
# PYTHONDONTWRITEBYTECODE: without it each xdist worker parses and rewrites the asserts
# of every test module again at each run (~2 s of CPU a worker before its first test),
# and every process the run starts (pool workers, kernels) compiles kpitools again
test: setup
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -n auto --dist loadfile --no-loadscope-reorder

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
