# DocuServe — every target is one verb. A fresh machine needs only python3 (3.11+), node and npm.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CDK := node_modules/.bin/cdk
STAGE ?= dev
PORT ?= 8000
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint format synth deploy diff destroy bench fuzz scan clean

$(STAMP): pyproject.toml
	@echo "==> creating the virtualenv and installing Python dependencies (first run only)"
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(CDK): package.json
	@echo "==> installing the pinned AWS CDK CLI from npm (first run only)"
	npm install --no-audit --no-fund --silent
	@touch $(CDK)

## run: the whole stack on one machine (moto), with the web app and a demo sign-in
run: $(STAMP)
	PORT=$(PORT) $(PY) -m local

## test: lint, type-check and every test tier
test: $(STAMP) lint
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## synth: both stages, failing on any unacknowledged cdk-nag finding
synth: $(STAMP) $(CDK)
	$(CDK) synth --quiet -c stage=dev -o cdk.out/dev
	$(CDK) synth --quiet -c stage=prod -c alarm_email_fallback=synth-check@example.com -o cdk.out/prod

## bench: cold starts, AWS calls per operation, list scaling, warm latency, asset sizes (docs/performance.md)
bench: synth
	$(PY) -m bench

## fuzz: the long runs, random seeds: the property tier on moto, then schemathesis against the local stack
## (make test runs bounded, derandomized ones)
fuzz: $(STAMP)
	PROPERTY_EXAMPLES=$${PROPERTY_EXAMPLES:-500} FUZZ_RANDOM=1 $(PY) -m pytest -s tests/integration/test_property_bad_input.py
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-150} FUZZ_RANDOM=1 $(PY) -m pytest tests/e2e/test_fuzz_openapi.py

SCAN_VENV := $(VENV)/scan
$(SCAN_VENV)/.installed: tests/scanners/requirements.txt
	@echo "==> installing the scanners into $(SCAN_VENV) (first run only)"
	python3 -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install --quiet -r tests/scanners/requirements.txt
	@touch $@

## scan: cfn-lint + checkov on cdk.out (run synth first), bandit, dependency audit; unacknowledged findings fail
scan: $(STAMP) $(SCAN_VENV)/.installed
	$(PY) tests/scanners/run.py --bin $(SCAN_VENV)/bin

deploy: $(STAMP) $(CDK)
	$(CDK) deploy -c stage=$(STAGE) --require-approval broadening

diff: $(STAMP) $(CDK)
	$(CDK) diff -c stage=$(STAGE)

destroy: $(STAMP) $(CDK)
	$(CDK) destroy -c stage=$(STAGE)

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
