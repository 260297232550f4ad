"""Extract → transform → load of ``jobs/score.py``: scoring rows + model artifact → ``scores``."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from acq_spark.config import Config
from acq_spark.stages import StageTimer
from acq_spark.tables import read_table, replace_days
from acq_spark.training.artifact import ModelArtifact, load_artifact

SCORES_SCHEMA = T.StructType(
    [
        T.StructField("dt", T.DateType()),
        T.StructField("account_id", T.LongType()),
        T.StructField("photo_id", T.LongType()),
        T.StructField("pvalue", T.ArrayType(T.DoubleType())),
        T.StructField("explore", T.ArrayType(T.DoubleType())),
        T.StructField("r", T.ArrayType(T.DoubleType())),
        T.StructField("cost_7d", T.DoubleType()),
    ]
)

# The numeric features travel to the Python workers packed in one array column (much faster to
# convert to Arrow than one column per feature).
_NUMERIC = "_numeric_features"


def score_rows(rows: DataFrame, artifact: ModelArtifact, beta: float, predict_batch: int = 16_384) -> DataFrame:
    """Score every row at every level with ``mapInArrow`` (one model load per Python worker).

    Args:
        rows: scoring rows (keys, ``dt``, the artifact's feature columns, ``obs_per_level``, ``cost_7d``).
        artifact: the saved model and its feature spec.
        beta: weight of the exploration bonus in r.
        predict_batch: rows per forward pass inside a worker.

    Returns:
        The scores: dt, account_id, photo_id, pvalue/explore/r as ``array<double>`` over the levels, cost_7d.
    """
    from acq_spark.scoring.worker import score_batches

    spec = artifact.feature_spec
    numeric = list(spec["numeric_features"])
    sparse = [s["column"] for s in spec["sparse_features"]]
    packed = F.array(*[F.col(c).cast("double") for c in numeric]).alias(_NUMERIC)
    needed = [F.col(c) for c in ("dt", "account_id", "photo_id", *sparse, spec["obs_column"], "cost_7d")]
    body = functools.partial(
        score_batches,
        model_file=str(artifact.model_file),
        numeric_column=_NUMERIC,
        n_numeric=len(numeric),
        sparse=sparse,
        obs_column=spec["obs_column"],
        n_levels=len(spec["levels"]),
        beta=beta,
        predict_batch=predict_batch,
    )
    return rows.select(*needed, packed).mapInArrow(body, SCORES_SCHEMA)


def extract_scoring_rows(spark: SparkSession, cfg: Config, artifact: ModelArtifact) -> tuple[DataFrame, dt.date]:
    """The decision day's scoring rows, checked against the model's levels."""
    decision_day = dt.date.fromisoformat(artifact.feature_spec["decision_day"])
    if cfg.run_date is not None and cfg.run_date != decision_day:
        raise ValueError(f"run_date {cfg.run_date} differs from the features' decision day {decision_day}")
    if tuple(artifact.feature_spec["levels"]) != tuple(cfg.levels):
        raise ValueError(f"levels {list(cfg.levels)} differ from the model's {artifact.feature_spec['levels']}")
    rows = read_table(spark, cfg.table("scoring_rows"), what="scoring_rows (run jobs/build_features.py)")
    return rows.where(F.col("dt") == F.lit(decision_day)), decision_day


def run_scoring(spark: SparkSession, cfg: Config, timer: StageTimer | None = None) -> dict[str, Any]:
    """Score the decision day with the latest model and replace that day in ``<warehouse>/scores``."""
    timer = timer or StageTimer()
    artifact = load_artifact(cfg.warehouse)
    with timer.stage("score") as rec:
        rows, decision_day = extract_scoring_rows(spark, cfg, artifact)
        replace_days(
            score_rows(rows, artifact, cfg.score.beta, cfg.score.batch_size), cfg.table("scores"), [decision_day]
        )
        n = spark.read.format("delta").load(cfg.table("scores")).where(F.col("dt") == F.lit(decision_day)).count()
        rec.figures.update(pairs=n, model=artifact.version, beta=cfg.score.beta)
    return {"decision_day": decision_day, "pairs": n, "model_version": artifact.version}
