# acq-spark — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# uv installs from its cache by hard links: a fresh venv in ~40 s where pip takes ~200 s (BENCHMARKS.md)
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed
# pyspark is published as a source distribution only, and uv builds it again (about 1 min, 1.4 GB of its cache)
# whenever its HTTP cache revalidates: every fresh clone did, twice (the venv and dist/'s environment). Its wheel
# is built once per machine into this folder, where every uv install here finds it first.
WHEELHOUSE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/acq-spark/wheels
export UV_FIND_LINKS := $(WHEELHOUSE)
PYSPARK_PIN := $(shell grep -m1 '^pyspark==' constraints.txt)
JARS := .jars/MANIFEST
CONFIG ?= conf/local.yaml
SET ?=
# `make run SET="--set simulate.n_pairs=20000"` passes overrides to every job.
JOB_ARGS := --config $(CONFIG) $(SET)

.DEFAULT_GOAL := help
.PHONY: help setup dist run evaluate-models simulate validate backfill closed-loop maintain unlock test test-slow test-all lint bench clean
.PHONY: cluster-image cluster-up cluster-submit cluster-down cluster-local-up cluster-local-submit cluster-local-down
.PHONY: docker-engine-down compose-test

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11) on PATH"; exit 1; }
	@command -v java >/dev/null || { echo "need a Java 17+ runtime (java) on PATH for Spark"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt uv
	@ls $(WHEELHOUSE)/pyspark-$(PYSPARK_PIN:pyspark==%=%)-*.whl >/dev/null 2>&1 || { mkdir -p $(WHEELHOUSE) \
		&& tmp=$$(mktemp -d $(WHEELHOUSE)/.build-XXXXXX) \
		&& $(PY) -m pip wheel -q --disable-pip-version-check --no-deps -w $$tmp '$(PYSPARK_PIN)' \
		&& mv $$tmp/*.whl $(WHEELHOUSE)/ && rmdir $$tmp; }
	$(UV) pip install -q --python $(PY) -c constraints.txt -e '.[dev]'
	touch $(STAMP)

$(JARS): $(STAMP)
	$(PY) -m acq_spark.platform.jars

setup: $(STAMP) $(JARS) ## virtualenv + package + Delta's and hadoop-aws's jars in the local cache (idempotent, quick when done)
	@$(PY) -c "from acq_spark.platform.jars import local_delta_jars as d, local_s3a_jars as s; d(); s()" || { rm -f $(JARS); $(MAKE) $(JARS); }

# What a cluster needs besides Java, Spark and Python 3.11 (acq_spark/cluster/dist.py): rebuilt when the code or pins change.
DIST := dist/MANIFEST.json
DIST_SOURCES := pyproject.toml constraints.txt $(shell find acq_spark -name '*.py' -o -name '*.yaml' -o -name '*.properties' 2>/dev/null)
DIST_PYTHON_PREFIX ?=
$(DIST): $(JARS) $(DIST_SOURCES)
	$(PY) -m acq_spark.cluster.dist $(if $(DIST_PYTHON_PREFIX),--python-prefix $(DIST_PYTHON_PREFIX))

dist: setup $(DIST) ## dist/: the environment archive (venv-pack), Delta's and s3a's jars, log4j file (DIST_PYTHON_PREFIX=/usr for the hosts' Python)

simulate: setup ## write the simulated world (creative_daily + truth); refuses over existing data (SET=--force replaces it)
	$(PY) jobs/simulate.py $(JOB_ARGS)

validate: setup ## validate creative_daily and print its summary
	$(PY) jobs/validate.py $(JOB_ARGS)

run: setup ## set-up, simulate when there is no input, then the nightly chain; prints the report path
	@$(PY) -m acq_spark.ingest.presence $(JOB_ARGS) || $(PY) jobs/simulate.py $(JOB_ARGS)
	$(PY) jobs/nightly.py $(JOB_ARGS)

evaluate-models: setup ## Table 2 on demand: every UBTM variant and baseline on the last features' data (after make run)
	$(PY) jobs/evaluate_models.py $(JOB_ARGS)

backfill: setup ## the nightly for each day FROM..TO (YYYY-MM-DD), in order; published days are skipped (SET=--force)
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD [SET=--force]"; exit 2; }
	$(PY) jobs/backfill.py --from $(FROM) --to $(TO) $(JOB_ARGS)

closed-loop: setup ## N nights on the simulated world: the nightly decides a day, the world logs it (NIGHTS=3, after make run)
	@test -n "$(NIGHTS)" || { echo "usage: make closed-loop NIGHTS=N [CONFIG=...] [SET=...]"; exit 2; }
	$(PY) jobs/closed_loop.py --nights $(NIGHTS) $(JOB_ARGS)

maintain: setup ## Delta maintenance of every warehouse table: retention properties, OPTIMIZE (Z-order), VACUUM
	$(PY) jobs/maintain.py $(JOB_ARGS)

unlock: $(STAMP) ## delete the lock claim of run RUN a crashed run left; refuses while its heartbeat is fresh
	@test -n "$(RUN)" || { echo "usage: make unlock RUN=<run id> [CONFIG=...] [SET=...]"; exit 2; }
	$(PY) -m acq_spark.pipeline.unlock --run-id $(RUN) $(JOB_ARGS)

# Two workers on two cores: the suite waits more than it computes (JVM and TensorFlow start-up, the cluster's
# applications), and a module's tests stay on one worker (tests/conftest.py schedules them; BENCHMARKS.md).
# --no-loadscope-reorder: modules in collection order, so the cluster's (the longest) starts among the first
XDIST := -n 2 --no-loadscope-reorder
test: setup $(DIST) ## the default test suite (what CI runs; builds dist/ for the cluster tests)
	$(PY) -m pytest -m "not slow and not compose" -q --durations=15 $(XDIST)

test-slow: setup $(DIST) ## the slow tests only (large data, long runs)
	$(PY) -m pytest -m slow -q $(XDIST)

test-all: setup $(DIST) ## every test, slow ones included (the Docker cluster's: make compose-test)
	$(PY) -m pytest -m "not compose" -q $(XDIST)

lint: setup ## ruff over the code, mypy over the package (its settings: pyproject.toml)
	$(VENV)/bin/ruff check acq_spark jobs tests benchmarks deploy
	$(VENV)/bin/mypy

bench: setup ## the benchmarks of BENCHMARKS.md (long: tens of minutes)
	$(PY) benchmarks/run_all.py

clean: ## remove the warehouse and caches (keeps the virtualenv, jars and dist/)
	rm -rf warehouse spark-warehouse .pytest_cache .hypothesis

# --- Spark standalone cluster: in Docker (Dockerfile, docker-compose.yml) or as local JVMs (python -m acq_spark.cluster) ---
# `make cluster-submit JOB=simulate SET="--set simulate.n_pairs=20000"`; JOB names jobs/<JOB>.py.
JOB ?= nightly
# compose v2 or v1, whichever is installed; engine-up starts dockerd by hand where none answers (no systemd)
DOCKER_CLI := $(PY) -m acq_spark.cluster.docker
COMPOSE := $(DOCKER_CLI) compose
# local: the base image built here (debootstrap); where a registry is reachable, e.g.
# SPARK_IMAGE=apache/spark:4.2.0-scala2.13-java17-python3-ubuntu
SPARK_IMAGE ?= local
DIST_DOCKER := dist/docker/MANIFEST.json
S3SERVER := dist/s3server/.installed

$(DIST_DOCKER): $(JARS) $(DIST_SOURCES)
	$(PY) -m acq_spark.cluster.dist --out dist/docker --python-prefix /usr

# moto's S3 server for the compose's S3 service (the S3 backend and the server's Flask only: 115 MB, not
# moto[server]'s every backend), pinned by constraints.txt, run by the image's /usr/bin/python3.11
$(S3SERVER): constraints.txt
	rm -rf dist/s3server
	$(PY) -m pip install -q --disable-pip-version-check --target dist/s3server -c constraints.txt 'moto[s3]' flask flask-cors
	touch $(S3SERVER)

cluster-image: setup $(DIST_DOCKER) $(S3SERVER) ## the base image (once; SPARK_IMAGE=local) and the project image; starts dockerd if needed
	$(DOCKER_CLI) engine-up $(if $(filter local,$(SPARK_IMAGE)),,--no-debootstrap)
	$(DOCKER_CLI) image --spark-image $(SPARK_IMAGE)

cluster-up: ## start the Docker Spark cluster (after cluster-image) with its S3 server on 127.0.0.1:9000
	$(DOCKER_CLI) up

# The driver runs in the master's container (client mode), submitted as on any cluster (archive, jars).
cluster-submit: ## submit jobs/<JOB>.py (JOB=nightly; JOB=simulate first) to the Docker cluster with conf/cluster.yaml
	$(COMPOSE) exec -T spark-master /opt/acq/driver-env/bin/python -m acq_spark.cluster submit --dist /opt/acq/dist \
		--master spark://spark-master:7077 --driver-memory 2g --executor-memory 2g \
		/opt/acq/jobs/$(JOB).py --config /opt/acq/conf/cluster.yaml $(SET)

cluster-down: ## remove the Docker cluster (containers, networks, volumes); the engine keeps running
	$(DOCKER_CLI) down

docker-engine-down: ## stop the dockerd that cluster-image or compose-test started (no other)
	$(DOCKER_CLI) engine-down

# Installs what is missing, starts dockerd if none answers (and stops only that one), builds the images,
# then the compose tests (tests/compose: a cluster up, the chain, a worker killed, everything down).
compose-test: setup $(DIST_DOCKER) $(S3SERVER) ## the Docker cluster's integration test (not in make test: minutes)
	@$(DOCKER_CLI) engine-up $(if $(filter local,$(SPARK_IMAGE)),,--no-debootstrap)
	@status=0; $(DOCKER_CLI) image --spark-image $(SPARK_IMAGE) \
		&& $(PY) -m pytest -m compose tests/compose -q --durations=5 || status=$$?; \
		$(DOCKER_CLI) engine-down; exit $$status

cluster-local-up: setup ## start a standalone master + 2 worker JVMs on 127.0.0.1 (no Docker needed)
	$(PY) -m acq_spark.cluster start

cluster-local-submit: setup $(DIST) ## submit jobs/<JOB>.py to the cluster-local-up cluster with dist/ (CONFIG, SET apply)
	$(PY) -m acq_spark.cluster submit --executor-memory 768m $(JOB) $(JOB_ARGS)

cluster-local-down: ## stop every JVM that cluster-local-up started
	$(PY) -m acq_spark.cluster stop
