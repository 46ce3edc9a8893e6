# Developer and CI entry points. GNU make; recipes run in bash.
#
#   make test            lint the SAM template, check the crates (cargo-deny), every Rust test (ignored
#                        ones too) with a moto server, then the pages in headless Chromium and the
#                        README's checks (pytest), then the scenarios and the pages once more at 23:50
#                        Paris time (see below)
#   make test-any-hour   the scenarios and the pages with local mode's clock started at five moments:
#                        12:00, 23:50 and 03:00 Paris time today, 01:50 on 28 March and 31 October 2027
#                        (DST changes); a line per start shows it took effect (README, "Tests at any
#                        hour"; ~2½ min once built). ANY_HOUR_STARTS="<RFC 3339 or HH:MM today> ..."
#                        runs others, ANY_HOUR_MOTO=1 adds the scenarios on moto
#   make test-browser    only the pages in headless Chromium (and the README's checks)
#   make run             local mode on http://$(HOST):$(PORT) (no AWS, no venv needed)
#   make run-moto        local mode on emulated AWS: DynamoDB, SES, EventBridge on a moto server
#   make lint-template   cfn-lint + sam validate --lint
#   make lint-domain     clippy on the domain crate, whose lints refuse unwrap, expect, panic and unreachable
#   make deny            the crates' licences, bans (duplicates included) and sources (cargo-deny, deny.toml; offline)
#   make prove-delivery  the fault-injection proof over 1,000 appointments (docs/reliability.md)
#   make package         sam build (cargo-lambda, arm64) into .aws-sam/
#   make openapi         regenerate docs/openapi.json from the code (tests/openapi.rs fails when it is stale)
#   make lock            resolve infra/tools/requirements.txt into requirements.lock with every file's hash (UPGRADE=1: newest versions)
#   make deploy          package, then sam deploy --guided
#   make bench-coldstart release builds, then init / first invoke / RSS / sizes against a fake Lambda runtime (docs/benchmarks.md)
#
# Cargo's target directory: an existing CARGO_TARGET_DIR in the environment is
# used as is (cargo reads it itself); this Makefile never sets it.
#
# Every cargo command that resolves the crate graph runs with --locked: the
# build uses exactly Cargo.lock, and a manifest change that needs a new
# resolution fails instead of quietly taking whatever crates.io has today.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON       ?= python3
VENV         ?= .venv
# What we ask for (exact pins), and the whole resolved set the venv installs,
# every package with the hashes of its files on PyPI (pip --require-hashes).
REQUIREMENTS := infra/tools/requirements.txt
LOCK         := infra/tools/requirements.lock
# pip itself, installed by hash before anything else (infra/tools/pip.txt says
# why), and pip-compile, which writes the locks: pinned, and installed by hash too.
PIP_PIN         := infra/tools/pip.txt
PIP_LOCK        := infra/tools/pip.lock
LOCK_TOOLS      := infra/tools/lock-tools.txt
LOCK_TOOLS_LOCK := infra/tools/lock-tools.lock
PIP_COMPILE     := --quiet --generate-hashes --allow-unsafe --no-strip-extras \
	--no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade)
VENV_STAMP   := $(VENV)/.installed
TEMPLATE     := template.yaml
REGION       ?= eu-west-3

# Local mode address (read by agenda-local); environment or command line wins.
PORT ?= 3000
HOST ?= 127.0.0.1

# Rust tests: nextest when installed, else cargo test. Lazily evaluated, so
# only `make test` probes for nextest.
CARGO_TEST ?= $(if $(shell cargo nextest --version 2>/dev/null),\
	cargo nextest run --locked --workspace --run-ignored all --no-fail-fast,\
	cargo test --locked --workspace --no-fail-fast -- --include-ignored)

# cargo-deny at a pinned version, built once (`cargo install --locked`, about
# 4 minutes on 2 cores) into a folder beside Cargo's target directory: CI
# keeps that one between runs, so it is not rebuilt each time. Without
# CARGO_TARGET_DIR: under ./target. A new version installs beside the old.
CARGO_DENY_VERSION := 0.20.2
TOOLS_DIR ?= $(if $(CARGO_TARGET_DIR),$(abspath $(CARGO_TARGET_DIR)/..)/tools,$(CURDIR)/target/tools)
CARGO_DENY := $(TOOLS_DIR)/cargo-deny-$(CARGO_DENY_VERSION)/bin/cargo-deny

# The SAM CLI wants a region and credentials even for offline checks.
SAM_LINT_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$(REGION) AWS_REGION=$(REGION) \
	AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
# sam build runs cargo-lambda (and its zig) from the venv.
SAM_BUILD_ENV := SAM_CLI_TELEMETRY=0 PATH="$(CURDIR)/$(VENV)/bin:$$PATH"

# Debian packages the Rust build needs: command -> package.
BUILD_DEPS := cc:gcc make:make
# Debian packages the browser tests need: command -> package.
BROWSER_DEPS := chromium:chromium chromedriver:chromium-driver

# The pages in headless Chromium (tests/browser), the API against its OpenAPI
# document with schemathesis (tests/api), the README's and the document's checks (tests/docs).
PYTEST := $(VENV)/bin/pytest tests/browser tests/api tests/docs

# The Lambda binaries of the template (BuildProperties: Binary), for `make package`.
LAMBDA_BINARIES = $(shell sed -n 's/^ *Binary: *//p' $(TEMPLATE))

# Tests at any hour: infra/tools/any-hour.sh runs its five default starts
# unless given others (each an RFC 3339 time with offset, or HH:MM in Paris today).
ANY_HOUR_STARTS ?=

.PHONY: openapi help venv build-deps browser-deps lint-template lint-domain deny test test-browser test-any-hour run package deploy fmt clean run-moto lock bench-coldstart prove-delivery

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

## Python tooling (SAM CLI, cfn-lint, moto, cargo-lambda, selenium, pytest) in
## .venv, at the versions of the lock.
venv: $(VENV_STAMP)

$(VENV_STAMP): $(LOCK) $(PIP_LOCK)
	@echo "==> Python tools into $(VENV) from $(LOCK): SAM CLI, cfn-lint, moto, cargo-lambda, zig, selenium, pytest (a few minutes the first time)"
	@if [ ! -x "$(VENV)/bin/pip" ]; then \
		rm -rf "$(VENV)"; \
		if ! $(PYTHON) -m venv "$(VENV)"; then \
			echo "python venv module missing: installing python3-venv" >&2; \
			rm -rf "$(VENV)"; \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; \
			$(PYTHON) -m venv "$(VENV)"; \
		fi; \
	fi
	$(VENV)/bin/pip install --disable-pip-version-check --quiet --require-hashes -r $(PIP_LOCK)
	$(VENV)/bin/pip install --disable-pip-version-check --progress-bar on --require-hashes -r $(LOCK)
	@touch $@

## Resolves requirements.txt with pip-compile (pip-tools, itself installed by
## hash from lock-tools.lock in a throwaway venv) into the lock: every package
## pinned with the sha256 of each of its files on PyPI, so `make venv`
## installs exactly those files. Versions already in the lock are kept unless
## requirements.txt needs another (UPGRADE=1 takes the newest of everything).
## Run it after changing requirements.txt, and commit both.
lock:
	@tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	echo "==> pip-compile from $(LOCK_TOOLS_LOCK) into a fresh venv ($$tmp)"; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/pip" install --disable-pip-version-check --quiet --require-hashes -r $(PIP_LOCK); \
	"$$tmp/venv/bin/pip" install --disable-pip-version-check --quiet --require-hashes -r $(LOCK_TOOLS_LOCK); \
	echo "==> resolving $(REQUIREMENTS) into $(LOCK) (a minute or two)"; \
	CUSTOM_COMPILE_COMMAND="make lock" "$$tmp/venv/bin/pip-compile" $(PIP_COMPILE) --output-file $(LOCK) $(REQUIREMENTS); \
	CUSTOM_COMPILE_COMMAND="make lock" "$$tmp/venv/bin/pip-compile" $(PIP_COMPILE) --output-file $(LOCK_TOOLS_LOCK) $(LOCK_TOOLS); \
	CUSTOM_COMPILE_COMMAND="make lock" "$$tmp/venv/bin/pip-compile" $(PIP_COMPILE) --output-file $(PIP_LOCK) $(PIP_PIN); \
	echo "==> wrote $(LOCK) ($$(grep -c '^[A-Za-z0-9]' $(LOCK)) packages), $(LOCK_TOOLS_LOCK) and $(PIP_LOCK)"

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

## Headless Chromium and its driver, from Debian (installed only when missing).
browser-deps:
	@missing=""; \
	for dep in $(BROWSER_DEPS); do \
		command -v "$${dep%%:*}" >/dev/null 2>&1 || missing="$$missing $${dep#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
		echo "==> installing the browser tests' Debian packages:$$missing" >&2; \
		$$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$missing; \
	fi

lint-template: venv
	$(SAM_LINT_ENV) $(VENV)/bin/cfn-lint $(TEMPLATE)
	$(SAM_LINT_ENV) $(VENV)/bin/sam validate --lint --template $(TEMPLATE) --region $(REGION)

# The domain's own lints (shared/domain/Cargo.toml, [lints]): no unwrap, expect,
# panic or unreachable outside tests, each exception allowed where it stands.
lint-domain: build-deps
	cargo clippy -p domain --all-targets --all-features --locked -- -D warnings


## The crates' licences, banned crates and duplicate versions, and sources,
## against deny.toml. Offline: the crates are fetched first (crates.io, as any
## build does), then cargo-deny reads nothing from the network; the advisories
## check needs the RustSec database, which the operator's CI runs (README,
## "Supply chain").
deny: build-deps $(CARGO_DENY)
	cargo fetch --locked
	$(CARGO_DENY) --frozen check licenses bans sources

$(CARGO_DENY):
	@echo "==> installing cargo-deny $(CARGO_DENY_VERSION) into $(TOOLS_DIR) (once; about 4 minutes)"
	env -u CARGO_TARGET_DIR cargo install --locked --version $(CARGO_DENY_VERSION) --root $(abspath $(dir $@)/..) cargo-deny

test: venv lint-template lint-domain build-deps deny browser-deps
	infra/tools/with-moto.sh $(CARGO_TEST)
	@echo "==> pages in headless Chromium (375 px, JavaScript off), the API against docs/openapi.json (schemathesis, ~2 min), on local mode; the README's checks"
	$(PYTEST)
	@echo "==> tests at any hour, one start of make test-any-hour's five (~40 s): 23:50 Paris time today"
	infra/tools/any-hour.sh 23:50

test-browser: venv build-deps browser-deps
	$(PYTEST)

# The suites whose outcome could depend on the hour, at five clock starts
# (AGENDA_CLOCK_START, SPEC §8): README, "Tests at any hour".
test-any-hour: venv build-deps browser-deps
	infra/tools/any-hour.sh $(ANY_HOUR_STARTS)

# The same test `make test` runs over 120 appointments, here over 1,000.
prove-delivery: build-deps
	DELIVERY_PROOF_APPOINTMENTS=1000 DELIVERY_PROOF_SEED=2026 \
		cargo test --locked -p reminder-sweeper --test delivery_under_faults -- --nocapture

run: build-deps
	PORT=$(PORT) HOST=$(HOST) cargo run --locked -p local --bin agenda-local

# The same server, its handlers on moto through the AWS adapters (README,
# "Local mode against AWS services"); moto's own record: $MOTO_ENDPOINT/moto-api/.
run-moto: venv build-deps
	infra/tools/with-moto.sh env AGENDA_BACKEND=aws AGENDA_CREATE_RESOURCES=1 AGENDA_INSECURE_LOCAL=1 \
		TABLE_NAME=agenda EVENT_BUS_NAME=communications SENDER_EMAIL=rdv@example.org \
		PORT=$(PORT) HOST=$(HOST) bash -c 'AWS_ENDPOINT_URL=$$MOTO_ENDPOINT exec cargo run --locked -p local --bin agenda-local'

# sam build shows none of cargo-lambda's output until it fails, so each function
# is built first exactly as sam build does it (same command, one binary at a
# time, plus --locked), with cargo's progress on the screen; sam build then
# finds them built. sam build has no way to pass --locked to its own cargo
# lambda run: Cargo.lock, already checked by ours, must come out unchanged.
package: venv build-deps
	@for bin in $(LAMBDA_BINARIES); do \
		echo "==> cargo lambda build --release --arm64 --locked --bin $$bin"; \
		$(SAM_BUILD_ENV) cargo lambda build --release --arm64 --locked --bin "$$bin"; \
	done
	@echo "==> sam build (the functions are built: it packages them into .aws-sam/)"
	@before="$$(sha256sum Cargo.lock)"; \
	$(SAM_BUILD_ENV) $(VENV)/bin/sam build --template $(TEMPLATE) --beta-features; \
	[ "$$(sha256sum Cargo.lock)" = "$$before" ] || { echo "sam build changed Cargo.lock" >&2; exit 1; }

deploy: package
	SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam deploy --guided

# Cold start (issue 14): every function and a hello-world lambda_runtime binary
# in the release profile for this machine (x86_64, not arm64), with the flags
# .cargo/config.toml gives the Lambda builds (non-PIE, no unwind tables), then infra/bench/coldstart.py;
# the arm64 zips of `make package`, when built, are reported beside them. The
# build runs at a low priority (shared machine); BENCH_FUNCTIONS=booking
# narrows both, BENCH_RUNS sets the runs (>= 11).
BENCH_RUNS      ?= 21
BENCH_FUNCTIONS ?= booking notice-sender patient-links status-change reminder-scheduler reminder-sweeper delivery-feedback
BENCH_NICE      ?= nice -n 15
BENCH_TARGET    := x86_64-unknown-linux-gnu
BENCH_RUSTFLAGS := -C relocation-model=static -C force-unwind-tables=no

bench-coldstart: build-deps
	CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="$(BENCH_RUSTFLAGS)" \
		$(BENCH_NICE) cargo build --locked --release --target $(BENCH_TARGET) -p bench-hello $(addprefix -p ,$(BENCH_FUNCTIONS))
	target_dir=$$(cargo metadata --locked --format-version 1 --no-deps | $(PYTHON) -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'); \
	lambda_dir=""; [ -d "$$target_dir/lambda" ] && lambda_dir="--lambda-dir $$target_dir/lambda"; \
	$(PYTHON) infra/bench/coldstart.py --bin-dir "$$target_dir/$(BENCH_TARGET)/release" $$lambda_dir \
		--runs $(BENCH_RUNS) --only "$(BENCH_FUNCTIONS)"

# The API's description, generated from the request and answer types; the
# booking function serves the committed file (docs/decisions.md, "OpenAPI").
openapi: build-deps
	cargo run --locked -q -p api-description > docs/openapi.json.tmp
	mv docs/openapi.json.tmp docs/openapi.json

fmt:
	cargo fmt --all

clean:
	rm -rf .aws-sam
	cargo clean
