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

reproduce: tools $(STAMP)
	$(BIN)/python benchmarks/reproduce.py

# Program traces (archsim.traces.program_set): gcc and valgrind for the native lackey memory traces, the
# bare-metal RISC-V cross compiler for the RV64IM builds; apt-get installs only what is missing (sudo only
# when not root).
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
TOOLS_PKGS := gcc:gcc nm:binutils valgrind:valgrind riscv64-unknown-elf-gcc:gcc-riscv64-unknown-elf

.PHONY: tools traces
tools:
	@missing="$$(for p in $(TOOLS_PKGS); do command -v $${p%%:*} >/dev/null 2>&1 || echo $${p#*:}; done)"; \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	else echo "tools present: gcc, nm, valgrind, riscv64-unknown-elf-gcc"; fi

traces: tools $(STAMP)
	$(BIN)/python benchmarks/make_traces.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache
