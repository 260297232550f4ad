"""The chain end to end on a small simulated world: train → score → allocate → evaluate → report,
plus the nightly chain's failure behaviour. One world is built per module (about a minute)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from pyspark.sql import functions as F

from acq_spark.allocation.job import run_allocate
from acq_spark.config import PROJECT_ROOT, load_config, table_path
from acq_spark.errors import InputNotFoundError, StageError
from acq_spark.evaluation.table4 import run_table4
from acq_spark.features.job import SPEC_ARTIFACT, VOCAB_ARTIFACT, run_build_features
from acq_spark.nightly import run_nightly
from acq_spark.publish import read_pointer, read_published
from acq_spark.report.build import build_report
from acq_spark.scoring.job import run_scoring, score_rows
from acq_spark.simulate.job import run_simulation
from acq_spark.tables import delta_version
from acq_spark.training.artifact import load_artifact
from acq_spark.training.job import evaluate_models, extract_training_data, run_training
from acq_spark.tree.job import run_build_tree

TEST_CONFIG = PROJECT_ROOT / "conf" / "test.yaml"
FAST = ["simulate.n_pairs=600", "train.epochs=2", "train.patience=1", "train.batch_size=1024", "train.evaluate=false"]


@pytest.fixture(scope="module")
def world(spark, tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("chain") / "warehouse"
    cfg = load_config(TEST_CONFIG, [f"warehouse={warehouse}", *FAST])
    run_simulation(spark, cfg)
    spec = run_build_features(spark, cfg).spec
    cfg = dataclasses.replace(cfg, run_date=dt.date.fromisoformat(spec["decision_day"]))
    run_build_tree(spark, cfg)
    artifact = run_training(spark, cfg)
    run_scoring(spark, cfg)
    record = run_allocate(spark, cfg)
    return cfg, artifact, record


def test_artifact_reloads_with_identical_predictions(spark, world):
    from acq_spark.models.training import predict

    cfg, artifact, _ = world
    loaded = load_artifact(cfg.warehouse)
    assert loaded.version == artifact.version
    assert loaded.tree.to_json() == artifact.tree.to_json()
    assert np.isfinite(loaded.metrics["auc"])
    val = extract_training_data(spark, cfg).val
    first, second = predict(artifact.load_model(), val)["y"], predict(loaded.load_model(), val)["y"]
    np.testing.assert_array_equal(first, second)


def test_scores_cover_every_scoring_pair_with_monotone_concave_pvalue(spark, world):
    cfg, _, _ = world
    scores = spark.read.format("delta").load(cfg.table("scores")).toPandas()
    rows = spark.read.format("delta").load(cfg.table("scoring_rows")).count()
    assert len(scores) == rows == 600
    pvalue, r = (np.array(scores[c].tolist()) for c in ("pvalue", "r"))
    assert pvalue.shape == (600, len(cfg.levels))
    assert np.all(np.isfinite(pvalue))
    assert cfg.score.beta == 0 and scores["explore"].isna().all(), "exploration off: no bonus computed"
    np.testing.assert_array_equal(r, pvalue)
    n = np.array(cfg.levels, dtype=float)
    slopes = np.diff(pvalue, axis=1) / np.diff(n)
    assert np.all(slopes >= -1e-6), "sub variant: pvalue non-decreasing in creatives"
    assert np.all(np.diff(slopes, axis=1) <= 1e-5), "sub variant: pvalue concave in creatives"


def test_distributed_scores_equal_the_models_own_predictions(spark, world):
    """mapInArrow + packed features + the compiled padded forward pass give Keras' own predict."""
    from acq_spark.models.training import predict

    cfg, artifact, _ = world
    spec = artifact.feature_spec
    rows = spark.read.format("delta").load(cfg.table("scoring_rows")).toPandas().sort_values(["account_id", "photo_id"])
    scores = spark.read.format("delta").load(cfg.table("scores")).toPandas().sort_values(["account_id", "photo_id"])
    numeric = np.nan_to_num(rows[list(spec["numeric_features"])].to_numpy(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    sparse = rows[[s["column"] for s in spec["sparse_features"]]].to_numpy(np.int32)
    expected = predict(artifact.load_model(), {"numeric": numeric, "sparse": sparse})
    np.testing.assert_allclose(np.array(scores["pvalue"].tolist()), expected["y"], rtol=1e-5, atol=1e-6)


def test_scores_with_exploration_add_the_ucb_bonus_to_the_same_pvalue(spark, world):
    """β > 0 computes the model's std too: explore ≥ 0 and r = pvalue + β·explore."""
    cfg, artifact, _ = world
    rows = spark.read.format("delta").load(cfg.table("scoring_rows"))
    scores = score_rows(rows, artifact, beta=0.5).toPandas().sort_values(["account_id", "photo_id"])
    plain = spark.read.format("delta").load(cfg.table("scores")).toPandas().sort_values(["account_id", "photo_id"])
    pvalue, explore, r = (np.array(scores[c].tolist()) for c in ("pvalue", "explore", "r"))
    assert np.all(np.isfinite(explore)) and np.all(explore >= 0) and np.any(explore > 0)
    np.testing.assert_allclose(r, pvalue + 0.5 * explore)
    # The pruned forward pass (y only) and the full one agree on y.
    np.testing.assert_allclose(pvalue, np.array(plain["pvalue"].tolist()), rtol=1e-5, atol=1e-6)


def test_allocation_uses_the_budget_and_account_rules_add_up(spark, world):
    cfg, _, record = world
    alloc = spark.read.format("delta").load(cfg.table("allocation")).toPandas()
    budget = record["budget"]["value"]
    assert len(alloc) == 600 and alloc["photo_id"].is_unique
    assert set(alloc["n_creatives"]) <= set(cfg.levels)
    used = int(alloc["n_creatives"].sum())
    assert used <= budget and budget - used < max(cfg.levels)
    assert used == record["solve"]["budget_used"]
    outputs = record["outputs"]
    assert outputs["scores"]["model_version"] == load_artifact(cfg.warehouse).version
    assert outputs["scores"]["version"] == delta_version(spark, cfg.table("scores"))
    assert outputs["allocation"]["version"] == delta_version(spark, cfg.table("allocation"))
    rules = spark.read.format("delta").load(cfg.table("account_rules"))
    totals = rules.agg(F.sum("total_creatives"), F.sum("photos")).first()
    assert (totals[0], totals[1]) == (used, 600)
    pointer = read_pointer(cfg.warehouse, cfg.run_date)
    assert pointer["run_id"] == record["run_id"] and pointer["versions"] == record["published"]


def test_table4_oracle_bounds_both_methods_and_report_renders(spark, world):
    cfg, _, _ = world
    t4 = run_table4(spark, cfg)
    methods = t4["methods"]
    for m in ("acq", "rule_based"):
        assert methods[m]["creatives"] <= t4["budget"]
        assert methods[m]["true_cost"] <= methods["oracle"]["true_cost"] * (1 + 1e-9)
    report = Path(build_report(spark, cfg, cfg.run_date))
    folder = report.parent
    for name in ("report.md", "report.html", "lambda_search.png", "levels.png", "cost_curves.png", "calibration.png"):
        assert (folder / name).is_file(), name
    text = report.read_text()
    assert "Table 4" in text and "λ* =" in text and "oracle" in text


def test_evaluate_models_writes_table_2_for_every_model_of_the_plan(spark, world):
    cfg, _, _ = world
    plan = dataclasses.replace(cfg.train, evaluate_variants=("control",), baselines=("dnn",), epochs=1)
    path = evaluate_models(spark, dataclasses.replace(cfg, train=plan))
    rows = spark.read.format("delta").load(cfg.table("model_eval")).where(F.col("dt") == F.lit(cfg.run_date))
    assert sorted((r["model"], r["variant"]) for r in rows.collect()) == [("dnn", "control"), ("ubtm", "control")]
    table2 = Path(path).read_text()
    assert Path(path).name == "table2.md" and "| DNN | control |" in table2 and "| UBTM | control |" in table2
    assert load_artifact(cfg.warehouse).version == world[1].version  # no model is saved or promoted


def test_nightly_failure_names_the_stage_and_keeps_published_tables(spark, world):
    cfg, artifact, _ = world
    before = {t: delta_version(spark, cfg.table(t)) for t in ("allocation", "account_rules")}
    latest = Path(table_path(cfg.warehouse, "models/LATEST"))
    infeasible = dataclasses.replace(cfg, budget=dataclasses.replace(cfg.budget, total_creatives=10))
    infeasible = dataclasses.replace(infeasible, train=dataclasses.replace(cfg.train, epochs=1))
    with pytest.raises(StageError, match=r"nightly stage 'allocate' failed: InfeasibleBudgetError: .*10"):
        run_nightly(spark, infeasible)
    assert {t: delta_version(spark, cfg.table(t)) for t in before} == before
    # The failed run trained and scored with a new model, but LATEST moves only after a publish, and the
    # day's pointer still names the scores and the model its allocation was solved from.
    assert latest.read_text().strip() == artifact.version
    assert read_pointer(cfg.warehouse, cfg.run_date)["scores"]["model_version"] == artifact.version

    broken = spark.read.format("delta").load(cfg.input_path).withColumn("cost", F.col("cost").cast("string"))
    bad_input = dataclasses.replace(cfg, input=dataclasses.replace(cfg.input, path=cfg.table("broken_input")))
    broken.write.format("delta").save(bad_input.input_path)
    with pytest.raises(StageError, match=r"nightly stage 'validate' failed: InputSchemaError: .*'cost'"):
        run_nightly(spark, bad_input)
    assert {t: delta_version(spark, cfg.table(t)) for t in before} == before


def test_nightly_on_one_day_of_input_fails_before_the_features_write_anything(spark, world):
    cfg, _, _ = world
    tables = ("training_examples", "scoring_rows", "scores", "allocation")
    files = [table_path(cfg.warehouse, name) for name in (SPEC_ARTIFACT, VOCAB_ARTIFACT, "models/LATEST")]
    before = {t: delta_version(spark, cfg.table(t)) for t in tables}
    contents = [Path(f).read_bytes() for f in files]
    last_day = cfg.run_date - dt.timedelta(days=1)
    one_day = dataclasses.replace(cfg, input=dataclasses.replace(cfg.input, path=cfg.table("one_day_input")))
    daily = spark.read.format("delta").load(cfg.input_path).where(F.col("dt") == F.lit(last_day))
    daily.write.format("delta").save(one_day.input_path)
    message = r"nightly stage 'features' failed: InputRowsError: .*1 input day\(s\) .*training needs at least 3"
    with pytest.raises(StageError, match=message):
        run_nightly(spark, one_day)
    assert {t: delta_version(spark, cfg.table(t)) for t in tables} == before
    assert [Path(f).read_bytes() for f in files] == contents


def test_a_backfill_day_without_truth_skips_table_4_and_still_writes_report_and_run_record(spark, world):
    cfg, _, _ = world
    backfill = cfg.run_date - dt.timedelta(days=1)  # the truth covers the world's decision day only
    one_epoch = dataclasses.replace(cfg.train, epochs=1)
    report = Path(run_nightly(spark, dataclasses.replace(cfg, run_date=backfill, train=one_epoch)))
    assert report.parent.name == str(backfill)
    assert f"Table 4: the truth does not cover {backfill}." in report.read_text()
    assert not (report.parent / "table4.json").exists()
    (record,) = Path(cfg.table("runs"), "nightly").glob(f"{backfill}_*.json")
    run = json.loads(record.read_text())
    assert run["table4"] == f"the truth does not cover {backfill}" and "report" in run["stages"]
    allocation, rules = read_published(spark, cfg.warehouse, backfill)
    used = allocation.agg(F.sum("n_creatives")).first()[0]
    assert used > 0 and used == rules.agg(F.sum("total_creatives")).first()[0]
    with pytest.raises(InputNotFoundError, match=rf"truth: no rows for {backfill} \(it covers {cfg.run_date} to"):
        run_table4(spark, dataclasses.replace(cfg, run_date=backfill))
