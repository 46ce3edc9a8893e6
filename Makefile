# Developer and CI entry points. GNU make; recipes run in bash.
#
#   make test            lint the SAM template, then every Rust test (ignored ones too) with a moto server
#   make run             local mode on http://$(HOST):$(PORT) (no AWS, no venv needed)
#   make run-moto        local mode on emulated AWS: DynamoDB, SES, EventBridge on a moto server
#   make lint-template   cfn-lint + sam validate --lint
#   make prove-delivery  the fault-injection proof over 1,000 appointments (docs/reliability.md)
#   make package         sam build (cargo-lambda, arm64) into .aws-sam/
#   make deploy          package, then sam deploy --guided
#
# Cargo's target directory: an existing CARGO_TARGET_DIR in the environment is
# used as is (cargo reads it itself); this Makefile never sets it.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON       ?= python3
VENV         ?= .venv
REQUIREMENTS := infra/tools/requirements.txt
VENV_STAMP   := $(VENV)/.installed
TEMPLATE     := template.yaml
REGION       ?= eu-west-3

# Local mode address (read by agenda-local); environment or command line wins.
PORT ?= 3000
HOST ?= 127.0.0.1

# Rust tests: nextest when installed, else cargo test. Lazily evaluated, so
# only `make test` probes for nextest.
CARGO_TEST ?= $(if $(shell cargo nextest --version 2>/dev/null),\
	cargo nextest run --workspace --run-ignored all --no-fail-fast,\
	cargo test --workspace --no-fail-fast -- --include-ignored)

# The SAM CLI wants a region and credentials even for offline checks.
SAM_LINT_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$(REGION) AWS_REGION=$(REGION) \
	AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
# sam build runs cargo-lambda (and its zig) from the venv.
SAM_BUILD_ENV := SAM_CLI_TELEMETRY=0 PATH="$(CURDIR)/$(VENV)/bin:$$PATH"

# Debian packages the Rust build needs: command -> package.
BUILD_DEPS := cc:gcc make:make

.PHONY: help venv build-deps lint-template test run package deploy fmt clean run-moto prove-delivery

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

## Python tooling (SAM CLI, cfn-lint, moto, cargo-lambda) in .venv.
venv: $(VENV_STAMP)

$(VENV_STAMP): $(REQUIREMENTS)
	@if [ ! -x "$(VENV)/bin/pip" ]; then \
		rm -rf "$(VENV)"; \
		if ! $(PYTHON) -m venv "$(VENV)"; then \
			echo "python venv module missing: installing python3-venv" >&2; \
			rm -rf "$(VENV)"; \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; \
			$(PYTHON) -m venv "$(VENV)"; \
		fi; \
	fi
	$(VENV)/bin/pip install -q --disable-pip-version-check -r $(REQUIREMENTS)
	@touch $@

## Compilers etc. for the Rust build (installed only when missing).
build-deps:
	@missing=""; \
	for dep in $(BUILD_DEPS); do \
		command -v "$${dep%%:*}" >/dev/null 2>&1 || missing="$$missing $${dep#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing build dependencies:$$missing" >&2; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi; \
	command -v cargo >/dev/null 2>&1 || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }

lint-template: venv
	$(SAM_LINT_ENV) $(VENV)/bin/cfn-lint $(TEMPLATE)
	$(SAM_LINT_ENV) $(VENV)/bin/sam validate --lint --template $(TEMPLATE) --region $(REGION)

test: venv lint-template build-deps
	infra/tools/with-moto.sh $(CARGO_TEST)

# The same test `make test` runs over 120 appointments, here over 1,000.
prove-delivery: build-deps
	DELIVERY_PROOF_APPOINTMENTS=1000 DELIVERY_PROOF_SEED=2026 \
		cargo test -p reminder-sweeper --test delivery_under_faults -- --nocapture

run: build-deps
	PORT=$(PORT) HOST=$(HOST) cargo run -p local --bin agenda-local

# The same server, its handlers on moto through the AWS adapters (README,
# "Local mode against AWS services"); moto's own record: $MOTO_ENDPOINT/moto-api/.
run-moto: venv build-deps
	infra/tools/with-moto.sh env AGENDA_BACKEND=aws AGENDA_CREATE_RESOURCES=1 AGENDA_INSECURE_LOCAL=1 \
		TABLE_NAME=agenda EVENT_BUS_NAME=communications SENDER_EMAIL=rdv@example.org \
		PORT=$(PORT) HOST=$(HOST) bash -c 'AWS_ENDPOINT_URL=$$MOTO_ENDPOINT exec cargo run -p local --bin agenda-local'

package: venv build-deps
	$(SAM_BUILD_ENV) $(VENV)/bin/sam build --template $(TEMPLATE) --beta-features

deploy: package
	SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam deploy --guided

fmt:
	cargo fmt --all

clean:
	rm -rf .aws-sam
	cargo clean
