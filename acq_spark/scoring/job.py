"""Extract → transform → load of ``jobs/score.py``: scoring rows + model artifact → ``scores``."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from acq_spark.config import Config
from acq_spark.features.assemble import packed_numeric
from acq_spark.features.columns import NUMERIC_PACKED, idx_col
from acq_spark.features.job import BuiltFeatures, load_built_features
from acq_spark.features.vocab import OOV_INDEX
from acq_spark.ingest.schemas import SCORES_SCHEMA
from acq_spark.platform.catalog import SCORES, SCORING_ROWS
from acq_spark.platform.delta_tables import commit_metadata, read_table, replace_days, written_rows
from acq_spark.platform.run_log import StageTimer
from acq_spark.training.artifact import ModelArtifact, load_artifact
from acq_spark.training.model_reads import check_model_reads, vocab_maps


def numeric_input(rows: DataFrame, names: Sequence[str]) -> Column:
    """The model's numeric features ``names`` as one ``array<float>`` column of ``rows``.

    scoring_rows' packed column when its metadata names exactly ``names`` in that order (the fast
    path: Spark reads and ships one array instead of one column per feature); otherwise the per-feature
    columns, packed here.

    Raises:
        ValueError: ``rows`` has neither a matching packed column nor every feature column.
    """
    if NUMERIC_PACKED in rows.columns and rows.schema[NUMERIC_PACKED].metadata.get("features") == list(names):
        return F.col(NUMERIC_PACKED)
    missing = [c for c in names if c not in rows.columns]
    if missing:
        raise ValueError(
            f"scoring rows lack {len(missing)} of the model's numeric features (e.g. {missing[:3]}) and a "
            f"{NUMERIC_PACKED!r} column holding them: rebuild the features for the model's feature list"
        )
    return packed_numeric(names)


def score_rows(rows: DataFrame, artifact: ModelArtifact, beta: float, predict_batch: int = 16_384) -> DataFrame:
    """Score every row at every level with ``mapInArrow`` (one model load per Python worker).

    The model file travels to the executors with ``SparkFiles`` (copied from the warehouse to the driver
    once per version): executors need neither the driver's disk nor the warehouse's credentials.

    Args:
        rows: scoring rows: keys, ``dt``, the sparse indices, the numeric features (packed, or one column
            each; see :func:`numeric_input`), ``cost_7d`` and, with ``beta`` ≠ 0, ``obs_per_level``.
        artifact: the saved model and its feature spec.
        beta: weight of the exploration bonus in r.
        predict_batch: rows per forward pass inside a worker.

    Returns:
        The scores: dt, account_id, photo_id, pvalue/explore/r as ``array<double>`` over the levels, cost_7d.
        With ``beta`` = 0, ``explore`` is null and r = pvalue: the model's std is not computed.
    """
    from acq_spark.scoring.worker import score_batches

    spec = artifact.feature_spec
    numeric = list(spec.numeric_features)
    sparse = spec.sparse_columns
    obs = [spec.obs_column] if beta != 0.0 else []  # only the exploration bonus reads it
    needed = [F.col(c) for c in ("dt", "account_id", "photo_id", *sparse, *obs, "cost_7d")]
    shipped = artifact.local_model_file()
    rows.sparkSession.sparkContext.addFile(str(shipped))
    body = functools.partial(
        score_batches,
        model_name=shipped.name,
        numeric_column=NUMERIC_PACKED,
        n_numeric=len(numeric),
        sparse=sparse,
        obs_column=spec.obs_column,
        n_levels=len(spec.levels),
        beta=beta,
        predict_batch=predict_batch,
    )
    return rows.select(*needed, numeric_input(rows, numeric)).mapInArrow(body, SCORES_SCHEMA)


def extract_scoring_rows(
    spark: SparkSession, cfg: Config, artifact: ModelArtifact, features: BuiltFeatures
) -> tuple[DataFrame, dt.date]:
    """The decision day's scoring rows (those ``features`` describe), in the terms of the model ``artifact``.

    The model may be older than the features (a pinned model, or the champion kept by the promotion gate):
    its numeric features and levels must be today's, and the sparse indices are mapped from today's
    vocabularies to the model's (:func:`reindexed`).

    Raises:
        ModelMismatchError: the model reads other features or levels than today's rows hold.
    """
    decision_day = features.spec.decision_day
    if cfg.run_date is not None and cfg.run_date != decision_day:
        raise ValueError(f"run_date {cfg.run_date} differs from the features' decision day {decision_day}")
    check_model_reads(artifact, features.spec, cfg.levels)
    rows = read_table(spark, cfg.table(SCORING_ROWS), what="scoring_rows (run jobs/build_features.py)")
    rows = rows.where(F.col("dt") == F.lit(decision_day))
    return reindexed(rows, features.vocab, artifact.vocab), decision_day


def reindexed(rows: DataFrame, rows_vocab: dict[str, Any], model_vocab: dict[str, Any]) -> DataFrame:
    """``rows`` with each sparse index mapped from ``rows_vocab`` (what the rows were built with) to ``model_vocab``.

    A value the model's vocabulary lacks becomes its out-of-vocabulary index; identical vocabularies leave
    ``rows`` as it is. The vocabularies are small (products, industries), so each map is a literal array.
    """
    oov = int(model_vocab.get("oov_index", OOV_INDEX))
    for name, mapping in vocab_maps(rows_vocab, model_vocab).items():
        column = idx_col(name)
        mapped = F.element_at(F.array(*(F.lit(i) for i in mapping)), F.col(column) + 1)
        rows = rows.withColumn(column, F.coalesce(mapped, F.lit(oov)).cast("int"))
    return rows


def scores_model_version(spark: SparkSession, path: str, day: dt.date, version: int | None = None) -> str | None:
    """The model version that wrote ``day``'s scores as of the table's ``version`` (default: the latest).

    Read from the metadata :func:`run_scoring` puts on its commits; None for scores written otherwise.
    """
    commits = commit_metadata(spark, path)
    mine = [v for v, meta in commits.items() if meta.get("dt") == str(day) and (version is None or v <= version)]
    return commits[max(mine)].get("model_version") if mine else None


@dataclass(frozen=True)
class ScoredDay:
    """What the scoring stage hands on: the day it scored, how many pairs, with which model."""

    decision_day: dt.date
    pairs: int
    model_version: str


def run_scoring(
    spark: SparkSession,
    cfg: Config,
    timer: StageTimer | None = None,
    artifact: ModelArtifact | None = None,
    features: BuiltFeatures | None = None,
) -> ScoredDay:
    """Score the decision day and replace that day in ``<warehouse>/scores``.

    ``artifact`` is the model to score with (the nightly's choice); None loads ``score.model_version``,
    else the one ``models/LATEST`` names. ``features``: the features stage's spec and vocabularies
    (None: the last ones written).
    """
    timer = timer or StageTimer()
    artifact = artifact or load_artifact(cfg.warehouse, cfg.score.model_version)
    features = features or load_built_features(cfg.warehouse)
    with timer.stage("score") as rec:
        rows, decision_day = extract_scoring_rows(spark, cfg, artifact, features)
        scored = score_rows(rows, artifact, cfg.score.beta, cfg.score.batch_size)
        commit = {"dt": decision_day, "model_version": artifact.version}  # which model these scores are from
        replace_days(scored, cfg.table(SCORES), [decision_day], metadata=commit)
        n = written_rows(spark, cfg.table(SCORES))
        rec.figures.update(pairs=n, model=artifact.version, beta=cfg.score.beta)
    return ScoredDay(decision_day, n, artifact.version)
