"""Extract → transform → load of ``jobs/train_ubtm.py``: train on the driver, save, evaluate (Table 2)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

from acq_spark.config import Config, table_path
from acq_spark.features.job import SPEC_ARTIFACT, VOCAB_ARTIFACT
from acq_spark.stages import LOG, StageTimer
from acq_spark.tables import read_json, read_table, replace_days, write_text
from acq_spark.training.artifact import ModelArtifact, new_version, save_artifact
from acq_spark.training.data import Arrays, collect_arrays, sample_days, split_days
from acq_spark.training.evaluate import calibration_bins, table2_markdown, table2_row
from acq_spark.tree.cost_tree import CostTree
from acq_spark.tree.job import load_latest_tree


@dataclass(frozen=True)
class TrainingData:
    spec: dict[str, Any]
    vocab: dict[str, Any]
    tree: CostTree
    train: Arrays
    val: Arrays
    train_days: list[dt.date]
    val_day: dt.date


def extract_training_data(spark: SparkSession, cfg: Config) -> TrainingData:
    """The feature spec, vocabularies, tree and the sampled train / validation arrays."""
    spec = read_json(table_path(cfg.warehouse, SPEC_ARTIFACT), "feature spec (run jobs/build_features.py)")
    vocab = read_json(table_path(cfg.warehouse, VOCAB_ARTIFACT), "vocabularies (run jobs/build_features.py)")
    tree = load_latest_tree(cfg.warehouse)
    examples = read_table(spark, cfg.table("training_examples"), what="training_examples (run jobs/build_features.py)")
    train_days, val_day = split_days(spec["label_days"])
    staging = cfg.table(f"_staging/training-{uuid.uuid4().hex}")  # on the warehouse: executors write, we read
    n = cfg.train.max_examples
    train = collect_arrays(sample_days(examples, train_days, n, cfg.seed), spec, f"{staging}-train")
    val = collect_arrays(sample_days(examples, [val_day], n, cfg.seed), spec, f"{staging}-val")
    return TrainingData(spec, vocab, tree, train, val, train_days, val_day)


def train_one(data: TrainingData, cfg: Config, kind: str, variant: str) -> tuple[Any, dict[str, Any], list]:
    """Build, fit and evaluate one model: the model, its Table-2 row (with timing) and its calibration bins."""
    from acq_spark.models.factory import build_model
    from acq_spark.models.hparams import ModelHParams
    from acq_spark.models.training import fit, predict

    hparams = ModelHParams.from_train_config(cfg.train)
    model = build_model(
        kind,
        variant,
        levels=tuple(cfg.levels),
        n_numeric=data.train["numeric"].shape[1],
        vocab_sizes=[s["vocab_size"] for s in data.spec["sparse_features"]],
        tree=data.tree,
        hparams=hparams,
        seed=cfg.seed,
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
    replace_days(frame, cfg.table("model_eval"), [decision_day])
    path = table_path(cfg.warehouse, f"reports/{decision_day.isoformat()}/table2.md")
    write_text(path, table2_markdown(rows))
    return path


def run_training(
    spark: SparkSession, cfg: Config, evaluate: bool = False, timer: StageTimer | None = None
) -> ModelArtifact:
    """Train the configured model, save the artifact; with ``evaluate``, also every Table-2 model."""
    timer = timer or StageTimer()
    with timer.stage("train: extract") as rec:
        data = extract_training_data(spark, cfg)
        rec.figures.update(
            train_rows=len(data.train["cost"]), val_rows=len(data.val["cost"]), val_day=str(data.val_day)
        )
    kind, variant = cfg.train.model, cfg.train.variant
    with timer.stage(f"train: {kind}/{variant}") as rec:
        model, row, calibration = train_one(data, cfg, kind, variant)
        rec.figures.update(auc=row["auc"], epochs=row["epochs"])
    decision_day = dt.date.fromisoformat(data.spec["decision_day"])
    metrics = {
        **row,
        "train_days": [str(d) for d in data.train_days],
        "val_day": str(data.val_day),
        "calibration": calibration,
    }
    artifact = save_artifact(
        cfg.warehouse,
        new_version(decision_day, kind, variant),
        model,
        data.tree,
        data.vocab,
        data.spec,
        cfg.to_dict(),
        metrics,
    )
    LOG.info("model artifact %s", artifact.path)
    if evaluate:
        rows = [row]
        for other_kind, other_variant in evaluation_plan(cfg):
            if (other_kind, other_variant) == (kind, variant):
                continue
            with timer.stage(f"evaluate: {other_kind}/{other_variant}") as rec:
                rows.append(train_one(data, cfg, other_kind, other_variant)[1])
                rec.figures.update(auc=rows[-1]["auc"])
        order = {key: i for i, key in enumerate(evaluation_plan(cfg))}
        rows.sort(key=lambda r: order.get((r["model"], r["variant"]), -1))
        path = write_table2(spark, cfg, decision_day, rows)
        LOG.info("Table 2 -> %s\n%s", path, table2_markdown(rows))
    return artifact
