"""The nightly chain (spec §1) as one Spark application: validate → features → tree → train → score →
allocate → evaluate → report, each stage logged with its timing and row counts.

A failing stage stops the chain with :class:`StageError` naming the stage and the cause. Every
output is written whole (Delta commits; artifacts through :mod:`acq_spark.fs`), and ``allocation`` /
``account_rules`` are replaced for the decision day only and published together through the
pointer ``published/<dt>.json`` (:mod:`acq_spark.publish`), after the publish guard's checks, so a
failure leaves the published allocation of every day as it was. Table 4 runs only when the truth
covers the decision day; otherwise the report says why, and the report and run record are written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from pyspark.sql import SparkSession

from acq_spark.config import Config
from acq_spark.errors import StageError
from acq_spark.features.days import FeatureDays
from acq_spark.stages import LOG, StageTimer, setup_logging
from acq_spark.tables import table_exists, write_json

T = TypeVar("T")


def _stage(name: str, fn: Callable[[], T]) -> T:
    try:
        return fn()
    except StageError:
        raise
    except Exception as exc:
        raise StageError(f"nightly stage '{name}' failed: {type(exc).__name__}: {exc}") from exc


def run_nightly(spark: SparkSession, cfg: Config) -> str:
    """Run the whole chain for the decision day; returns the report's location."""
    from acq_spark.allocation.job import run_allocate
    from acq_spark.evaluation.table4 import run_table4
    from acq_spark.features.job import run_build_features
    from acq_spark.report.build import build_report
    from acq_spark.scoring.job import run_scoring
    from acq_spark.summary import input_summary
    from acq_spark.training.job import run_training
    from acq_spark.tree.job import run_build_tree
    from acq_spark.validation import load_valid_input

    setup_logging()
    timer = StageTimer()

    def validate() -> Any:
        with timer.stage("validate") as rec:
            clean = load_valid_input(spark, cfg)
            summary = input_summary(clean)
            rec.figures.update(rows=summary["rows"], pairs=summary["pairs"], days=summary["days"])
        return clean

    clean = _stage("validate", validate)
    spec = _stage("features", lambda: run_build_features(spark, cfg, timer, source=clean))
    days = FeatureDays.from_spec(spec)  # the run calendar: decision day, creatives of the last input day
    day = days.decision_day
    cfg_day = cfg if cfg.run_date == day else _with_run_date(cfg, day)
    _stage("tree", lambda: run_build_tree(spark, cfg_day, timer, label_days=days.label_days))
    _stage("train", lambda: run_training(spark, cfg_day, evaluate=cfg.train.evaluate, timer=timer))
    _stage("score", lambda: run_scoring(spark, cfg_day, timer))
    record = _stage("allocate", lambda: run_allocate(spark, cfg_day, timer, days=days))
    table4 = table4_status(spark, cfg_day, day)
    if table4 == "run":
        _stage("table 4", lambda: run_table4(spark, cfg_day, timer, days=days))
    else:
        LOG.info("table 4 skipped for %s: %s", day, table4)
    with timer.stage("report"):
        report = _stage("report", lambda: build_report(spark, cfg_day, day, stages=timer.as_dict()))
    run_record = {
        "run_id": record["run_id"],
        "outputs": record["outputs"],
        "published": record["published"],
        "table4": table4,
        "stages": timer.as_dict(),
    }
    write_json(cfg.table(f"runs/nightly/{day}_{record['run_id']}.json"), run_record)
    LOG.info("nightly chain for %s done: report %s", day, report)
    return report


def table4_status(spark: SparkSession, cfg: Config, day: dt.date) -> str:
    """``"run"`` when Table 4 can be computed for ``day``, else why not (the report says it too)."""
    from acq_spark.evaluation.table4 import truth_covers

    if not cfg.report.table4:
        return "report.table4 is false"
    if not table_exists(spark, cfg.table("truth")):
        return "there is no truth table"
    return "run" if truth_covers(spark, cfg, day) else f"the truth does not cover {day}"


def _with_run_date(cfg: Config, day: dt.date) -> Config:
    import dataclasses

    return dataclasses.replace(cfg, run_date=day)
