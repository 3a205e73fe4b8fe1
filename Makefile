# hwcost: `make run` sets up and runs the main job; `make test` sets up and passes the tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# MNIST: the shared copy beside the checkout when present; otherwise the loader uses the user cache
# and then downloads from the standard mirror.
SHARED_DATA := $(abspath ../shared/datasets)
export HWCOST_DATA_DIR ?= $(if $(wildcard $(SHARED_DATA)/mnist),$(SHARED_DATA),)
# JAX's persistent compilation cache keeps repeated runs and the test suite quick.
export JAX_COMPILATION_CACHE_DIR ?= $(CURDIR)/.cache/jax
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS ?= 0

.PHONY: run test test-all reproduce lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	mkdir -p runs
	$(BIN)/hwcost train --out runs/train-lenet300-eie

# `make test` leaves out the tests marked slow (full-length reproductions; their results are committed under
# benchmarks/results/); `make test-all` runs them too.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n 2 --dist worksteal -m "not slow"

test-all: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n 2 --dist worksteal

reproduce: $(STAMP)
	$(BIN)/python benchmarks/reproduce.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache
