# Dropship Router — the commands the README promises.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-chaos lint fmt bench asyncapi openapi install clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## run: create the environment, database and queues, then run every service (Ctrl-C stops all)
run: $(STAMP)
	$(BIN)/python -m shared.runner up

## test: the whole suite against the local RabbitMQ and PostgreSQL (isolated database and namespace)
test: $(STAMP)
	$(BIN)/python -m pytest -m "not chaos" $(PYTEST_ARGS)

test-chaos: $(STAMP)
	$(BIN)/python -m pytest -m chaos $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bench shared services tests

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: the whole system under measured load (~15 min); prints one table, writes bench/results/latest.json
##        (BENCH_ARGS=--smoke for a quick check, --profile for py-spy profiles; see docs/benchmarks.md)
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

## asyncapi: regenerate docs/asyncapi.json from the code
asyncapi: $(STAMP)
	$(BIN)/python -m shared.asyncapi > docs/asyncapi.json

## openapi: regenerate docs/openapi/<service>.json from the code (a test fails when they are stale)
openapi: $(STAMP)
	$(BIN)/python -m shared.openapi docs/openapi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
