"""Extract → transform → load of ``jobs/build_features.py``: ``training_examples``, ``scoring_rows``, artifacts.

Outputs (Delta, each write replaces only the days it builds, in one commit, so that a re-run gives
the same days and a later failure leaves them as they were; readers select the spec's days):

* ``training_examples`` (partitioned by ``dt``, the label day): ``dt``, ``account_id``, ``photo_id``,
  the :func:`~acq_spark.features.assemble.feature_columns`, ``level_idx``, ``n_creatives``, ``cost``;
* ``scoring_rows`` (partitioned by ``dt`` = the decision day): ``dt``, keys, the same features and the
  numeric ones again packed in one ``array<float>`` column, ``numeric_features`` (the scorer's input).

Artifacts, written after both tables: ``<warehouse>/artifacts/vocab.json`` and
``<warehouse>/artifacts/feature_spec.json`` (which records the run calendar). An input too short to
train on stops the job before anything is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from functools import reduce
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from acq_spark.caching import INPUT_SIZED_CACHE
from acq_spark.config import Config, table_path
from acq_spark.features.assemble import (
    select_scoring_rows,
    select_training_examples,
    with_decision_probes,
    with_point_in_time_features,
    with_sparse_indices,
)
from acq_spark.features.columns import KEYS, LEVEL, OBS, SPARSE, TRAILING_COST, idx_col, numeric_feature_columns
from acq_spark.features.days import DayTotals, FeatureDays, plan_days, require_label_days
from acq_spark.features.vocab import OOV_INDEX, VOCAB_SCHEMA, ordered_vocab, vocab_counts, vocab_rows
from acq_spark.features.windows import level_creatives
from acq_spark.stages import StageTimer
from acq_spark.tables import replace_days_or_table, write_json

VOCAB_ARTIFACT = "artifacts/vocab.json"
SPEC_ARTIFACT = "artifacts/feature_spec.json"


def extract_input(spark: SparkSession, cfg: Config) -> DataFrame:
    """The validated ``creative_daily`` rows (validation writes the quarantine as it goes)."""
    from acq_spark.validation import load_valid_input

    return load_valid_input(spark, cfg)


def input_days(df: DataFrame, levels: Sequence[int]) -> dict[dt.date, DayTotals]:
    """Rows and level-mapped creatives per input day (one small row per day is collected)."""
    totals = df.groupBy("dt").agg(
        F.count(F.lit(1)).alias("n"), F.sum(level_creatives(F.col("n_creatives"), levels)).alias("creatives")
    )
    return {r["dt"]: DayTotals(int(r["n"]), int(r["creatives"] or 0)) for r in totals.collect()}


def input_calendar(
    df: DataFrame, levels: Sequence[int], train_days: int, run_date: dt.date | None
) -> tuple[FeatureDays, dict[dt.date, DayTotals]]:
    """The run calendar of the validated rows ``df`` (one small Spark job) and the per-day totals it came from."""
    per_day = input_days(df, levels)
    creatives = {day: totals.creatives for day, totals in per_day.items()}
    return plan_days(per_day, train_days, run_date, creatives), per_day


def build_vocabularies(df: DataFrame, label_days: Sequence[dt.date]) -> dict[str, list[str]]:
    """The vocabulary of each sparse column over the rows of the training window (``label_days``)."""
    window = df.where(F.col("dt").isin(list(label_days)))
    parts = [vocab_counts(window, name).withColumn("column", F.lit(name)) for name in SPARSE]
    rows = reduce(DataFrame.unionByName, parts).collect()  # one small job for all the columns
    return {name: ordered_vocab((r["value"], r["count"]) for r in rows if r["column"] == name) for name in SPARSE}


def feature_spec(
    days: FeatureDays, windows: Sequence[int], levels: Sequence[int], vocabs: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """The JSON feature spec consumers read: column order, vocabulary sizes, levels, windows and days."""
    return {
        "keys": list(KEYS),
        "numeric_features": numeric_feature_columns(windows),
        "numeric_dtype": "double",
        "sparse_features": [
            {"name": name, "column": idx_col(name), "vocab_size": len(vocabs[name]) + 1, "oov_index": OOV_INDEX}
            for name in SPARSE
        ],
        "obs_column": OBS,
        "trailing_cost_column": TRAILING_COST,
        "level_column": LEVEL,
        "label_column": "cost",
        "levels": list(levels),
        "windows": list(windows),
        "decision_day": days.decision_day.isoformat(),
        "last_input_day": days.last_input_day.isoformat(),
        "label_days": [d.isoformat() for d in days.label_days],
        "last_day_creatives": days.last_day_creatives,
    }


def _count(spark: SparkSession, path: str, days: Sequence[dt.date]) -> int:
    return spark.read.format("delta").load(path).where(F.col("dt").isin(list(days))).count()


def run_build_features(
    spark: SparkSession, cfg: Config, timer: StageTimer | None = None, source: DataFrame | None = None
) -> dict[str, Any]:
    """Build and write the training examples, the scoring rows, the vocabularies and the feature spec.

    Args:
        spark: the session.
        cfg: the configuration (windows, train_days, levels, run_date, warehouse).
        timer: collects the stage timings; a new one when None.
        source: the validated input; None reads and validates ``creative_daily``.

    Returns:
        The feature spec that was written; it records the run calendar (:meth:`FeatureDays.from_spec`).
    """
    timer = timer or StageTimer()
    windows, levels = tuple(cfg.features.windows), tuple(cfg.levels)
    with timer.stage("features: extract") as rec:
        source = extract_input(spark, cfg) if source is None else source
        days, per_day = input_calendar(source, levels, cfg.features.train_days, cfg.run_date)
        require_label_days(days)
        source = source.where(F.col("dt") < F.lit(days.decision_day))
        rec.figures.update(rows=sum(t.rows for d, t in per_day.items() if d < days.decision_day), days=len(per_day))
        rec.figures.update(decision_day=days.decision_day.isoformat(), label_days=len(days.label_days))
    with timer.stage("features: vocabularies") as rec:
        vocabs = build_vocabularies(source, days.label_days)
        rec.figures.update({f"{name}_size": len(values) + 1 for name, values in vocabs.items()})
    vocab_frames = {name: spark.createDataFrame(vocab_rows(values), VOCAB_SCHEMA) for name, values in vocabs.items()}
    features = (
        source.transform(with_decision_probes, days.decision_day, days.last_input_day)
        .transform(with_point_in_time_features, windows, levels)
        .transform(with_sparse_indices, vocab_frames)
        .persist(INPUT_SIZED_CACHE)
    )
    try:
        with timer.stage("features: training_examples") as rec:
            path = cfg.table("training_examples")
            replace_days_or_table(select_training_examples(features, days.label_days, windows), path, days.label_days)
            rec.figures["rows"] = _count(spark, path, days.label_days)
        with timer.stage("features: scoring_rows") as rec:
            path = cfg.table("scoring_rows")
            replace_days_or_table(select_scoring_rows(features, windows), path, [days.decision_day])
            rec.figures["rows"] = _count(spark, path, [days.decision_day])
    finally:
        features.unpersist()
    spec = feature_spec(days, windows, levels, vocabs)
    write_json(table_path(cfg.warehouse, VOCAB_ARTIFACT), {"oov_index": OOV_INDEX, "vocabularies": vocabs})
    write_json(table_path(cfg.warehouse, SPEC_ARTIFACT), spec)
    return spec
