# OpenHotline: `make run` runs the platform with the demo world; `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# python3.12 straight from PATH on a user's machine; pyenv's 3.12 on the build machines.
PYTHON ?= $(shell command -v python3.12 >/dev/null 2>&1 && python3.12 -c 'import sys' 2>/dev/null && echo python3.12 || echo "env PYENV_VERSION=3.12.1 python3.12")
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/openhotline
export OPENHOTLINE_VAR_DIR ?= $(CURDIR)/var

.PHONY: help run test lint check bench chromium clean

help:
	@echo "make run    - run OpenHotline with the demo world (SQLite, web server, worker, simnet)"
	@echo "make test   - lint, types, migrations check, tests on SQLite and on PostgreSQL"
	@echo "make lint   - ruff, mypy, the layers contract (lint-imports), no imports hidden in functions"
	@echo "make bench  - benchmarks (bench/)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# Debian's Chromium for the browser tests; Playwright drives it, never downloads one.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium >/dev/null; \
	fi

run: $(STAMP)
	$(BIN)/openhotline run-demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy openhotline tests scripts $(wildcard bench/*.py)
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_local_imports.py

check: $(STAMP)
	$(BIN)/python scripts/check_config.py

test: $(STAMP) chromium lint
	$(BIN)/python scripts/check_config.py
	$(BIN)/python -m pytest -q
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || $(BIN)/python scripts/pg_ready.py "$(PG_URL)"; then \
	  echo "== tests again on PostgreSQL ($(PG_URL))"; \
	  DATABASE_URL="$(PG_URL)" $(BIN)/python -m pytest -q; \
	elif [ -n "$$OPENHOTLINE_REQUIRE_POSTGRES" ]; then \
	  echo "PostgreSQL is required (OPENHOTLINE_REQUIRE_POSTGRES) but not reachable at $(PG_URL)"; exit 1; \
	else \
	  echo "== SKIPPED the PostgreSQL pass: no server at $(PG_URL)"; \
	fi

bench: $(STAMP)
	$(BIN)/python bench/intake_bench.py
	$(BIN)/python bench/inbox_bench.py
	$(BIN)/python bench/capture_bench.py
	$(BIN)/python bench/assessment_bench.py
	$(BIN)/python bench/takedown_bench.py
	-$(BIN)/python bench/hash_bench.py
	-$(BIN)/python bench/import_bench.py
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	-$(BIN)/python bench/pdq_index_bench.py
	-$(BIN)/python bench/feeds_bench.py
	-$(BIN)/python bench/match_bench.py

clean:
	rm -rf $(VENV) var/test
