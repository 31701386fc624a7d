# AccessWeaver infrastructure: the operator's entry point. `make` or `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# cdktf otherwise calls its telemetry host on every run.
export CHECKPOINT_DISABLE := 1

ENVIRONMENTS := dev staging prod
comma := ,
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

# The app command, the same as cdktf.json's "app", run directly (no cdktf CLI start-up).
APP := node -r sucrase/register main.ts
JEST := node node_modules/jest/bin/jest.js
TF_CHECK := node -r sucrase/register scripts/tf-check.ts
REVIEW := node -r sucrase/register scripts/review.ts
OPERATOR := node -r sucrase/register scripts/operator.ts
# What the operator targets read besides ENV and PHASE (see `make help`).
OPERATOR_ENV := CDKTF_OUTDIR=$(OUTDIR) TF=$(TF) AUTO_APPROVE=$(AUTO_APPROVE) CONFIRM=$(CONFIRM) NAME=$(NAME) FORMAT=$(FORMAT) INIT_FLAGS="$(INIT_FLAGS)"

ifneq ($(strip $(ENV)),)
ifeq ($(filter $(ENV),$(ENVIRONMENTS)),)
$(error Unknown ENV "$(ENV)". Valid environments: $(ENVIRONMENTS))
endif
endif

.PHONY: help install synth typecheck unit test validate rehearse init plan apply deploy output destroy bench hcl audit review preflight

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
	@echo "  AUTO_APPROVE=1 apply to prod (or destroy outside prod) without the confirmation question"
	@echo "  CONFIRM        destroy in prod: the exact stack(s) destroyed, e.g. CONFIRM=accessweaver-prod-network"
	@echo "  NAME, FORMAT   output: the output's name, and FORMAT=json for lists and maps"
	@echo "  INIT_FLAGS     extra terraform init flags, e.g. INIT_FLAGS=-reconfigure after a backend change"

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
	@if command -v $(TF) >/dev/null 2>&1; then \
	  $(MAKE) validate ENV= && $(MAKE) rehearse ENV=; \
	else \
	  echo; \
	  echo "!!! SKIPPED: the Terraform checks (make validate, make rehearse) did not run: no '$(TF)' binary on PATH."; \
	  echo "!!! Install Terraform >= 1.10 (or set TF=<binary>) to check every stack against the provider schema and rehearse a plan."; \
	fi

validate: node_modules/.package-lock.json ## Type-check, synthesize (guardrails run), then terraform validate of ENV (all without ENV)
	@$(MAKE) typecheck
	@$(MAKE) synth
	@$(call terraform_check,validate)

rehearse: node_modules/.package-lock.json ## Offline plan rehearsal of a first apply of ENV into an empty account (all without ENV)
	@$(MAKE) synth
	@$(call terraform_check,rehearse)

# terraform_check,ACTION: runs the check harness; exit 3 means no Terraform binary: say so loudly.
define terraform_check
status=0; CDKTF_OUTDIR=$(OUTDIR) TF=$(TF) TF_PLUGIN_DIR=$(TF_PLUGIN_DIR) $(TF_CHECK) $(1) $(ENV) || status=$$?; \
if [ $$status -eq 3 ]; then echo "!!! SKIPPED: terraform $(1) (provider-schema checks) did not run: no '$(TF)' binary on PATH."; \
elif [ $$status -ne 0 ]; then exit $$status; fi
endef

init: node_modules/.package-lock.json ## terraform init every phase stack of ENV (or PHASE) against its S3 backend
	@$(OPERATOR_ENV) $(OPERATOR) init "$(ENV)" "$(PHASE)"

plan: node_modules/.package-lock.json ## Synthesize, then terraform plan each phase of ENV (or PHASE) in order, saving plans for apply
	@$(OPERATOR_ENV) $(OPERATOR) plan "$(ENV)" "$(PHASE)"

apply: node_modules/.package-lock.json ## Apply the saved plans of ENV (or PHASE) in phase order; prod asks first unless AUTO_APPROVE=1
	@$(OPERATOR_ENV) $(OPERATOR) apply "$(ENV)" "$(PHASE)"

deploy: node_modules/.package-lock.json ## cdktf deploy accessweaver-ENV-PHASE (for those who prefer the cdktf CLI)
	@$(OPERATOR_ENV) $(OPERATOR) deploy "$(ENV)" "$(PHASE)"

output: node_modules/.package-lock.json ## Print a Terraform output of ENV by NAME (e.g. NAME=waf_web_acl_arn), from the stack that owns it
	@$(OPERATOR_ENV) $(OPERATOR) output "$(ENV)" "$(PHASE)"

destroy: node_modules/.package-lock.json ## Destroy ENV (or PHASE) in reverse phase order; prod needs CONFIRM=<stacks>
	@$(OPERATOR_ENV) $(OPERATOR) destroy "$(ENV)" "$(PHASE)"

bench: node_modules/.package-lock.json ## Time synth (against cdktf synth) and the tests; writes bench/results.md
	bench/run.sh

hcl: node_modules/.package-lock.json ## Synthesize ENV with each stack's HCL rendering beside its JSON (cdk.hcl)
	@CDKTF_OUTDIR=$(OUTDIR) ACCESSWEAVER_ENV=$(ENV) ACCESSWEAVER_HCL=1 $(APP)

audit: node_modules/.package-lock.json ## Run the guardrails over ENV's synthesized JSON and print the results
	@$(MAKE) synth
	@CDKTF_OUTDIR=$(OUTDIR) $(REVIEW) audit "$(ENV)"

review: node_modules/.package-lock.json ## Write cdktf.out/review/ENV.md: addresses, settings, guardrails, security groups, cost, diagram, plan [COMPARE=env]
	@CDKTF_OUTDIR=$(OUTDIR) ACCESSWEAVER_ENV="$(ENV)$(if $(strip $(COMPARE)),$(comma)$(COMPARE))" ACCESSWEAVER_HCL=1 $(APP)
	@CDKTF_OUTDIR=$(OUTDIR) TF=$(TF) $(REVIEW) review "$(ENV)" "$(COMPARE)"

preflight: node_modules/.package-lock.json ## Read-only check of ENV's prerequisites: credentials, backend, DNS, quotas, images, existing names
	@$(MAKE) synth
	@CDKTF_OUTDIR=$(OUTDIR) node -r sucrase/register scripts/preflight.ts "$(ENV)"
