# DocuServe — every target is one verb. A fresh machine needs only python3 (3.11+), node and npm.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CDK := node_modules/.bin/cdk
STAGE ?= dev
PORT ?= 8000
# The CDK CLI and jsii (under aws-cdk-lib) run on the Node.js LTS pinned in package.json (the npm
# registry's `node` package), not on whatever node the machine has: the CDK drops a Node release
# six months after its end of life.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-lambda-python explore lint format synth preflight account-setup deploy diff destroy bench fuzz scan clean

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
test: $(STAMP) $(CDK) lint
	$(PY) -m pytest

## test-lambda-python: the unit and integration tiers again on Python 3.13, Lambda's runtime (but the schedule
## explorers: they run every interleaving of DynamoDB calls through a deterministic scheduler, which the Python
## minor version does not change, and take about 5 of CI's 90 minutes per tier; make test runs them on 3.11)
VENV313 := .venv313
$(VENV313)/.installed: pyproject.toml
	@echo "==> creating $(VENV313) on Python 3.13 (Lambda's runtime; first run only)"
	PY313=$$(.ci/python313) && $$PY313 -m venv $(VENV313)
	$(VENV313)/bin/pip install --quiet --upgrade pip
	$(VENV313)/bin/pip install --quiet -e '.[dev]'
	@touch $@

test-lambda-python: $(VENV313)/.installed $(CDK)
	$(VENV313)/bin/python -m pytest tests/unit tests/integration \
		--ignore=tests/integration/test_schedule_explorer.py --ignore=tests/integration/test_bundle_schedule_explorer.py

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

## bench-check: the deterministic figures (AWS calls per operation, items read per list page, bytes verification
## reads back) against bench/baseline.json; UPDATE=1 rewrites it (docs/performance.md)
.PHONY: bench-check
bench-check: $(STAMP)
	$(PY) -m bench.check $(if $(UPDATE),--update)

## fuzz: the long runs, random seeds: the property tier on moto, then schemathesis against the local stack
## (make test runs bounded, derandomized ones)
fuzz: $(STAMP)
	PROPERTY_EXAMPLES=$${PROPERTY_EXAMPLES:-500} FUZZ_RANDOM=1 $(PY) -m pytest -s tests/integration/test_property_bad_input.py
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-150} FUZZ_RANDOM=1 $(PY) -m pytest tests/e2e/test_fuzz_openapi.py

## explore: the schedule explorer on every operation pair (66 member-side + 7 with a partner download), then
## again with faults on, then a bundle's 15 pairs (partner file downloads against changes to one of its
## documents and to the link); counts per pair in artifacts/explore-counts.json (make test: 6 + 2 pairs, 4 fault cases).
## EXPLORE_SWITCHES (default 1; 2 takes hours), EXPLORE_FAULT_SWITCHES (default 0: both orders, every fault position)
explore: $(STAMP)
	rm -f artifacts/explore-counts.json
	EXPLORE_PAIRS=all EXPLORE_SWITCHES=$${EXPLORE_SWITCHES:-1} $(PY) -m pytest tests/integration/test_schedule_explorer.py tests/integration/test_bundle_schedule_explorer.py -n 2 -rx
	$(PY) -c 'import json; c = json.load(open("artifacts/explore-counts.json")); print(len(c["pairs"]), "pairs and fault cases,", c["total"], "interleavings explored")'

SCAN_VENV := $(VENV)/scan
$(SCAN_VENV)/.installed: tests/scanners/requirements.txt
	@echo "==> installing the scanners into $(SCAN_VENV) (first run only)"
	python3 -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install --quiet -r tests/scanners/requirements.txt
	@touch $@

## scan: cfn-lint + checkov on cdk.out (run synth first), bandit, dependency audit; unacknowledged findings fail
scan: $(STAMP) $(SCAN_VENV)/.installed
	$(PY) tests/scanners/run.py --bin $(SCAN_VENV)/bin

## preflight: what a deploy assumes of the account and region (bootstrap, Powertools layer, API Gateway logging role, SES sender)
preflight: $(STAMP)
	$(PY) -m infra.preflight --stage $(STAGE)

## account-setup: once per account and region, API Gateway's CloudWatch Logs role (no stage owns it)
account-setup: $(STAMP)
	$(PY) -m infra.account_setup

deploy: $(STAMP) $(CDK) preflight
	$(CDK) deploy -c stage=$(STAGE) --require-approval broadening

diff: $(STAMP) $(CDK)
	$(CDK) diff -c stage=$(STAGE)

destroy: $(STAMP) $(CDK)
	$(CDK) destroy -c stage=$(STAGE)

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
