# engagekit — every gate a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled
export TZ := UTC

.PHONY: help venv run layer test test-unit test-integration test-infra test-e2e lint format typecheck synth bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP) ## Create or refresh the virtualenv from the pinned lock

run: $(STAMP) ## Start the whole platform locally (API on :8000, AWS on :5000)
	$(BIN)/engagekit local $(ARGS)

test: $(STAMP) lint typecheck ## Lint, typecheck, then every test tier (unit, integration, infra, e2e) with branch coverage
	$(BIN)/python -m pytest -q --cov=engagekit --cov-branch --cov-report=term:skip-covered tests/unit tests/integration tests/infra tests/e2e

test-unit: $(STAMP) ## Unit tests only (no network)
	$(BIN)/python -m pytest -q tests/unit

test-integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration

test-infra: $(STAMP)
	$(BIN)/python -m pytest -q tests/infra

test-e2e: $(STAMP)
	$(BIN)/python -m pytest -q tests/e2e

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP) ## mypy, strict on shared/
	$(BIN)/mypy shared/engagekit

layer: $(STAMP) ## Build the Lambda dependency layer (arm64 wheels from PyPI) into build/layer/
	$(BIN)/python -m infra.cdk.layer

synth: $(STAMP) ## Synthesize the CDK app offline into cdk.out/ (run `make layer` first to deploy)
	$(BIN)/python -m infra.cdk.app

bench: $(STAMP) ## The benchmark suite: bench/results/latest.json and docs/benchmarks.md
	$(BIN)/python -m bench

clean: ## Remove the virtualenv and build output
	rm -rf $(VENV) cdk.out build .pytest_cache .hypothesis
