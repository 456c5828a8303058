# Quick start: `make run` builds the warehouse from data/sample/, `make test` runs the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format sample dev bench clean
EVENTS ?= 1000000
FORMAT ?= jsonl.gz

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/funnel run

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Regenerate the committed sample (deterministic: same seed, same bytes).
sample: $(STAMP)
	rm -rf data/sample
	$(BIN)/funnel generate --customers 2000 --days 90 --seed 42 --out data/sample

# The Dagster UI with the whole asset graph, schedule and sensor.
dev: $(STAMP)
	mkdir -p .dagster_home
	DAGSTER_HOME=$(CURDIR)/.dagster_home $(BIN)/dagster dev -w workspace.yaml

# Side-by-side benchmark (not part of the tests): make bench EVENTS=10000000 [FORMAT=parquet]
# [MEMORY=700MB] [PART_ROWS=1000000] (override funnel.yaml's warehouse settings for the job)
bench: $(STAMP)
	$(BIN)/python -m bench.harness --events $(EVENTS) --format $(FORMAT) \
		$(if $(MEMORY),--memory-limit $(MEMORY)) $(if $(PART_ROWS),--part-rows $(PART_ROWS))

clean:
	rm -rf $(VENV) data/warehouse .dagster_home
