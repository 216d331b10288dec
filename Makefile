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

.PHONY: setup run test lint prepare ingest serve clean bench

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned to the CPU build that ships on this machine's disk.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

prepare: setup
	$(BIN)/vnqa models prepare

ingest: prepare
	$(BIN)/vnqa ingest seeds/

serve: setup
	$(BIN)/vnqa serve --host $(HOST) --port $(PORT)

run: ingest serve

test: setup
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check service models index tests bench

clean:
	rm -rf $(VENV) data .models .pytest_cache
