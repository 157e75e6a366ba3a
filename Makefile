# A newcomer's two commands: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck unit e2e e2e-distributed reliability ui-test compat dist-check docs demo bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test,dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# One worker per core; each test file runs whole on one worker (its module fixtures and tables
# stay together), each worker with its own AIRFLOW_HOME, metadata DB and sandbox.
unit: $(STAMP)
	$(BIN)/pytest -q -n auto --dist loadfile --durations=15 -m "not ui and not distributed"

test: lint typecheck unit

# Only the real-Airflow test (scheduler, dag-processor, triggerer, api-server); unit runs it too.
e2e: $(STAMP)
	$(BIN)/pytest -q -m e2e

# Only the CeleryExecutor deployment (PostgreSQL, Redis, 2 workers, 2 triggerers): one account
# budget shared by every process, and a worker and a triggerer killed mid-run. Marker
# `distributed` (also `e2e`): `pytest -m "not distributed"` leaves it out.
e2e-distributed: $(STAMP)
	$(BIN)/pytest -q -m distributed tests/e2e

# Only the reliability suite (faults, tokens, restarts, bad input, secrets); unit runs it too.
# It ends with the tables of figures that docs/reliability.md quotes.
reliability: $(STAMP)
	$(BIN)/pytest -q tests/reliability

# In headless Chromium (installed with apt-get when missing): the connection form in Airflow's
# real web UI (add a connection leaving the defaults, save, `airflow connections test` it), and
# the sandbox's page during a demo run (a sent message appears); screenshots in .ui-test-artifacts/.
ui-test: $(STAMP)
	$(BIN)/pytest -q -m ui tests/ui

# The fast tests on the newest patch of every supported Airflow line, each in a throwaway
# venv; ends with a version x result table.
compat: $(STAMP)
	scripts/compat.sh

# The documentation site into site/, strictly: a broken link or anchor, a page left out of the
# navigation or a docstring reference that does not resolve fails the build.
DOCS_STAMP := $(VENV)/.docs-installed
$(DOCS_STAMP): $(STAMP)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test,dev,docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Build the sdist and wheel as they would be published and check them as the package index does.
dist-check: $(STAMP)
	rm -rf dist
	$(BIN)/uv build --quiet --out-dir dist
	$(BIN)/twine check --strict dist/*
	$(BIN)/python scripts/check_dist.py dist

# The main job: the weekly lifecycle example end to end against a local sandbox, then a summary.
# run_dag stops the sandbox and every Airflow process it started, whatever happens (Ctrl-C too).
demo: $(STAMP)
	$(BIN)/python -m airflow_campaign_provider.sandbox.run_dag kore_campaign_weekly_lifecycle \
		--dags-folder example_dags --seed example_dags/data/sandbox_seed.json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache dist site .ui-test-artifacts
