# meshgov — the two commands a new user needs are `make demo` and `make test`.
# Everything they need (virtualenvs, dependencies) is set up here; nothing is installed by hand.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON      ?= $(shell scripts/find-python.sh)
PYBIN_DIR   := $(dir $(PYTHON))
VENV        := .venv
SAM_VENV    := .venv-sam
SAM_VERSION := 1.170.0
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.2.469
BIN         := $(VENV)/bin
# Never reach real AWS: fake credentials and a default region for every tool run from here.
export AWS_ACCESS_KEY_ID     ?= testing
export AWS_SECRET_ACCESS_KEY ?= testing
export AWS_SESSION_TOKEN     ?= testing
export AWS_DEFAULT_REGION    ?= eu-west-1
export SAM_CLI_TELEMETRY     := 0
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup demo test bench lint validate checkov build unit clean
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@echo "==> creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# aws-sam-cli lives in its own virtualenv: installed beside moto it pins older boto3 and pydantic.
$(SAM_VENV)/.installed:
	@echo "==> creating $(SAM_VENV) (aws-sam-cli $(SAM_VERSION))"
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet 'aws-sam-cli==$(SAM_VERSION)'
	touch $@

# checkov too: its pins (boto3, pydantic...) must not touch the project's virtualenv.
$(CHECKOV_VENV)/.installed:
	@echo "==> creating $(CHECKOV_VENV) (checkov $(CHECKOV_VERSION))"
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $@

# The three virtualenvs are independent: create them side by side (pip waits on the network and
# the disk more than on the CPU).
setup: ## create the virtualenvs (project, aws-sam-cli, checkov), in parallel
	$(MAKE) --no-print-directory -j3 --output-sync=target \
		$(VENV)/.installed $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed

lint: $(VENV)/.installed ## ruff + mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/meshgov/meshgov src functions

validate: $(SAM_VENV)/.installed ## sam validate --lint (offline), checkov
	$(SAM_VENV)/bin/sam validate --lint --template template.yaml --region $(AWS_DEFAULT_REGION)
	$(MAKE) --no-print-directory checkov

checkov: $(CHECKOV_VENV)/.installed ## checkov on template.yaml (skips justified in .checkov.yaml)
	$(CHECKOV_VENV)/bin/checkov -f template.yaml --config-file .checkov.yaml

build: $(SAM_VENV)/.installed ## sam build (needs python3.12 on PATH: taken from pyenv when absent)
	PATH="$(PYBIN_DIR):$$PATH" $(SAM_VENV)/bin/sam build --template template.yaml --build-dir .aws-sam/build

unit: $(VENV)/.installed ## the fast tests only
	$(BIN)/pytest -q tests/unit

test: ## set up, lint, validate, build, run the whole suite
	$(MAKE) --no-print-directory setup
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory validate
	$(MAKE) --no-print-directory build
	$(BIN)/pytest -n 2 --dist loadfile -q

demo: $(VENV)/.installed ## run the whole mesh locally on moto server
	$(BIN)/meshgov demo

bench: $(VENV)/.installed ## run the benchmarks, write build/bench.json
	mkdir -p build
	$(BIN)/python -m bench --output build/bench.json

clean: ## remove virtualenvs and build output
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) .aws-sam build .pytest_cache .mypy_cache .ruff_cache
