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

run: setup ## set-up, simulate when there is no input, then the chain on it
	@$(PY) -m acq_spark.has_input $(JOB_ARGS) || $(PY) jobs/simulate.py $(JOB_ARGS)
	$(PY) jobs/validate.py $(JOB_ARGS)

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
