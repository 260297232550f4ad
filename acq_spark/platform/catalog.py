"""The warehouse catalog: the name of every table, artifact, pointer and record under ``warehouse``.

A stage names a location through this module instead of spelling it: ``cfg.table(TRUTH)``,
``table_path(warehouse, MODELS_DIR)``, :func:`report_dir`. ARCHITECTURE.md's "Tables and artifacts" says
what each holds and which stage writes it. Run ids sort by time, so the run records of a day list in
the order the runs started.
"""

from __future__ import annotations

import datetime as dt

from acq_spark.config import table_path

# Delta tables, each at <warehouse>/<name> (the input's location is input.path, this name by default)
CREATIVE_DAILY = "creative_daily"
QUARANTINE = "quarantine"
PAIR_HISTORY = "pair_history"
TRAINING_EXAMPLES = "training_examples"
SCORING_ROWS = "scoring_rows"
COST_TREE_NODES = "cost_tree_nodes"
MODEL_EVAL = "model_eval"
SCORES = "scores"
ALLOCATION = "allocation"
ACCOUNT_RULES = "account_rules"
ALLOCATION_EVAL = "allocation_eval"
EXPERIMENT_RESULTS = "experiment_results"
CLOSED_LOOP = "closed_loop"
TRUTH = "truth"  # the simulated world's only
PUBLISHED_TABLES = (ALLOCATION, ACCOUNT_RULES)  # a day of both is published at once, behind its pointer

# Artifacts, pointers and records
FEATURES_DIR = "artifacts/features"  # <version>/vocab.json, <version>/feature_spec.json, LATEST
TREE_DIR = "artifacts/cost_tree"  # <version>.json, LATEST
PAIR_HISTORY_RECORDS = "artifacts/pair_history"  # <as_of>.json: what each snapshot of pair_history covers
SIMULATION = "artifacts/simulation.json"  # the simulated world's parameters
MODELS_DIR = "models"  # <version>/, LATEST
POINTERS = "published"  # <dt>.json: the versions of the published tables that make the day
VALIDATION_RECORDS = "runs/validation"  # <dt>.json
ALLOCATION_RECORDS = "runs/allocation"  # <dt>/<run_id>.json
NIGHTLY_RECORDS = "runs/nightly"  # <dt>_<run_id>.json
ESTIMATE_RECORDS = "runs/estimate_lambda"  # <dt>/<run_id>.json
REPORTS = "reports"  # <dt>/report.md, its plots, table2.md, table4.*
STAGING = "_staging"  # a job's temporary files, removed when it is done with them
LOCK_FOLDER = "_lock"  # the runs' claims (acq_spark.platform.lock)


def report_dir(warehouse: str, day: dt.date | str) -> str:
    """``<warehouse>/reports/<day>``: the day's report, Table 2 (``table2.md``) and Table 4 (``table4.*``)."""
    return table_path(warehouse, f"{REPORTS}/{day}")


def allocation_records_dir(warehouse: str, day: dt.date | str) -> str:
    """The folder of the allocation run records of ``day``, one per run."""
    return table_path(warehouse, f"{ALLOCATION_RECORDS}/{day}")


def allocation_record(warehouse: str, day: dt.date | str, run_id: str) -> str:
    """The allocation run record of run ``run_id`` for ``day``."""
    return f"{allocation_records_dir(warehouse, day)}/{run_id}.json"


def nightly_records_dir(warehouse: str) -> str:
    """The folder of the nightly run records, ``<dt>_<run_id>.json`` each."""
    return table_path(warehouse, NIGHTLY_RECORDS)


def nightly_record(warehouse: str, day: dt.date | str, run_id: str) -> str:
    """The nightly run record of run ``run_id`` for ``day``."""
    return f"{nightly_records_dir(warehouse)}/{day}_{run_id}.json"
