# acq-spark — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
JARS := .jars/MANIFEST
CONFIG ?= conf/local.yaml
SET ?=
# `make run SET="--set simulate.n_pairs=20000"` passes overrides to every job.
JOB_ARGS := --config $(CONFIG) $(SET)

.DEFAULT_GOAL := help
.PHONY: help setup run simulate validate test test-slow test-all lint bench clean
.PHONY: cluster-up cluster-submit cluster-down cluster-local-up cluster-local-submit cluster-local-down

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11) on PATH"; exit 1; }
	@command -v java >/dev/null || { echo "need a Java 17+ runtime (java) on PATH for Spark"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

$(JARS): $(STAMP)
	$(PY) -m acq_spark.jars

setup: $(STAMP) $(JARS) ## virtualenv + package + Delta jars in the local cache (idempotent, quick when done)
	@$(PY) -c "from acq_spark.jars import local_delta_jars; local_delta_jars()" || { rm -f $(JARS); $(MAKE) $(JARS); }

simulate: setup ## write the simulated world (creative_daily + truth) into the warehouse
	$(PY) jobs/simulate.py $(JOB_ARGS)

validate: setup ## validate creative_daily and print its summary
	$(PY) jobs/validate.py $(JOB_ARGS)

run: setup ## set-up, simulate when there is no input, then the nightly chain; prints the report path
	@$(PY) -m acq_spark.has_input $(JOB_ARGS) || $(PY) jobs/simulate.py $(JOB_ARGS)
	$(PY) jobs/nightly.py $(JOB_ARGS)

test: setup ## the default test suite (what CI runs)
	$(PY) -m pytest -m "not slow" -q

test-slow: setup ## the slow tests only (large data, long runs)
	$(PY) -m pytest -m slow -q

test-all: setup ## every test, slow ones included
	$(PY) -m pytest -q

lint: setup ## ruff over the code
	$(VENV)/bin/ruff check acq_spark jobs models tests benchmarks

bench: setup ## the benchmarks of BENCHMARKS.md (long: tens of minutes)
	$(PY) benchmarks/run_all.py

clean: ## remove the warehouse and caches (keeps the virtualenv and jars)
	rm -rf warehouse spark-warehouse .pytest_cache .hypothesis

# --- Spark standalone cluster: in Docker (docker-compose.yml) or as local JVMs (python -m acq_spark.cluster) ---
# `make cluster-submit JOB=simulate SET="--set simulate.n_pairs=20000"`; JOB names jobs/<JOB>.py.
JOB ?= nightly
COMPOSE := ACQ_UID=$$(id -u) ACQ_GID=$$(id -g) docker compose
CONTAINER_PYSPARK := /opt/acq-python/venv/lib/python3.11/site-packages/pyspark
CONTAINER_JARS = $(shell sed 1d $(JARS) | sed 's|^|/opt/acq/.jars/|' | paste -sd, -)

cluster-up: ## start the Docker Spark cluster: master spark://localhost:7077 (UI :8080) + 2 workers
	$(COMPOSE) up -d

# The driver runs in the master's container (client mode), where paths and Python match the executors'.
cluster-submit: setup ## spark-submit jobs/<JOB>.py (JOB=nightly) to the Docker cluster with conf/cluster.yaml
	$(COMPOSE) exec spark-master /opt/entrypoint.sh $(CONTAINER_PYSPARK)/bin/spark-submit \
		--master spark://spark-master:7077 --jars $(CONTAINER_JARS) \
		jobs/$(JOB).py --config conf/cluster.yaml $(SET)

cluster-down: ## stop and remove the Docker cluster (the installed Python stays in the acq-python volume)
	$(COMPOSE) down

cluster-local-up: setup ## start a standalone master + 2 worker JVMs on 127.0.0.1 (no Docker needed)
	$(PY) -m acq_spark.cluster start

cluster-local-submit: setup ## spark-submit jobs/<JOB>.py to the cluster-local-up cluster (CONFIG, SET apply)
	$(PY) -m acq_spark.cluster submit $(JOB) $(JOB_ARGS)

cluster-local-down: ## stop every JVM that cluster-local-up started
	$(PY) -m acq_spark.cluster stop
