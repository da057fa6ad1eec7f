# klant — run `make help` for the targets.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-klant
SIZE ?= 100k
TEST_WORKERS ?= 2

export DAGSTER_HOME := $(CURDIR)/.dagster_home
export DBT_PROFILES_DIR := $(CURDIR)/dbt_project

.DEFAULT_GOAL := help
.PHONY: help install demo test lint format ui samples bench clean

help: ## Show the targets with what they do
	@grep -E '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp orchestration/dagster.yaml $@

install: $(STAMP) $(DAGSTER_HOME)/dagster.yaml ## Create .venv and install klant with its dev tools

demo: install ## Load the sample exports, run the full Dagster job on DuckDB, publish, show how to query
	$(BIN)/klant demo

test: install ## Run the test suite (PostgreSQL tests skip without a server unless KLANT_REQUIRE_POSTGRES=1)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

lint: install ## ruff (lint + format check) on the Python code
	$(BIN)/ruff check orchestration expectations tests
	$(BIN)/ruff format --check orchestration expectations tests

format: install ## Format the Python code with ruff
	$(BIN)/ruff format orchestration expectations tests
	$(BIN)/ruff check --fix orchestration expectations tests

ui: install ## Open the Dagster UI (lineage, runs, checks) at http://127.0.0.1:3000
	$(BIN)/dagster dev -m klant.definitions -h 127.0.0.1 -p 3000

samples: install ## Regenerate the sample exports in seeds/ (deterministic: same bytes every time)
	$(BIN)/python -m klant.sampledata --people 2000 --out seeds

bench: install ## Benchmark the full job at SIZE people (default 100k; 10k, 300k, 1m): bench/results/<SIZE>.md
	$(BIN)/python -m bench.run --size $(SIZE)

clean: ## Remove the warehouse, Dagster state and dbt output (keeps .venv)
	rm -rf warehouse .dagster_home dbt_project/target dbt_project/logs
