# A newcomer's two commands: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck unit e2e reliability demo bench clean

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
	$(BIN)/pytest -q -n auto --dist loadfile --durations=15

test: lint typecheck unit

# Only the real-Airflow test (scheduler, dag-processor, triggerer, api-server); unit runs it too.
e2e: $(STAMP)
	$(BIN)/pytest -q -m e2e

# Only the reliability suite (faults, tokens, restarts, bad input, secrets); unit runs it too.
# It ends with the tables of figures that docs/reliability.md quotes.
reliability: $(STAMP)
	$(BIN)/pytest -q tests/reliability

# The main job: the weekly lifecycle example end to end against a local sandbox, then a summary.
# run_dag stops the sandbox and every Airflow process it started, whatever happens (Ctrl-C too).
demo: $(STAMP)
	$(BIN)/python -m airflow_campaign_provider.sandbox.run_dag kore_campaign_weekly_lifecycle \
		--dags-folder example_dags --seed example_dags/data/sandbox_seed.json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
