# AccessWeaver infrastructure: the operator's entry point. `make` or `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
# Started with its stdin a socket (as Node's spawn and some CI runners give it) and no SHLVL, bash takes
# itself for a remote shell's first shell and reads /etc/bash.bashrc, which fails under -u (PS1 unbound).
# A shell level says it is not the first.
export SHLVL ?= 1
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# cdktf otherwise calls its telemetry host on every run.
export CHECKPOINT_DISABLE := 1

# PHASE, SERVICE or RESTORE_TIME given but empty (PHASE=$CI_PHASE, or export PHASE=$CI_PHASE, with that
# variable unset) is refused rather than read as "every phase" / "every service" / "the latest restorable
# time"; leaving it out is how to ask for that. Where it was given: "command line", or "environment" for the operator's shell; the empty
# values this Makefile exports to its own sub-makes (ACCESSWEAVER_MAKE_EXPORTS) are not the operator's.
given = $(if $(filter command line,$(origin $(1))),command line,$(if $(ACCESSWEAVER_MAKE_EXPORTS),,$(if $(filter environment%,$(origin $(1))),environment)))
export PHASE_GIVEN := $(call given,PHASE)
export SERVICE_GIVEN := $(call given,SERVICE)
export RESTORE_TIME_GIVEN := $(call given,RESTORE_TIME)
export ACCESSWEAVER_MAKE_EXPORTS := 1
# ENV: dev, staging or prod (empty: all, where a target allows it).
ENV ?=
# PHASE: one phase of the environment (empty: all, in phase order).
PHASE ?=
# TF: the Terraform binary (terraform, tofu, ...).
TF ?= terraform
# TF_PLUGIN_DIR: local provider mirror used by the offline checks when it exists.
TF_PLUGIN_DIR ?= /opt/tf-plugins
OUTDIR ?= cdktf.out
AUTO_APPROVE ?=
CONFIRM ?=
NAME ?=
FORMAT ?=
INIT_FLAGS ?=
# COMPARE: review: another environment to compare with.
COMPARE ?=
# TAG, SERVICE: release and restart: the image tag, and one service (aw-<name>).
TAG ?=
SERVICE ?=
# EMULATOR_URL: emulate: an AWS API emulator already running (e.g. LocalStack); empty: start moto_server.
EMULATOR_URL ?=
# RESTORE_TIME: restore: the database's point in time, ISO 8601 UTC (empty: the latest restorable time).
RESTORE_TIME ?=
# SCENARIO: drill: the failure to inject (db-failover, cache-failover, az-tasks, az-network).
SCENARIO ?=
# PATTERN: cache-flush: a Redis glob pattern of the keys to delete ('*' alone: every key).
PATTERN ?=

# What the operator types reaches the scripts as data, never as command text: make keeps each value's
# raw text (`value`: never expanded, so a `$(shell ...)` in it does not run), exports it, and recipes
# read it only as a quoted "$$VAR". ENV, PHASE, SERVICE, FORMAT, COMPARE, RESTORE_TIME, SCENARIO and
# PATTERN are checked in one place, scripts/operator/inputs.ts.
INPUTS := ENV PHASE TF TF_PLUGIN_DIR OUTDIR AUTO_APPROVE CONFIRM NAME FORMAT INIT_FLAGS COMPARE TAG SERVICE EMULATOR_URL RESTORE_TIME SCENARIO PATTERN
$(foreach v,$(INPUTS),$(eval override $(v) := $$(value $(v))))
export $(INPUTS)
export CDKTF_OUTDIR := $(OUTDIR)

JEST := node node_modules/jest/bin/jest.js
# The project's TypeScript commands (scripts/register.js transpiles them, with a cache).
TS_NODE := node -r ./scripts/register.js
TF_CHECK := $(TS_NODE) scripts/tf-check.ts
EMULATE := $(TS_NODE) scripts/emulate.ts
REVIEW := $(TS_NODE) scripts/review.ts
# exec: make's SIGTERM reaches the operator itself, which stops Terraform safely before exiting.
OPERATOR := exec $(TS_NODE) scripts/operator.ts

.PHONY: help install synth lint format typecheck unit test validate rehearse init plan apply deploy output destroy drift release restart db-roles restore restore-teardown drill alert-test cache-flush bench hcl audit review preflight emulate clean

help: ## List the targets and variables
	@echo "AccessWeaver infrastructure (cdktf). Usage: make <target> [ENV=dev|staging|prod] [PHASE=<phase>]"
	@echo
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-10s %s\n", $$1, $$2}'
	@echo
	@echo "Variables:"
	@echo "  ENV            dev, staging or prod (synth, validate, rehearse: empty = all three)"
	@echo "  PHASE          network, database, cache, loadbalancer, services, observability (left out = all; given empty is refused)"
	@echo "                 built so far: $$($(OPERATOR) phases)"
	@echo "  TF             Terraform binary to use (default: terraform; e.g. TF=tofu)"
	@echo "  TF_PLUGIN_DIR  provider mirror for the offline checks (default: /opt/tf-plugins)"
	@echo "  EMULATOR_URL   emulate: an AWS API emulator already running (e.g. http://localhost:4566); default: start moto_server"
	@echo "  AUTO_APPROVE=1 apply to prod, or destroy, without the confirmation question"
	@echo "  CONFIRM        destroy in staging or prod: the exact stack(s) destroyed, e.g. CONFIRM=accessweaver-prod-network"
	@echo "                 restore-teardown: the DR stacks, last phase first (make restore-teardown ENV=x names them)"
	@echo "                 drill in prod: the experiment template, e.g. CONFIRM=accessweaver-prod-drill-db-failover"
	@echo "                 cache-flush PATTERN='*' in prod: the replication group, CONFIRM=accessweaver-prod-redis"
	@echo "  NAME, FORMAT   output: the output's name, and FORMAT=json for lists and maps (json or nothing)"
	@echo "  INIT_FLAGS     extra terraform init flags, e.g. INIT_FLAGS=-reconfigure after a backend change"
	@echo "  COMPARE        review: another environment to compare ENV with, e.g. make review ENV=staging COMPARE=prod"
	@echo "  TAG            release: the image tag to run (checked in ECR first; never latest in prod)"
	@echo "  SERVICE        release: one service (default: all); restart: the service, e.g. SERVICE=aw-pdp-service"
	@echo "  RESTORE_TIME   restore: the database's point in time, ISO 8601 UTC, e.g. 2026-12-06T21:30:00Z (default: the latest restorable time)"
	@echo "  SCENARIO       drill: db-failover, cache-failover, az-tasks or az-network"
	@echo "  PATTERN        cache-flush: the keys to delete, a Redis glob pattern, e.g. PATTERN='aw:pdp:*' ('*' alone: every key)"

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

install: ## Install the pinned dependencies (npm ci)
	npm ci --no-audit --no-fund

synth: node_modules/.package-lock.json ## Synthesize the stacks of ENV (all environments without ENV) into cdktf.out
	@$(OPERATOR) synth "$$ENV"

typecheck: node_modules/.package-lock.json ## Type-check the whole project (tsc --noEmit)
	node node_modules/typescript/bin/tsc --noEmit -p tsconfig.json

# Tests that start an outside toolchain stay out of the quick loop: the check harness's own tests run
# Terraform (the Terraform stage of make test); the cdktf CLI test starts the CLI (make test runs it).
TF_TESTS := __tests__/tf-check-terraform.test.ts __tests__/hcl-terraform.test.ts
CLI_TESTS := __tests__/cdktf-cli.test.ts
# The emulator's own tests start moto_server and Terraform (the emulate stage of make test).
EMULATE_TESTS := __tests__/emulate-terraform.test.ts

unit: node_modules/.package-lock.json ## Run the unit tests: every jest test that starts neither Terraform nor the cdktf CLI (quick loop)
	$(JEST) --testPathIgnorePatterns $(foreach t,$(TF_TESTS) $(CLI_TESTS) $(EMULATE_TESTS),'$(t)')

lint: node_modules/.package-lock.json ## Lint (ESLint: the recommended JavaScript and typescript-eslint rules) and check the formatting (Prettier)
	node node_modules/eslint/bin/eslint.js .
	node node_modules/prettier/bin/prettier.cjs --check "**/*.{ts,js,mjs}"

format: node_modules/.package-lock.json ## Format the TypeScript and JavaScript files (Prettier)
	node node_modules/prettier/bin/prettier.cjs --write "**/*.{ts,js,mjs}"

test: node_modules/.package-lock.json ## The test suite: lint and formatting, type-check, unit tests, the cdktf CLI check, the Terraform checks when Terraform is present, then make emulate ENV=dev when moto_server is
	@$(MAKE) lint
	@$(MAKE) typecheck
	@$(MAKE) unit
	@$(JEST) $(CLI_TESTS)
	@if command -v "$$TF" >/dev/null 2>&1; then \
	  $(JEST) $(TF_TESTS) && $(MAKE) validate ENV= && $(MAKE) rehearse ENV=; \
	else \
	  echo; \
	  echo "!!! SKIPPED: the Terraform checks (the harness tests, make validate, make rehearse) did not run: no '$$TF' binary on PATH."; \
	  echo "!!! Install Terraform >= 1.11 (or set TF=<binary>) to check every stack against the provider schema and rehearse a plan."; \
	fi
	@if command -v "$$TF" >/dev/null 2>&1 && command -v "$${MOTO_SERVER:-moto_server}" >/dev/null 2>&1; then \
	  $(JEST) $(EMULATE_TESTS) && $(MAKE) emulate ENV=dev; \
	else \
	  echo; \
	  echo "!!! SKIPPED: the emulated apply (the state-lock test, make emulate ENV=dev) did not run: no '$${MOTO_SERVER:-moto_server}' or no '$$TF' on PATH."; \
	  echo "!!! Install moto's server (pip install 'moto[server]') to apply every phase into an AWS API emulator and check that the second plan is empty."; \
	fi

validate: node_modules/.package-lock.json ## Type-check, synthesize (guardrails run), then terraform validate of ENV (all without ENV)
	@$(OPERATOR) check "$$ENV"
	@echo "validate: type-checking the whole project (tsc --noEmit; about 20 s on 2 cores)..."
	@$(MAKE) typecheck
	@echo "validate: synthesizing $${ENV:-every environment} and its DR environment (the guardrails run)..."
	@ACCESSWEAVER_DR=1 $(MAKE) synth
	@$(call terraform_check,validate)

rehearse: node_modules/.package-lock.json ## Offline plan rehearsal of a first apply of ENV into an empty account, and of its restore in dr_region (all without ENV)
	@$(OPERATOR) check "$$ENV"
	@ACCESSWEAVER_DR=1 $(MAKE) synth
	@$(call terraform_check,rehearse)

# terraform_check,ACTION: runs the check harness; exit 3 means no Terraform binary: say so loudly.
define terraform_check
status=0; $(TF_CHECK) $(1) $${ENV:+"$$ENV"} || status=$$?; \
if [ $$status -eq 3 ]; then echo "!!! SKIPPED: terraform $(1) (provider-schema checks) did not run: no '$$TF' binary on PATH."; \
elif [ $$status -ne 0 ]; then exit $$status; fi
endef

init: node_modules/.package-lock.json ## terraform init every phase stack of ENV (or PHASE) against its S3 backend
	@$(OPERATOR) init "$$ENV" "$$PHASE"

plan: node_modules/.package-lock.json ## Synthesize, then terraform plan each phase of ENV (or PHASE) in order, saving plans for apply
	@$(OPERATOR) plan "$$ENV" "$$PHASE"

apply: node_modules/.package-lock.json ## Apply the saved plans of ENV (or PHASE) in phase order; prod asks first unless AUTO_APPROVE=1
	@$(OPERATOR) apply "$$ENV" "$$PHASE"

deploy: node_modules/.package-lock.json ## cdktf deploy accessweaver-ENV-PHASE (for those who prefer the cdktf CLI)
	@$(OPERATOR) deploy "$$ENV" "$$PHASE"

output: node_modules/.package-lock.json ## Print a Terraform output of ENV by NAME (e.g. NAME=waf_web_acl_arn), from the stack that owns it
	@$(OPERATOR) output "$$ENV" "$$PHASE"

destroy: node_modules/.package-lock.json ## Destroy ENV (or PHASE) in reverse phase order; staging and prod need CONFIRM=<stacks>
	@$(OPERATOR) destroy "$$ENV" "$$PHASE"

drift: node_modules/.package-lock.json ## Refresh-only plan of each phase of ENV (or PHASE): does AWS still match the state?
	@$(OPERATOR) drift "$$ENV" "$$PHASE"

release: node_modules/.package-lock.json ## Release TAG to ENV (SERVICE= or all): check the images, plan and apply the services phase, record TAG in the settings, CodeDeploy the gateway
	@$(OPERATOR) release "$$ENV" "$$PHASE"

restart: node_modules/.package-lock.json ## Replace the tasks of SERVICE in ENV without a change and wait until stable (CodeDeploy for the blue/green gateway)
	@$(OPERATOR) restart "$$ENV" "$$PHASE"

db-roles: node_modules/.package-lock.json ## Create or put back the services' database roles in ENV (IAM auth): runs the services phase's one-off psql task, waits, reports its exit code
	@$(OPERATOR) db-roles "$$ENV" "$$PHASE"

restore: node_modules/.package-lock.json ## Stand ENV up in its dr_region from the recovery phase's copies [RESTORE_TIME=], phase by phase, then switch its DNS (docs/restore.md)
	@$(OPERATOR) restore "$$ENV" "$$PHASE"

restore-teardown: node_modules/.package-lock.json ## Destroy ENV's DR environment (a drill's, or after failback), last phase first; needs CONFIRM=<stacks>
	@$(OPERATOR) restore-teardown "$$ENV" "$$PHASE"

drill: node_modules/.package-lock.json ## Run the FIS failover drill SCENARIO in ENV, follow it, report the time to recover against the guide's RTO (prod: CONFIRM=<template>)
	@$(OPERATOR) drill "$$ENV" "$$PHASE"

alert-test: node_modules/.package-lock.json ## Send a [TEST] notification on each alerts topic of ENV, cycle one alarm through ALARM, report unconfirmed subscriptions
	@$(OPERATOR) alert-test "$$ENV" "$$PHASE"

cache-flush: node_modules/.package-lock.json ## Delete the Redis keys of ENV matching PATTERN (cluster mode, TLS, AUTH) with the one-off cache client task, report its exit code and output
	@$(OPERATOR) cache-flush "$$ENV" "$$PHASE"

hcl: node_modules/.package-lock.json ## Synthesize ENV with each stack's HCL rendering beside its JSON (cdk.hcl)
	@ACCESSWEAVER_HCL=1 $(OPERATOR) synth "$$ENV"

audit: node_modules/.package-lock.json ## Print ENV's guardrail report (every rule and resource) and write cdktf.out/audit/ENV.md; fails on a violation in staging or prod
	@$(OPERATOR) check "$$ENV"
	@$(REVIEW) audit "$$ENV"

review: node_modules/.package-lock.json ## Write cdktf.out/review/ENV.md: addresses, settings, guardrails, security groups, cost, diagram, plan [COMPARE=env]
	@$(OPERATOR) check "$$ENV"
	@ACCESSWEAVER_HCL=1 ACCESSWEAVER_DR=1 $(OPERATOR) synth "$$ENV"
	@if [ -n "$$COMPARE" ]; then ACCESSWEAVER_DR=1 $(OPERATOR) synth "$$COMPARE"; fi
	@$(REVIEW) review "$$ENV" "$$COMPARE"

preflight: node_modules/.package-lock.json ## Read-only check of ENV's prerequisites: credentials, backend, DNS, quotas, images, existing names, the account's trail, scanning and budget
	@$(OPERATOR) check "$$ENV"
	@$(MAKE) synth
	@$(TS_NODE) scripts/preflight.ts "$$ENV"

emulate: node_modules/.package-lock.json ## Apply every phase of ENV into an AWS API emulator (moto_server, or EMULATOR_URL) and plan again, then rehearse a release of the services phase and plan again: every plan after an apply must be empty apart from the allow-list
	@if [ -z "$$ENV" ]; then echo "make emulate needs ENV=dev, staging or prod" >&2; exit 2; fi
	@$(OPERATOR) check "$$ENV"
	@$(MAKE) synth
	@status=0; $(EMULATE) "$$ENV" || status=$$?; \
	if [ $$status -eq 3 ]; then echo "!!! SKIPPED: make emulate ENV=$$ENV did not run (no Terraform, or no moto_server and no EMULATOR_URL): nothing was applied."; \
	elif [ $$status -ne 0 ]; then exit $$status; fi

bench: node_modules/.package-lock.json ## Time synth (against cdktf synth) and the tests; writes bench/results.md
	bench/run.sh

# The project's caches (docs/checks.md, "Caches"), and the folders of caches that earlier versions of
# the project kept there (a V8 code cache, module lookups, reused synths), which nothing reads any more.
CACHES := $(addprefix node_modules/.cache/accessweaver-,ts settings test-synth v8 resolve synth)

clean: ## Empty the project's caches (transpiled code, parsed settings, the tests' synths); cdktf.out is left alone
	@removed=0; for dir in $(CACHES); do \
	  if [ -e "$$dir" ]; then echo "removed $$dir ($$(du -sh "$$dir" | cut -f1))"; rm -rf "$$dir"; removed=1; fi; \
	done; \
	if [ $$removed -eq 0 ]; then echo "no cache to remove"; fi
