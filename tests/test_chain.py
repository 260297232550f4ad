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

from acq_spark import PROJECT_ROOT
from acq_spark.allocation.job import run_allocate
from acq_spark.allocation.publish import read_pointer, read_published
from acq_spark.config import load_config, table_path
from acq_spark.errors import InputNotFoundError, StageError
from acq_spark.evaluation.table4 import run_table4
from acq_spark.features.job import features_root, run_build_features
from acq_spark.pipeline.backfill import BackfillError, run_backfill
from acq_spark.pipeline.nightly import run_nightly
from acq_spark.platform.delta_tables import delta_version
from acq_spark.report.build import build_report
from acq_spark.scoring.job import run_scoring, score_rows
from acq_spark.simulate.job import run_simulation
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
    cfg = dataclasses.replace(cfg, run_date=spec.decision_day)
    run_build_tree(spark, cfg)
    artifact = run_training(spark, cfg)
    run_scoring(spark, cfg)
    record = run_allocate(spark, cfg)
    return cfg, artifact, record


def test_artifact_reloads_with_identical_predictions(spark, world):
    from acq_spark.models.fitting import predict

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
    from acq_spark.models.fitting import predict

    cfg, artifact, _ = world
    spec = artifact.feature_spec
    rows = spark.read.format("delta").load(cfg.table("scoring_rows")).toPandas().sort_values(["account_id", "photo_id"])
    scores = spark.read.format("delta").load(cfg.table("scores")).toPandas().sort_values(["account_id", "photo_id"])
    numeric = np.nan_to_num(rows[list(spec.numeric_features)].to_numpy(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    sparse = rows[spec.sparse_columns].to_numpy(np.int32)
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
    budget = record.budget
    assert len(alloc) == 600 and alloc["photo_id"].is_unique
    assert set(alloc["n_creatives"]) <= set(cfg.levels)
    used = int(alloc["n_creatives"].sum())
    assert used <= budget and budget - used < max(cfg.levels)
    assert used == record.solve.budget_used
    outputs = record.outputs
    assert outputs["scores"]["model_version"] == load_artifact(cfg.warehouse).version
    assert outputs["scores"]["version"] == delta_version(spark, cfg.table("scores"))
    assert outputs["allocation"]["version"] == delta_version(spark, cfg.table("allocation"))
    rules = spark.read.format("delta").load(cfg.table("account_rules"))
    totals = rules.agg(F.sum("total_creatives"), F.sum("photos")).first()
    assert (totals[0], totals[1]) == (used, 600)
    pointer = read_pointer(cfg.warehouse, cfg.run_date)
    assert pointer["run_id"] == record.run_id and pointer["versions"] == record.published


def test_table4_oracle_bounds_both_methods_and_report_renders(spark, world):
    from acq_spark.allocation.solver import solve_numpy

    cfg, _, _ = world
    t4 = run_table4(spark, cfg)
    methods = t4.methods
    for m in ("acq", "rule_based"):
        assert methods[m].creatives <= t4.budget
        assert methods[m].true_cost <= methods["oracle"].true_cost * (1 + 1e-9)
    # every method as solved in memory on the same day's arrays and valued on the truth, pair by pair
    day = F.col("dt") == F.lit(t4.day)
    scores = spark.read.format("delta").load(cfg.table("scores")).where(day).toPandas()
    truth = spark.read.format("delta").load(cfg.table("truth")).where(day)
    truth = truth.select("account_id", "photo_id", "expected_cost").toPandas()
    both = scores.merge(truth, on=["account_id", "photo_id"], how="left")
    keys = (both["account_id"].to_numpy(np.int64), both["photo_id"].to_numpy(np.int64))
    r, true = np.array(both["r"].tolist()), np.array(both["expected_cost"].tolist())
    for method, values in (("rule_based", r), ("acq", r), ("oracle", true)):
        level, rec = solve_numpy(values, cfg.levels, t4.budget, keys=keys, method=method, solver=cfg.allocation.solver,
                                 columns={"cost_7d": both["cost_7d"].to_numpy(np.float64)},
                                 tolerance=cfg.allocation.tolerance)  # fmt: skip
        got, rows = methods[method], np.arange(len(level))
        assert got.pairs == len(both) and got.lam == pytest.approx(rec.lam)
        assert got.creatives == int(np.asarray(cfg.levels)[level].sum())
        assert got.pairs_per_level == tuple(np.bincount(level, minlength=len(cfg.levels)).tolist())
        assert got.true_cost == pytest.approx(true[rows, level].sum(), rel=1e-9)
        assert got.objective == pytest.approx(values[rows, level].sum(), rel=1e-9)
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


def test_nightly_failure_names_the_stage_and_keeps_published_tables(spark, world, monkeypatch):
    cfg, artifact, _ = world
    before = {t: delta_version(spark, cfg.table(t)) for t in ("allocation", "account_rules")}
    examples = delta_version(spark, cfg.table("training_examples"))
    latest = Path(table_path(cfg.warehouse, "models/LATEST"))
    infeasible = dataclasses.replace(cfg, budget=dataclasses.replace(cfg.budget, total_creatives=10))
    # doomed from its start (600 pairs take at least 600 creatives): it stops once validated, building nothing
    with pytest.raises(StageError, match=r"nightly stage 'validate' failed: InfeasibleBudgetError: .*10"):
        run_nightly(spark, infeasible)
    assert {t: delta_version(spark, cfg.table(t)) for t in before} == before
    assert delta_version(spark, cfg.table("training_examples")) == examples

    def fails(*args, **kwargs):
        raise RuntimeError("the allocation's write failed")

    monkeypatch.setattr("acq_spark.allocation.job.publish_day", fails)
    with pytest.raises(StageError, match=r"nightly stage 'allocate' failed: RuntimeError: the allocation's write"):
        run_nightly(spark, dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, epochs=1)))
    monkeypatch.undo()
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
    files = [f"{features_root(cfg.warehouse)}/LATEST", table_path(cfg.warehouse, "models/LATEST")]
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


def test_the_run_record_names_what_the_run_read_and_wrote_and_the_rows_name_run_and_model(spark, world):
    cfg, _, _ = world
    backfill = cfg.run_date - dt.timedelta(days=1)  # the backfill test's nightly (its record; any order works)
    if not list(Path(cfg.table("runs"), "nightly").glob(f"{backfill}_*.json")):
        run_nightly(spark, dataclasses.replace(cfg, run_date=backfill, train=dataclasses.replace(cfg.train, epochs=1)))
    (record,) = Path(cfg.table("runs"), "nightly").glob(f"{backfill}_*.json")
    run = json.loads(record.read_text())
    assert run["input"] == {"path": cfg.input_path, "format": "delta", "version": delta_version(spark, cfg.input_path)}
    written = run["tables_written"]
    assert {"training_examples", "scoring_rows", "scores", "allocation", "account_rules"} <= set(written)
    assert written["allocation"] == run["published"]["allocation"] and "creative_daily" not in written
    assert run["config"]["run_date"] == str(backfill) and run["code_version"].startswith("0.1.0")
    allocation, rules = read_published(spark, cfg.warehouse, backfill)
    lineage = {(run["run_id"], run["model_version"])}
    for table in (allocation, rules):
        assert {tuple(r) for r in table.select("run_id", "model_version").distinct().collect()} == lineage


def test_pinning_yesterdays_model_scores_today_with_it_trains_nothing_and_leaves_latest(spark, world):
    cfg, _, _ = world
    yesterday = cfg.run_date - dt.timedelta(days=1)
    versions = sorted(p.name for p in Path(cfg.table("models")).glob(f"{yesterday}_*"))
    if not versions:  # yesterday's model: the nightly of the day before
        run_nightly(spark, dataclasses.replace(cfg, run_date=yesterday, train=dataclasses.replace(cfg.train, epochs=1)))
        versions = sorted(p.name for p in Path(cfg.table("models")).glob(f"{yesterday}_*"))
    pin = versions[-1]
    latest = Path(cfg.table("models"), "LATEST").read_text()
    models_before = sorted(p.name for p in Path(cfg.table("models")).iterdir())
    pinned = dataclasses.replace(cfg, score=dataclasses.replace(cfg.score, model_version=pin))
    # Table 4 off: the table4 test evaluates this day; here only the model's choice matters
    report = Path(run_nightly(spark, dataclasses.replace(pinned, report=dataclasses.replace(cfg.report, table4=False))))
    allocation, rules = read_published(spark, cfg.warehouse, cfg.run_date)
    assert {r["model_version"] for r in allocation.select("model_version").distinct().collect()} == {pin}
    assert {r["model_version"] for r in rules.select("model_version").distinct().collect()} == {pin}
    assert read_pointer(cfg.warehouse, cfg.run_date)["scores"]["model_version"] == pin
    assert sorted(p.name for p in Path(cfg.table("models")).iterdir()) == models_before, "nothing trained"
    assert Path(cfg.table("models"), "LATEST").read_text() == latest
    assert f"why this model: pinned by score.model_version={pin}" in report.read_text()
    assert f"- version `{pin}`" in report.read_text()
    rebuilt = Path(build_report(spark, pinned, cfg.run_date)).read_text()  # later, as jobs/report.py does it
    assert f"- version `{pin}`" in rebuilt and f"pinned by score.model_version={pin}" in rebuilt
    assert allocation.agg(F.sum("n_creatives")).first()[0] > 0


def test_a_backfill_runs_each_day_once_skips_published_days_and_stops_at_the_first_failing_day(spark, world):
    cfg, _, _ = world
    quick = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, epochs=1), run_date=None)
    first, last = cfg.run_date - dt.timedelta(days=2), cfg.run_date - dt.timedelta(days=1)
    latest = Path(cfg.table("models"), "LATEST").read_text()
    done = run_backfill(spark, quick, first, last)
    assert [d.day for d in done] == [first, last]
    assert done[0].status == "ran" and read_pointer(cfg.warehouse, first)["run_id"] == done[0].run_id
    (record,) = Path(cfg.table("runs"), "nightly").glob(f"{first}_{done[0].run_id}.json")
    choice = json.loads(record.read_text())["model_choice"]  # today's champion has seen the backfilled day
    assert choice["promoted"] and choice["reason"].startswith("new model: no champion to compare with")
    assert Path(cfg.table("models"), "LATEST").read_text() == latest, "a backfilled day's model never takes LATEST"
    version = delta_version(spark, cfg.table("allocation"))
    again = run_backfill(spark, quick, first, last)
    assert [(d.status, d.run_id) for d in again] == [("skipped", d.run_id) for d in done]  # a re-run resumes
    assert delta_version(spark, cfg.table("allocation")) == version, "the skipped days wrote nothing"
    allocation = spark.read.format("delta").load(cfg.table("allocation"))
    per_day = {r["dt"]: r["n"] for r in allocation.groupBy("dt").agg(F.count("*").alias("n")).collect()}
    for day in (first, last):  # each day published once: its own pairs, one row each
        assert per_day[day] == read_pointer(cfg.warehouse, day)["pairs"] > 500
    models = {p.name.split("_")[0] for p in Path(cfg.table("models")).glob("*_*")}
    assert {str(first), str(last)} <= models, "each day's model is its own version"

    start = dt.date.fromisoformat(str(cfg.simulate.start_date))  # one input day before it: too few to train
    too_early = (start + dt.timedelta(days=1), start + dt.timedelta(days=2))
    with pytest.raises(BackfillError, match=rf"backfill stopped at {too_early[0]} \(day 1 of 2; 0 done before it\)"):
        run_backfill(spark, quick, *too_early)
    assert read_pointer(cfg.warehouse, too_early[1]) is None, "no day after the failing one runs"


def test_the_report_shows_quarantine_input_drift_and_churn_against_the_previous_published_day(spark, world):
    cfg, _, _ = world
    day, previous = cfg.run_date, cfg.run_date - dt.timedelta(days=1)
    if read_pointer(cfg.warehouse, previous) is None:  # the backfill test published it; alone, publish it here
        run_nightly(spark, dataclasses.replace(cfg, run_date=previous, train=dataclasses.replace(cfg.train, epochs=1)))
    report = Path(build_report(spark, cfg, day))
    text = report.read_text()
    assert "## Data quality" in text and "## Input drift" in text
    last_input = cfg.run_date - dt.timedelta(days=1)
    assert f"| figure | {last_input} | {last_input - dt.timedelta(days=1)} | change |" in text
    assert "| zero cost share |" in text and "| creatives |" in text
    assert f"Against {previous}, the previous published day:" in text
    today, before = (read_published(spark, cfg.warehouse, d)[0] for d in (day, previous))
    changed = (
        today.select("account_id", "photo_id", F.col("level").alias("now"))
        .join(before.select("account_id", "photo_id", F.col("level").alias("was")), ["account_id", "photo_id"], "full")
        .where(~F.col("now").eqNullSafe(F.col("was")))
        .count()
    )
    assert f"- {changed:,} of " in text, "the churn counts the pairs whose level changed"
    assert "(relative " in text and "![churn](churn.png)" in text
    assert (report.parent / "churn.png").stat().st_size > 1000
    page = (report.parent / "report.html").read_text()
    assert 'src="data:image/png;base64,' in page and 'src="churn.png"' not in page, "the HTML embeds its images"
