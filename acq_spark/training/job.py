"""Extract → transform → load of ``jobs/train_ubtm.py``: train on the driver, save, evaluate (Table 2)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

from acq_spark.config import Config
from acq_spark.features.job import BuiltFeatures, load_built_features
from acq_spark.features.sampling import sample_parts
from acq_spark.features.spec import FeatureSpec
from acq_spark.platform.catalog import MODEL_EVAL, STAGING, TRAINING_EXAMPLES, report_dir
from acq_spark.platform.delta_tables import read_table, replace_days
from acq_spark.platform.fs import write_text
from acq_spark.platform.run_log import LOG, StageTimer
from acq_spark.training.artifact import ModelArtifact, new_version, save_artifact
from acq_spark.training.data import Arrays, collect_arrays, sample_days
from acq_spark.training.evaluate import calibration_bins, table2_markdown, table2_row
from acq_spark.training.promotion import champion_metrics
from acq_spark.tree.cost_tree import CostTree
from acq_spark.tree.job import load_latest_tree


@dataclass(frozen=True)
class TrainingData:
    spec: FeatureSpec
    vocab: dict[str, Any]
    tree: CostTree
    train: Arrays
    val: Arrays
    train_days: list[dt.date]
    val_day: dt.date


def extract_training_data(
    spark: SparkSession, cfg: Config, features: BuiltFeatures | None = None, tree: CostTree | None = None
) -> TrainingData:
    """The feature spec, vocabularies, tree and the sampled train / validation arrays.

    ``features`` and ``tree`` are what the features and tree stages handed on; None loads the last
    ones written.
    """
    features = features or load_built_features(cfg.warehouse)
    spec, vocab = features.spec, features.vocab
    tree = tree or load_latest_tree(cfg.warehouse)
    examples = read_table(spark, cfg.table(TRAINING_EXAMPLES), what="training_examples (run jobs/build_features.py)")
    counted = spec.calendar.examples_per_day  # the full table's rows per day, when recorded
    (train_days, train_total), ([val_day], val_total) = sample_parts(spec.label_days, counted)
    staging = cfg.table(f"{STAGING}/training-{uuid.uuid4().hex}")  # on the warehouse: executors write, we read
    n = cfg.train.max_examples
    train = collect_arrays(sample_days(examples, train_days, n, cfg.seed, train_total), spec, f"{staging}-train")
    val = collect_arrays(sample_days(examples, [val_day], n, cfg.seed, val_total), spec, f"{staging}-val")
    return TrainingData(spec, vocab, tree, train, val, train_days, val_day)


def train_one(data: TrainingData, cfg: Config, kind: str, variant: str) -> tuple[Any, dict[str, Any], list]:
    """Build, fit and evaluate one model: the model, its Table-2 row (with timing) and its calibration bins."""
    from acq_spark.config.hparams import ModelHParams
    from acq_spark.models.factory import build_model, numeric_mask
    from acq_spark.models.fitting import fit, predict

    hparams = ModelHParams.from_train_config(cfg.train)
    model = build_model(
        kind,
        variant,
        levels=tuple(cfg.levels),
        n_numeric=data.train["numeric"].shape[1],
        vocab_sizes=[s.vocab_size for s in data.spec.sparse_features],
        tree=data.tree,
        hparams=hparams,
        seed=cfg.seed,
        numeric_mask=numeric_mask(data.spec.numeric_features, hparams.exclude_features),
    )
    LOG.info(
        "training %s/%s on %s rows, validating on %s rows",
        kind,
        variant,
        len(data.train["cost"]),
        len(data.val["cost"]),
    )
    start = time.perf_counter()
    history = fit(
        model,
        data.train,
        data.val,
        epochs=cfg.train.epochs,
        batch_size=cfg.train.batch_size,
        patience=cfg.train.patience,
        seed=cfg.seed,
        deterministic=cfg.train.deterministic,
        verbose=2,
    )
    seconds = time.perf_counter() - start
    y_val = predict(model, data.val)["y"]
    row = {
        "model": kind,
        "variant": variant,
        **table2_row(y_val, data.val),
        "epochs": len(history.history["loss"]),
        "train_seconds": seconds,
        "n_train": len(data.train["cost"]),
        "n_val": len(data.val["cost"]),
    }
    return model, row, calibration_bins(y_val, data.val)


def evaluation_plan(cfg: Config) -> list[tuple[str, str]]:
    """(kind, variant) of every model in the Table-2 comparison: the UBTM variants, then the baselines."""
    plan = [("ubtm", v) for v in cfg.train.evaluate_variants]
    for entry in cfg.train.baselines:
        kind, _, variant = entry.partition(":")
        plan.append((kind, variant or "control"))
    return plan


def write_table2(spark: SparkSession, cfg: Config, decision_day: dt.date, rows: list[Mapping[str, Any]]) -> str:
    """Write Table 2 as a Delta table (``model_eval``, this day replaced) and as Markdown in the reports."""
    from pyspark.sql import functions as F

    frame = spark.createDataFrame([{k: v for k, v in r.items()} for r in rows]).withColumn("dt", F.lit(decision_day))
    replace_days(frame, cfg.table(MODEL_EVAL), [decision_day])
    path = f"{report_dir(cfg.warehouse, decision_day)}/table2.md"
    write_text(path, table2_markdown(rows))
    return path


def run_training(
    spark: SparkSession,
    cfg: Config,
    timer: StageTimer | None = None,
    features: BuiltFeatures | None = None,
    tree: CostTree | None = None,
    champion: ModelArtifact | None = None,
    promote: bool = True,
    evaluate: bool = False,
) -> ModelArtifact:
    """Train the configured model and save the artifact; with ``evaluate``, also every Table-2 model.

    Args:
        spark: the session.
        cfg: the configuration (train, levels, seed, warehouse).
        timer: collects the stage timings; a new one when None.
        features: the features stage's spec and vocabularies; None loads the last ones written.
        tree: the tree stage's cost tree; None loads the one ``LATEST`` names.
        champion: the model the new one must beat; it is scored on the same validation rows and its metrics
            are kept in the new model's (``champion``) for the promotion gate.
        promote: point ``models/LATEST`` at the new model (the nightly promotes it only after publishing).
        evaluate: also train and evaluate the Table-2 comparison models.
    """
    timer = timer or StageTimer()
    with timer.stage("train: extract") as rec:
        data = extract_training_data(spark, cfg, features, tree)
        rec.figures.update(
            train_rows=len(data.train["cost"]), val_rows=len(data.val["cost"]), val_day=str(data.val_day)
        )
    kind, variant = cfg.train.model, cfg.train.variant
    with timer.stage(f"train: {kind}/{variant}") as rec:
        model, row, calibration = train_one(data, cfg, kind, variant)
        rec.figures.update(auc=row["auc"], epochs=row["epochs"])
    decision_day = data.spec.decision_day
    metrics = {
        **row,
        "train_days": [str(d) for d in data.train_days],
        "val_day": str(data.val_day),
        "calibration": calibration,
    }
    if champion is not None:
        with timer.stage("train: champion on the same rows") as rec:
            from acq_spark.models.fitting import predict

            loaded = champion.load_model()
            metrics["champion"] = champion_metrics(
                champion, lambda arrays: predict(loaded, arrays)["y"], data.val, data.spec, data.vocab
            )
            rec.figures.update(champion=champion.version, auc=metrics["champion"]["auc"])
    artifact = save_artifact(
        cfg.warehouse,
        new_version(decision_day, kind, variant),
        model,
        data.tree,
        data.vocab,
        data.spec,
        cfg.to_dict(),
        metrics,
        promote=promote,
    )
    LOG.info("model artifact %s", artifact.path)
    if evaluate:
        evaluate_models(spark, cfg, data, timer, done={(kind, variant): row})
    return artifact


def evaluate_models(
    spark: SparkSession,
    cfg: Config,
    data: TrainingData | None = None,
    timer: StageTimer | None = None,
    done: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
) -> str:
    """Train every model of the Table-2 comparison on the same data and write Table 2 (``jobs/evaluate_models.py``).

    Args:
        spark: the session.
        cfg: the configuration (``train.evaluate_variants``, ``train.baselines``, the hyper-parameters).
        data: the training data; None extracts it from the warehouse as training does.
        timer: collects the stage timings; a new one when None.
        done: rows already trained in this run, by (kind, variant), which are not trained again.

    Returns:
        Where Table 2's Markdown is (``<warehouse>/reports/<dt>/table2.md``; also the Delta table ``model_eval``).
    """
    timer = timer or StageTimer()
    if data is None:
        with timer.stage("evaluate: extract"):
            data = extract_training_data(spark, cfg)
    rows = dict(done or {})
    for kind, variant in evaluation_plan(cfg):
        if (kind, variant) in rows:
            continue
        with timer.stage(f"evaluate: {kind}/{variant}") as rec:
            rows[(kind, variant)] = train_one(data, cfg, kind, variant)[1]
            rec.figures.update(auc=rows[(kind, variant)]["auc"])
    plan = evaluation_plan(cfg)
    ordered = [row for key, row in rows.items() if key not in plan] + [rows[key] for key in plan]
    decision_day = data.spec.decision_day
    path = write_table2(spark, cfg, decision_day, ordered)
    LOG.info("Table 2 -> %s\n%s", path, table2_markdown(ordered))
    return path
