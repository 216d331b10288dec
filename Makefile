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

.PHONY: setup run test lint prepare ingest serve clean bench browser

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

test: setup browser
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m pytest -q

# Headless Chromium for the web page's tests (Debian packages; CI runs as root). Where apt
# is missing or fails, the browser tests skip and say why.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium chromium-driver >/dev/null) \
		|| echo "make browser: could not install chromium; the web UI tests will skip"; \
	else echo "make browser: no apt-get (or not root); the web UI tests will skip"; fi

lint: setup
	$(BIN)/ruff check service models index tests bench

clean:
	rm -rf $(VENV) data .models .pytest_cache
