# veteran-services: local development. `make` (or `make help`) lists the targets.
# Service start/stop logic lives in scripts/services.sh.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV       := .venv
PY         := $(VENV)/bin/python
VETCTL     := $(VENV)/bin/vetctl
STAMP      := $(VENV)/.installed
SERVICES   ?= registry loans jobs training followup
PYTEST_ARGS ?=
BENCH_ARGS ?=
# Processes per service for run/up/demo (scripts/services.sh: ports per replica).
REPLICAS   ?= 1

# eventlet and pkg_resources warn noisily at import time: silence them in every
# python / nameko / vetctl / pytest process started from here. Inside a pytest run the
# filterwarnings of pyproject.toml come first ("error", and a few justified ignores), so a
# warning raised while a test (or conftest, or collection) runs still fails it; these only
# quiet pytest's plugin imports and the processes tests start.
export PYTHONWARNINGS := ignore::DeprecationWarning,ignore::UserWarning
# eventlet's own "Eventlet is deprecated" banner is an EventletDeprecationWarning, a direct
# subclass of Warning that the filters above do not catch (and naming it in PYTHONWARNINGS
# would import eventlet at interpreter start). In eventlet 0.41.3 (pinned) EVENTLET_TESTS
# does exactly one thing: skip that banner.
export EVENTLET_TESTS := 1
export SERVICES REPLICAS

.PHONY: help venv lock run up down test check bench migrate demo clean wheels image deploy-check \
	cluster-up cluster-down cluster-status cluster-check chaos chaos-ci

help: ## list the targets
	@echo "veteran-services: make <target>   (SERVICES=\"$(SERVICES)\")"
	@grep -E '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) \
		| sed -E 's/^([^:]+):.*## (.*)/\1\t\2/' \
		| while IFS=$$'\t' read -r target text; do printf '  %-14s %s\n' "$$target" "$$text"; done

venv: $(STAMP) ## create .venv (python3.11) and install the project pinned by requirements.lock

# Reuses an existing .venv; reinstalls only when pyproject.toml or requirements.lock change.
$(STAMP): pyproject.toml requirements.lock
	@if [ ! -x $(PY) ] || ! $(PY) -c '' 2>/dev/null; then \
		python=$$(command -v python3.11 || command -v python3) \
			|| { echo "venv: neither python3.11 nor python3 found" >&2; exit 1; }; \
		echo "venv: creating $(VENV) with $$python ($$($$python --version 2>&1))"; \
		$$python -m venv $(VENV); \
	fi
	$(VENV)/bin/pip install --quiet -c requirements.lock -e ".[test,deploy,check]"
	@touch $@

# Resolves pyproject.toml in a throwaway venv (so nothing installed by hand in .venv leaks
# into the lock), then pins what got installed. Transitive pins may move: review the diff.
lock: ## re-pin requirements.lock from pyproject.toml in a throwaway venv
	@rm -rf .local/lock-venv && mkdir -p .local
	@python=$$(command -v python3.11 || command -v python3) && $$python -m venv .local/lock-venv
	.local/lock-venv/bin/pip install --quiet -e ".[test,deploy,check]"
	@{ sed -n '/^#/p' requirements.lock; \
	   .local/lock-venv/bin/pip freeze --all --exclude-editable 2>/dev/null | grep -v '^pip=='; \
	 } > requirements.lock.new && mv requirements.lock.new requirements.lock
	@rm -rf .local/lock-venv
	@echo "lock: requirements.lock rewritten; review it with git diff, then make venv"

run: venv ## check servers, migrate, run every service in the foreground (Ctrl-C stops all)
	@scripts/services.sh run $(SERVICES)

up: venv ## check, migrate, start every service (REPLICAS=N processes each) in the background, wait for /readyz
	@scripts/services.sh up $(SERVICES)

down: ## stop the services `make up` started (pid files in .local/pids)
	@scripts/services.sh down

# pytest exits 5 when it ran no test. That is success only when the run asked for a
# selection (-k or -m in PYTEST_ARGS) that may match nothing; otherwise a suite or a path
# that collects nothing is an error, not a green run.
test: venv ## run pytest (args: PYTEST_ARGS="..."; needs RabbitMQ + management plugin, PostgreSQL)
	@$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then \
		if [ -n "$(filter -k% -m%,$(PYTEST_ARGS))" ]; then \
			echo "test: the -k/-m selection matched no tests (pytest exit 5): success"; exit 0; \
		fi; \
		echo "test: pytest collected no tests (exit 5) and PYTEST_ARGS selects none (-k/-m):" \
			"a run that tests nothing fails" >&2; \
	fi; \
	exit $$status

check: venv ## ruff (lint, and format --check) over everything, mypy over services, shared, vetctl
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

DEMO_VETERANS ?= 300
demo: venv ## bring the system up, fill it with demo data (DEMO_VETERANS=300), print the report
	@scripts/services.sh up $(SERVICES)
	@$(VETCTL) demo --veterans $(DEMO_VETERANS)
	@$(VETCTL) report

bench: venv ## check, migrate, run bench/bench.py (args: BENCH_ARGS="...")
	@$(VETCTL) check
	@$(VETCTL) migrate
	$(PY) bench/bench.py $(BENCH_ARGS)

migrate: venv ## apply every service's migrations and declare its queues
	@$(VETCTL) migrate

# The image (deploy/Dockerfile): one for every service and vetctl. pip inside a build may
# have no index (or no trusted CA): the wheelhouse is built here from requirements.lock and
# the build installs from it alone. BASE_IMAGE: python:3.11-slim-bookworm or any Debian
# bookworm (python3 from apt); deploy-check uses a local debootstrap import.
# Tagged with the project's version (pyproject.toml), the tag deploy/k8s and compose pin.
VERSION      := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
IMAGE        ?= veteran-services:$(VERSION)
BASE_IMAGE   ?= python:3.11-slim-bookworm
WHEELHOUSE   := .local/wheels
DOCKER       ?= docker
# SOURCE_DATE_EPOCH (the last commit's time) makes the project's wheel the same bytes for
# the same files, so an unchanged tree rebuilds the image from cache.
wheels: venv ## build the wheelhouse (.local/wheels) from requirements.lock, for make image
	@rm -rf $(WHEELHOUSE) && mkdir -p $(WHEELHOUSE)
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 315532800) \
		$(VENV)/bin/pip wheel --quiet -c requirements.lock -w $(WHEELHOUSE) .
	@rm -rf build

image: wheels ## build the image IMAGE (deploy/Dockerfile; BASE_IMAGE=... to change the base)
	$(DOCKER) build --network host --pull=false -f deploy/Dockerfile \
		--build-arg BASE_IMAGE=$(BASE_IMAGE) -t $(IMAGE) .

# Needs root (apt, dockerd) and the machine's RabbitMQ and PostgreSQL; about 2 min once the
# base image is cached (docs/deploy.md). Tests: tests/deploy (marker deploy).
deploy-check: venv ## build the image on a dockerd of its own (host networking); test it and compose
	@scripts/deploy-check.sh

# A 3-node RabbitMQ cluster (AMQP 5701-5703) and a PostgreSQL 15 primary (5441) with a
# streaming replica (5442), beside the machine's own servers, under .local/cluster
# (docs/deploy.md, "A local cluster"). Needs root. Logic in scripts/cluster.sh.
cluster-up: ## start a local 3-node RabbitMQ cluster + PostgreSQL primary/replica, print the URLs
	@scripts/cluster.sh up

cluster-down: ## stop and remove everything cluster-up made
	@scripts/cluster.sh down

cluster-status: ## the cluster's nodes and the PostgreSQL roles
	@scripts/cluster.sh status

# The tests kill a node and promote the replica, so the cluster is taken down afterwards
# whatever the result. Tests: tests/cluster (marker cluster, skipped without CLUSTER_UP=1).
cluster-check: venv ## cluster-up, run tests/cluster against it, cluster-down
	@scripts/cluster.sh up || { scripts/cluster.sh down; exit 1; }; \
	CLUSTER_UP=1 $(PY) -m pytest -m cluster tests/cluster $(PYTEST_ARGS); status=$$?; \
	scripts/cluster.sh down; exit $$status

clean: ## stop what `make up` started, remove .venv and .local
	@scripts/services.sh down
	rm -rf $(VENV) .local

# The fault suite (tests/chaos, docs/reliability.md): the services with REPLICAS processes
# each on the local cluster, under load, one fault at a time, checked from the databases.
# Needs root. The cluster stays up afterwards (make cluster-down). Not part of make test.
CHAOS_ARGS ?=
chaos: venv ## the fault suite on the local cluster, every scenario (args: CHAOS_ARGS="...")
	@scripts/cluster.sh up >/dev/null
	$(PY) -m tests.chaos.run $(CHAOS_ARGS)

chaos-ci: venv ## the reduced fault suite CI runs: one scenario of each kind, 2,000 operations
	@scripts/cluster.sh up >/dev/null
	$(PY) -m tests.chaos.run --scenarios ci --operations 2000 $(CHAOS_ARGS)
