"""Extract → transform → load of ``jobs/build_features.py``: ``training_examples``, ``scoring_rows``, artifacts.

Outputs (Delta, each write replaces only the days it builds, in one commit, so that a re-run gives
the same days and a later failure leaves them as they were; readers select the spec's days):

* ``training_examples`` (partitioned by ``dt``, the label day): ``dt``, ``account_id``, ``photo_id``,
  the :func:`~acq_spark.features.assemble.feature_columns`, ``level_idx``, ``n_creatives``, ``cost``;
* ``scoring_rows`` (partitioned by ``dt`` = the decision day): ``dt``, keys, the same features and the
  numeric ones again packed in one ``array<float>`` column, ``numeric_features`` (the scorer's input).

Artifacts, written after both tables, versioned by run: ``<warehouse>/artifacts/features/<decision day>_<run
id>/`` holds ``vocab.json`` and ``feature_spec.json`` (which records the run calendar), and
``artifacts/features/LATEST`` names the newest complete version (written last), so a backfill's days never
overwrite each other's. An input too short to train on stops the job before anything is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from functools import reduce
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from acq_spark.config import Config, table_path
from acq_spark.errors import InputNotFoundError
from acq_spark.features.assemble import (
    select_scoring_rows,
    select_training_examples,
    with_decision_probes,
    with_point_in_time_features,
    with_sparse_indices,
    with_written_row_point_in_time_features,
)
from acq_spark.features.columns import PROBE, SPARSE
from acq_spark.features.history import history_before, history_rows, write_next_snapshot
from acq_spark.features.sampling import training_sample
from acq_spark.features.spec import FeatureSpec
from acq_spark.features.vocab import OOV_INDEX, VOCAB_SCHEMA, ordered_vocab, vocab_counts, vocab_rows
from acq_spark.ingest.days import read_input
from acq_spark.ingest.run_calendar import RunCalendar, require_label_days
from acq_spark.platform import fs
from acq_spark.platform.caching import INPUT_SIZED_CACHE, cached
from acq_spark.platform.catalog import FEATURES_DIR, SCORING_ROWS, TRAINING_EXAMPLES
from acq_spark.platform.delta_tables import replace_days_or_table, written_rows
from acq_spark.platform.fs import read_json, write_json
from acq_spark.platform.run_log import StageTimer, current_run_id, new_run_id

VOCAB_FILE = "vocab.json"
SPEC_FILE = "feature_spec.json"


def build_vocabularies(df: DataFrame, label_days: Sequence[dt.date]) -> dict[str, list[str]]:
    """The vocabulary of each sparse column over the rows of the training window (``label_days``)."""
    window = df.where(F.col("dt").isin(list(label_days)))
    parts = [vocab_counts(window, name).withColumn("column", F.lit(name)) for name in SPARSE]
    rows = reduce(DataFrame.unionByName, parts).collect()  # one small job for all the columns
    return {name: ordered_vocab((r["value"], r["count"]) for r in rows if r["column"] == name) for name in SPARSE}


def examples_to_build(calendar: RunCalendar, cfg: Config) -> Column:
    """The label-day rows that get training examples.

    The trainer's sample (``features.training_examples: sample``), or every one (``full``, or when the
    calendar has no example counts to draw the sample from).
    """
    counted = calendar.examples_per_day
    if cfg.features.training_examples == "full" or not counted:
        return F.col("dt").isin(list(calendar.label_days))
    return training_sample(calendar.label_days, counted, cfg.train.max_examples, cfg.seed)


@dataclass(frozen=True)
class BuiltFeatures:
    """What the features stage hands on: the feature spec and the vocabularies it wrote (JSON values)."""

    spec: FeatureSpec
    vocab: dict[str, Any]
    version: str | None = None  # the folder under artifacts/features they were written to


def features_root(warehouse: str) -> str:
    """Where the versions of the features' artifacts live: ``<warehouse>/artifacts/features``."""
    return table_path(warehouse, FEATURES_DIR)


def load_built_features(warehouse: str) -> BuiltFeatures:
    """The feature spec and vocabularies the last features run wrote (for stages run on their own).

    Raises:
        InputNotFoundError: no such artifact (run ``jobs/build_features.py`` first).
    """
    root = features_root(warehouse)
    if not fs.is_file(fs.join(root, fs.LATEST)):
        raise InputNotFoundError(f"feature spec: no {fs.join(root, fs.LATEST)}; run jobs/build_features.py first")
    version = fs.read_latest(root, "features' artifacts")
    what = "feature spec (run jobs/build_features.py)"
    spec = FeatureSpec.from_dict(read_json(fs.join(root, version, SPEC_FILE), what), what)
    vocab = read_json(fs.join(root, version, VOCAB_FILE), "vocabularies (run jobs/build_features.py)")
    return BuiltFeatures(spec, vocab, version)


def run_build_features(
    spark: SparkSession,
    cfg: Config,
    timer: StageTimer | None = None,
    source: DataFrame | None = None,
    calendar: RunCalendar | None = None,
) -> BuiltFeatures:
    """Build and write the training examples, the scoring rows, the vocabularies and the feature spec.

    Args:
        spark: the session.
        cfg: the configuration (windows, train_days, levels, warehouse).
        timer: collects the stage timings; a new one when None.
        source: the validated input; None reads and validates ``creative_daily``.
        calendar: the run calendar of ``source`` (validation's); None computes it from ``source``.

    Returns:
        The feature spec (which records the run calendar) and the vocabularies that were written.
    """
    from acq_spark.ingest.validation import given_or_valid_input

    timer = timer or StageTimer()
    with given_or_valid_input(spark, cfg, source, calendar, timer=timer) as (rows, calendar, _):
        return _build_features(spark, cfg, timer, rows, calendar)


def _build_features(
    spark: SparkSession, cfg: Config, timer: StageTimer, source: DataFrame, calendar: RunCalendar
) -> BuiltFeatures:
    with timer.stage("features: extract") as rec:
        require_label_days(calendar)
        source = source.where(F.col("dt") < F.lit(calendar.decision_day))
        rec.figures.update(rows=calendar.input_rows, days=len(calendar.per_day))
        rec.figures.update(decision_day=calendar.decision_day.isoformat(), label_days=len(calendar.label_days))
    first_read = min((d for d in calendar.per_day if d < calendar.decision_day), default=None)
    raw = read_input(spark, cfg)
    history = None
    if first_read is not None:
        with timer.stage("features: pair history") as rec:
            history = history_before(spark, cfg, raw, first_read)
            rec.figures.update(before=first_read.isoformat(), used=history is not None)
    with cached(history, INPUT_SIZED_CACHE) if history is not None else nullcontext() as history:
        return _write_features(spark, cfg, timer, source, calendar, raw, history, first_read)


def _write_features(
    spark: SparkSession,
    cfg: Config,
    timer: StageTimer,
    source: DataFrame,
    calendar: RunCalendar,
    raw: DataFrame,
    history: DataFrame | None,
    first_read: dt.date | None,
) -> BuiltFeatures:
    windows, levels = tuple(cfg.features.windows), tuple(cfg.levels)
    rows_before = None if history is None else history_rows(history, cfg.spark.shuffle_partitions)
    with timer.stage("features: vocabularies") as rec:
        vocabs = build_vocabularies(source, calendar.label_days)
        rec.figures.update({f"{name}_size": len(values) + 1 for name, values in vocabs.items()})
    vocab_frames = {name: spark.createDataFrame(vocab_rows(values), VOCAB_SCHEMA) for name, values in vocabs.items()}
    rows = source.transform(with_decision_probes, calendar.decision_day, calendar.last_input_day)
    # Only the rows written are kept: the probes (scoring rows) and the label days' examples to build.
    written = F.col(PROBE) | examples_to_build(calendar, cfg)
    if cfg.features.compute == "written_rows":  # the features of those rows alone
        partitions = cfg.spark.shuffle_partitions
        features = rows.transform(with_written_row_point_in_time_features, windows, levels, written, partitions,
                                  rows_before)  # fmt: skip
        needed = features.transform(with_sparse_indices, vocab_frames)
    else:  # every row's features, then those rows
        features = rows.transform(with_point_in_time_features, windows, levels, rows_before)
        needed = features.transform(with_sparse_indices, vocab_frames).where(written)
    with cached(needed, INPUT_SIZED_CACHE) as needed:
        with timer.stage("features: training_examples") as rec:
            path = cfg.table(TRAINING_EXAMPLES)
            examples = select_training_examples(needed, calendar.label_days, windows)
            replace_days_or_table(examples, path, calendar.label_days)
            rec.figures.update(rows=written_rows(spark, path), kept=cfg.features.training_examples)
        with timer.stage("features: scoring_rows") as rec:
            path = cfg.table(SCORING_ROWS)
            replace_days_or_table(select_scoring_rows(needed, windows), path, [calendar.decision_day])
            rec.figures["rows"] = written_rows(spark, path)
    if history is not None and first_read is not None:  # the next night reads from the day after first_read
        with timer.stage("features: pair history snapshot") as rec:
            write_next_snapshot(spark, cfg, raw, history, first_read)
            rec.figures.update(as_of=first_read.isoformat())
    vocab = {"oov_index": OOV_INDEX, "vocabularies": vocabs}
    version = f"{calendar.decision_day}_{current_run_id() or new_run_id()}"
    built = BuiltFeatures(FeatureSpec.build(calendar, windows, levels, vocabs), vocab, version)
    root = features_root(cfg.warehouse)
    write_json(fs.join(root, version, VOCAB_FILE), built.vocab)
    write_json(fs.join(root, version, SPEC_FILE), built.spec.to_dict())
    fs.write_latest(root, version)  # last: the version is complete
    return built
