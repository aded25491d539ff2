# Dropship Router — the commands the README promises.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-unit test-reference test-chaos test-cluster lint fmt bench asyncapi openapi console-screenshot install clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## run: create the environment, database and queues, then run every service (Ctrl-C stops all)
run: $(STAMP)
	$(BIN)/python -m shared.runner up

## test: the whole suite (unit, integration, e2e) against the local RabbitMQ and PostgreSQL (isolated
##       database and namespace); chaos and reference have their own targets
test: $(STAMP)
	$(BIN)/python -m pytest -m "not chaos and not reference and not cluster" $(PYTEST_ARGS)

## test-unit: pure logic only, no broker or database (the fast loop)
test-unit: $(STAMP)
	$(BIN)/python -m pytest -m unit $(PYTEST_ARGS)

## test-reference: cross-checks against the reference folder; DROPSHIP_REFERENCE_DIR must name it
test-reference: $(STAMP)
	@test -n "$$DROPSHIP_REFERENCE_DIR" || { echo "make test-reference: set DROPSHIP_REFERENCE_DIR to the reference folder" >&2; exit 2; }
	$(BIN)/python -m pytest -m reference $(PYTEST_ARGS)

## test-chaos: fault injection (restarts RabbitMQ and PostgreSQL under the running services)
test-chaos: $(STAMP)
	$(BIN)/python -m pytest -m chaos $(PYTEST_ARGS)

## test-cluster: two instances of every service on a three-node RabbitMQ cluster and a PostgreSQL
##               primary with a streaming replica, all started for the test (never the machine's own)
test-cluster: $(STAMP)
	$(BIN)/python -m pytest -m cluster $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bench examples shared services tests

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

## console-screenshot: the console's overview in Chromium (system in-process, some orders, a hold and a
##                     parked message) written to docs/console.png; needs RabbitMQ, PostgreSQL and chromium
console-screenshot: $(STAMP)
	$(BIN)/python -m tests.browser screenshot docs/console.png

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
