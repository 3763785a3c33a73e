# Plexus: `make run` starts the suite, `make test` checks it; `make help` lists the rest.
# Tools run as `.venv/bin/python -m ...`, which keeps working even when the scripts'
# #! lines point at another checkout's .venv.
SHELL := bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# Written after a successful install; pip runs again only when the lock is newer.
INSTALLED := $(VENV)/.installed
# kubectl, for `kubectl kustomize` over deploy/k8s in the tests (deploy/k8s/kubectl.lock).
KUBECTL := $(VENV)/bin/kubectl
# Every dependency pinned with its hashes (make lock writes both from pyproject.toml):
# the tests' and development's, and the image's (the driver built from source).
TEST_LOCK := requirements-test.lock
IMAGE_LOCK := requirements.lock
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links
PYTEST_ARGS ?=

.PHONY: help venv install lock system-packages run test lint migrate bench clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-8s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml $(TEST_LOCK) | $(PY)
	$(PY) -m pip install --require-hashes -r $(TEST_LOCK)
	$(PY) -m pip install --no-deps -e .
	@touch $@

$(KUBECTL): deploy/k8s/kubectl.lock scripts/install_kubectl.py | $(PY)
	$(PY) scripts/install_kubectl.py $@

venv: $(INSTALLED) $(KUBECTL) ## Create .venv (Python 3.11), install Plexus and its test tools
install: venv

lock: $(INSTALLED) ## Re-pin every dependency with hashes after a change to pyproject.toml
	$(PY) -m piptools compile $(LOCK_FLAGS) --extra test -o $(TEST_LOCK) pyproject.toml
	$(PY) -m piptools compile $(LOCK_FLAGS) --extra postgres -c $(TEST_LOCK) -o $(IMAGE_LOCK) \
		pyproject.toml

run: $(INSTALLED) ## Migrate and start every service (needs RabbitMQ: PLEXUS_AMQP_URI)
	$(PY) -m ops.cli run

system-packages: ## Install the Debian packages the tests need (RabbitMQ, PostgreSQL, prometheus, wrk, Chromium)
	@bash scripts/system-packages.sh

test: lint system-packages $(KUBECTL) ## lint, then all tests (need RabbitMQ and PostgreSQL); PYTEST_ARGS=...
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED) ## ruff over the whole tree; the import layers and types (pyproject.toml)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) $(VENV)/bin/lint-imports --no-cache
	$(PY) -m mypy

migrate: $(INSTALLED) ## Bring every service's database to its newest schema
	$(PY) -m ops.cli migrate

bench: $(INSTALLED) system-packages ## Run the benchmarks (minutes); tables go to bench/results.md
	$(PY) -m bench.rpc_roundtrip --record
	$(PY) -m bench.gateway_lookup --record
	$(PY) -m bench.batch_import --record
	$(PY) -m bench.fanout --record
	$(PY) -m bench.propagation --contacts 5000 --events 10000 --record
	$(PY) -m bench.activity_feed --rows 1000000 --record
	$(PY) -m bench.segments
	$(PY) -m bench.hostile_rules --record
	$(PY) -m bench.senders --record
	$(PY) -m bench.queue_batch --record
	$(PY) -m bench.campaigns --record
	$(PY) -m bench.workflows --record

clean: ## Delete var/ (the SQLite data), caches and test artifacts; keeps .venv
	rm -rf var artifacts .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
