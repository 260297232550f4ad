"""The nightly chain (spec §1) as one Spark application: validate (and measure the holdout of earlier days) →
features → tree → train → score → allocate → evaluate → report, each stage logged with its timing and row counts.

A failing stage stops the chain with :class:`StageError` naming the stage and the cause; a run the
publish guard would stop for its calendar or budget alone stops once validation has the calendar. Every
output is written whole (Delta commits; artifacts through :mod:`acq_spark.platform.fs`), and ``allocation`` /
``account_rules`` are replaced for the decision day only and published together through the
pointer ``published/<dt>.json`` (:mod:`acq_spark.allocation.publish`), after the publish guard's checks, so a
failure leaves the published allocation of every day as it was. Table 4 runs only when the truth
covers the decision day; otherwise the report says why, and the report and run record are written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, TypeVar

from pyspark.sql import SparkSession

from acq_spark.config import Config
from acq_spark.errors import StageError
from acq_spark.features.job import BuiltFeatures
from acq_spark.ingest.validation import ValidInput
from acq_spark.pipeline.lineage import input_lineage, run_lineage, table_versions
from acq_spark.platform.catalog import nightly_record
from acq_spark.platform.fs import write_json
from acq_spark.platform.outage import store_outage
from acq_spark.platform.run_log import LOG, StageTimer, current_run_id, setup_logging
from acq_spark.training.promotion import ModelChoice, takes_latest

if TYPE_CHECKING:
    from acq_spark.allocation.record import AllocationRecord
    from acq_spark.evaluation.table4 import Table4
    from acq_spark.ingest.run_calendar import RunCalendar
    from acq_spark.tree.cost_tree import CostTree

T = TypeVar("T")


def _stage(name: str, fn: Callable[[], T]) -> T:
    try:
        return fn()
    except StageError:
        raise
    except Exception as exc:
        cause = store_outage(exc) or exc  # a store that stopped answering, not Spark's wrapping of it
        raise StageError(f"nightly stage '{name}' failed: {type(cause).__name__}: {cause}") from cause


def run_nightly(spark: SparkSession, cfg: Config) -> str:
    """Run the whole chain for the decision day; returns the report's location.

    Each stage takes what the earlier ones built: the validated rows and the run calendar, the
    feature spec and vocabularies, the cost tree, the trained model (scored by version), the
    allocation's run record. The run record names what the run read and wrote (:mod:`acq_spark.pipeline.lineage`).
    The new model becomes ``models/LATEST`` only after the allocation is
    published, so a run that fails or is killed before that leaves ``LATEST`` as it was.
    """
    from acq_spark.allocation.job import run_allocate
    from acq_spark.ingest.days import input_fingerprint, read_input
    from acq_spark.scoring.job import run_scoring
    from acq_spark.training.artifact import promote_model

    setup_logging()
    timer = StageTimer()
    input_read, versions_before = input_lineage(spark, cfg), table_versions(spark, cfg.warehouse)
    calendar, features, tree = _validate_and_build(spark, cfg, timer)
    day = calendar.decision_day
    fingerprint = input_fingerprint(read_input(spark, cfg), day)  # a backfill skips a day published from it
    choice = _stage("train", lambda: choose_model(spark, cfg, timer, features, tree))
    artifact = choice.artifact
    LOG.info("model %s scores: %s", artifact.version, choice.reason)
    _stage("score", lambda: run_scoring(spark, cfg, timer, artifact=artifact, features=features))
    record = _stage(
        "allocate",
        lambda: run_allocate(
            spark, cfg, timer, run_id=current_run_id(), calendar=calendar, input_fingerprint=fingerprint
        ),
    )
    if takes_latest(cfg.warehouse, choice):
        promote_model(cfg.warehouse, artifact.version)  # last: the published day and LATEST now agree
    table4_reason, table4 = _table4(spark, cfg, timer, calendar, record)
    report = _report(spark, cfg, timer, day, record, table4, choice)
    lineage = run_lineage(spark, cfg, input_read, versions_before)
    run_record = _run_record(calendar, choice, record, table4_reason, timer, lineage)
    write_json(nightly_record(cfg.warehouse, day, record.run_id), run_record)
    LOG.info("nightly chain for %s done: report %s", day, report)
    return report


def _validate(spark: SparkSession, cfg: Config, timer: StageTimer, stack: ExitStack) -> ValidInput:
    """The stage ``validate``: the validated rows (cached in ``stack``) and the run calendar; a run the publish guard
    would stop for its calendar or budget alone stops here."""
    from acq_spark.allocation.job import check_run_start
    from acq_spark.ingest.validation import valid_input

    with timer.stage("validate") as rec:
        valid = stack.enter_context(valid_input(spark, cfg))  # cached until the tree is built
        rec.figures.update(valid.figures())
        check_run_start(cfg, valid.calendar)  # a run the publish guard would stop fails here, not after training
    return valid


def _validate_and_build(
    spark: SparkSession, cfg: Config, timer: StageTimer
) -> tuple[RunCalendar, BuiltFeatures, CostTree]:
    """Validate the input, then, while the validated rows stay cached, measure the holdout of earlier days and
    build the features and the cost tree; the run calendar, the features and the tree."""
    from acq_spark.experiment.measure import run_experiment_measure
    from acq_spark.features.job import run_build_features
    from acq_spark.tree.job import run_build_tree

    with ExitStack() as stack:
        clean, calendar, _ = _stage("validate", lambda: _validate(spark, cfg, timer, stack))
        # the holdout of every earlier decision day these logs hold (days without one are passed over)
        input_days = [d for d in calendar.per_day if d < calendar.decision_day]
        _stage("experiment", lambda: run_experiment_measure(spark, cfg, timer, clean, input_days))
        features = _stage("features", lambda: run_build_features(spark, cfg, timer, clean, calendar))
        tree = _stage("tree", lambda: run_build_tree(spark, cfg, timer, clean, calendar))
    return calendar, features, tree


def _table4(
    spark: SparkSession, cfg: Config, timer: StageTimer, calendar: RunCalendar, record: AllocationRecord
) -> tuple[str, Table4 | None]:
    """Table 4 of the decision day when the truth covers it: ``"run"`` and the table, else why not and None."""
    from acq_spark.evaluation.table4 import run_table4

    day = calendar.decision_day
    table4_reason = table4_status(spark, cfg, day)
    table4 = None
    if table4_reason == "run":
        table4 = _stage("table 4", lambda: run_table4(spark, cfg, timer, calendar, allocation=record))
    else:
        LOG.info("table 4 skipped for %s: %s", day, table4_reason)
    return table4_reason, table4


def _report(
    spark: SparkSession,
    cfg: Config,
    timer: StageTimer,
    day: dt.date,
    record: AllocationRecord,
    table4: Table4 | None,
    choice: ModelChoice,
) -> str:
    """The stage ``report``: the day's report, with the stage timings so far; its location."""
    from acq_spark.report.build import build_report

    artifact = choice.artifact
    with timer.stage("report"):
        report = _stage(
            "report",
            lambda: build_report(
                spark, cfg, day, timer.as_dict(), record=record, table4=table4, artifact=artifact, choice=choice.reason
            ),
        )
    return report


def _run_record(
    calendar: RunCalendar,
    choice: ModelChoice,
    record: AllocationRecord,
    table4_reason: str,
    timer: StageTimer,
    lineage: dict[str, Any],
) -> dict[str, Any]:
    """The nightly's run record: the calendar, the model and why, what was published, Table 4, stages, lineage."""
    return {
        "run_id": record.run_id,
        "calendar": calendar.to_dict(),
        "model_version": choice.artifact.version,
        "model_choice": choice.to_dict(),
        "outputs": record.outputs,
        "published": dict(record.published),
        "table4": table4_reason,
        "stages": timer.as_dict(),
        **lineage,
    }


def choose_model(
    spark: SparkSession, cfg: Config, timer: StageTimer, features: BuiltFeatures, tree: Any
) -> ModelChoice:
    """The pinned model (``score.model_version``: nothing is trained), else train one and apply the promotion gate."""
    from acq_spark.training.job import run_training
    from acq_spark.training.promotion import champion_for, gate, pinned

    if cfg.score.model_version:
        return pinned(cfg.warehouse, cfg.score.model_version)
    champion = champion_for(cfg.warehouse, features.spec, cfg.levels)
    new = run_training(spark, cfg, timer, features, tree, champion, promote=False, evaluate=cfg.train.evaluate)
    return gate(new, champion, cfg.train.promotion_auc_tolerance)


def table4_status(spark: SparkSession, cfg: Config, day: dt.date) -> str:
    """``"run"`` when Table 4 can be computed for ``day``, else why not (the report says it too)."""
    from acq_spark.evaluation.table4 import truth_gap

    if not cfg.report.table4:
        return "report.table4 is false"
    return truth_gap(spark, cfg, day) or "run"
