# AccessWeaver infrastructure: the operator's entry point. `make` or `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# cdktf otherwise calls its telemetry host on every run.
export CHECKPOINT_DISABLE := 1

ENVIRONMENTS := dev staging prod
# ENV: dev, staging or prod (empty: all, where a target allows it).
ENV ?=
# PHASE: one phase of the environment (empty: all, in phase order).
PHASE ?=
# TF: the Terraform binary (terraform, tofu, ...).
TF ?= terraform
# TF_PLUGIN_DIR: local provider mirror used by the offline checks when it exists.
TF_PLUGIN_DIR ?= /opt/tf-plugins
OUTDIR ?= cdktf.out

# The app command, the same as cdktf.json's "app", run directly (no cdktf CLI start-up).
APP := node -r sucrase/register main.ts
JEST := node node_modules/jest/bin/jest.js

ifneq ($(strip $(ENV)),)
ifeq ($(filter $(ENV),$(ENVIRONMENTS)),)
$(error Unknown ENV "$(ENV)". Valid environments: $(ENVIRONMENTS))
endif
endif

.PHONY: help install synth typecheck unit test validate rehearse bench

help: ## List the targets and variables
	@echo "AccessWeaver infrastructure (cdktf). Usage: make <target> [ENV=dev|staging|prod] [PHASE=<phase>]"
	@echo
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-10s %s\n", $$1, $$2}'
	@echo
	@echo "Variables:"
	@echo "  ENV            dev, staging or prod (synth, validate, rehearse: empty = all three)"
	@echo "  PHASE          network, database, cache, loadbalancer, services, observability (empty = all)"
	@echo "  TF             Terraform binary to use (default: terraform; e.g. TF=tofu)"
	@echo "  TF_PLUGIN_DIR  provider mirror for the offline checks (default: /opt/tf-plugins)"

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

install: ## Install the pinned dependencies (npm ci)
	npm ci --no-audit --no-fund

synth: node_modules/.package-lock.json ## Synthesize the stacks of ENV (all environments without ENV) into cdktf.out
	@CDKTF_OUTDIR=$(OUTDIR) ACCESSWEAVER_ENV=$(ENV) $(APP)

typecheck: node_modules/.package-lock.json ## Type-check the whole project (tsc --noEmit)
	node node_modules/typescript/bin/tsc --noEmit -p tsconfig.json

unit: node_modules/.package-lock.json ## Run the unit tests only (quick loop)
	$(JEST)

test: node_modules/.package-lock.json ## The test suite: type-check, unit tests, then the Terraform checks when Terraform is present
	@$(MAKE) typecheck
	@$(MAKE) unit
