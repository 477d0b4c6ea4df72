# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# `make run` uses DATABASE_URL / REDIS_URL when set, embedded servers (.bookings/) when not.

.PHONY: install lock run test test-slow test-all lint format audit env-example client bench bench-soak profile cluster clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The generated Python client (clients/python) too, editable, so its tests can import it
# (`make client` rewrites it in place; its own dependencies change with pyproject.toml's pin).
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev,embedded]" -e ./clients/python
	touch $@

# The production image's pinned dependencies (Dockerfile); tests/unit/test_lock.py
# fails when pyproject.toml asks for something the lock does not pin. After changing
# the dependencies: make lock.
lock: install
	$(BIN)/pip-compile --quiet --strip-extras --no-header --no-emit-index-url \
	  --no-emit-find-links --output-file requirements.lock pyproject.toml

install: $(VENV)/.installed

run: install
	BOOKINGS_ENV=$${BOOKINGS_ENV:-development} $(BIN)/bookings up --port $(PORT)

# `make test` leaves out the long suites (tests/conftest.py SLOW) to stay under two
# minutes; `make test-slow` runs only them; `make test-all` runs everything (.ci/run does).
# With the servers named (TEST_DATABASE_URL and TEST_REDIS_URL, as CI and this machine
# have them) it runs in two processes (pytest-xdist), each with its own database, Redis
# db and worker; embedded servers (a bare machine) and another broker run in one.
XDIST := $(if $(and $(TEST_DATABASE_URL),$(TEST_REDIS_URL)),$(if $(TEST_BROKER_URL),,-n 2),)
test: install
	$(BIN)/python -m pytest -m "not slow" $(XDIST) $(PYTEST_ARGS)

test-slow: install
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

test-all: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy api worker models cli celeryconfig.py
	$(BIN)/lint-imports

# pip-audit over the installed packages (.ci/audit says when nothing could be audited).
audit: install
	.ci/audit

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# clients/python (bookings_client) from the API's OpenAPI document, by openapi-python-client
# (clients/generate.py); tests/integration/test_python_client.py fails when it drifts.
client: install
	$(BIN)/python clients/generate.py

# .env.example from the settings (cli/env_example.py); a unit test fails when it drifts.
env-example: install
	$(BIN)/python -m cli.env_example

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# BENCH_WORKERS, BENCH_CONCURRENCY, BENCH_API_WORKERS: see bench/stack.py; wrk is the load.
# The scenarios run back to back with no pause (as production lives); the goals are read
# from that. `bench/run.py --settle` for the settled figures.
bench: install
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run.py

# The floods, then 100 requests/s for BENCH_SOAK_MINUTES (10): p99 of each minute.
bench-soak: install
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/run.py --only spread,hot,soak

# Hosts as network namespaces (root), five faults under load; the table goes to
# docs/reliability.md (bench/cluster.py; CLUSTER_ARGS=--short for CI's shorter outages).
cluster: install
	$(BIN)/python bench/cluster.py $(CLUSTER_ARGS)

# py-spy profiles of the API and the worker under one scenario (bench/profile.py).
SCENARIO ?= spread
profile: install
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	@test -x $(BIN)/py-spy || $(BIN)/python -m pip install --quiet py-spy
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/profile.py $(SCENARIO)
