"""Extract → transform → load of ``jobs/score.py``: scoring rows + model artifact → ``scores``."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from acq_spark.config import Config
from acq_spark.features.assemble import packed_numeric
from acq_spark.features.columns import NUMERIC_PACKED
from acq_spark.schemas import SCORES_SCHEMA
from acq_spark.stages import StageTimer
from acq_spark.tables import commit_metadata, read_table, replace_days, written_rows
from acq_spark.training.artifact import ModelArtifact, load_artifact


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
    numeric = list(spec["numeric_features"])
    sparse = [s["column"] for s in spec["sparse_features"]]
    obs = [spec["obs_column"]] if beta != 0.0 else []  # only the exploration bonus reads it
    needed = [F.col(c) for c in ("dt", "account_id", "photo_id", *sparse, *obs, "cost_7d")]
    shipped = artifact.local_model_file()
    rows.sparkSession.sparkContext.addFile(str(shipped))
    body = functools.partial(
        score_batches,
        model_name=shipped.name,
        numeric_column=NUMERIC_PACKED,
        n_numeric=len(numeric),
        sparse=sparse,
        obs_column=spec["obs_column"],
        n_levels=len(spec["levels"]),
        beta=beta,
        predict_batch=predict_batch,
    )
    return rows.select(*needed, numeric_input(rows, numeric)).mapInArrow(body, SCORES_SCHEMA)


def extract_scoring_rows(spark: SparkSession, cfg: Config, artifact: ModelArtifact) -> tuple[DataFrame, dt.date]:
    """The decision day's scoring rows, checked against the model's levels."""
    decision_day = dt.date.fromisoformat(artifact.feature_spec["decision_day"])
    if cfg.run_date is not None and cfg.run_date != decision_day:
        raise ValueError(f"run_date {cfg.run_date} differs from the features' decision day {decision_day}")
    if tuple(artifact.feature_spec["levels"]) != tuple(cfg.levels):
        raise ValueError(f"levels {list(cfg.levels)} differ from the model's {artifact.feature_spec['levels']}")
    rows = read_table(spark, cfg.table("scoring_rows"), what="scoring_rows (run jobs/build_features.py)")
    return rows.where(F.col("dt") == F.lit(decision_day)), decision_day


def scores_model_version(spark: SparkSession, path: str, day: dt.date, version: int | None = None) -> str | None:
    """The model version that wrote ``day``'s scores as of the table's ``version`` (default: the latest).

    Read from the metadata :func:`run_scoring` puts on its commits; None for scores written otherwise.
    """
    commits = commit_metadata(spark, path)
    mine = [v for v, meta in commits.items() if meta.get("dt") == str(day) and (version is None or v <= version)]
    return commits[max(mine)].get("model_version") if mine else None


def run_scoring(
    spark: SparkSession, cfg: Config, timer: StageTimer | None = None, artifact: ModelArtifact | None = None
) -> dict[str, Any]:
    """Score the decision day and replace that day in ``<warehouse>/scores``.

    ``artifact`` is the model to score with (the nightly's: the one it just trained); None loads the
    one ``models/LATEST`` names.
    """
    timer = timer or StageTimer()
    artifact = artifact or load_artifact(cfg.warehouse)
    with timer.stage("score") as rec:
        rows, decision_day = extract_scoring_rows(spark, cfg, artifact)
        scored = score_rows(rows, artifact, cfg.score.beta, cfg.score.batch_size)
        commit = {"dt": decision_day, "model_version": artifact.version}  # which model these scores are from
        replace_days(scored, cfg.table("scores"), [decision_day], metadata=commit)
        n = written_rows(spark, cfg.table("scores"))
        rec.figures.update(pairs=n, model=artifact.version, beta=cfg.score.beta)
    return {"decision_day": decision_day, "pairs": n, "model_version": artifact.version}
