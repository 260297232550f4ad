"""The closed loop on a small simulated world: three nights of nightly → the world logs the day → next night."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from acq_spark.allocation.publish import publish_day, read_published
from acq_spark.allocation.tables import account_rules, allocation_table
from acq_spark.config import ConfigError
from acq_spark.pipeline.closed_loop import run_closed_loop
from acq_spark.simulate.job import log_published_day, run_simulation
from acq_spark.simulate.world import arrivals_per_day, simulate_day, simulate_pairs

SMALL = ["simulate.n_pairs=600", "train.epochs=2", "train.patience=1", "train.batch_size=1024"]


@pytest.mark.slow
def test_three_nights_decide_log_and_measure_on_a_small_world(spark, make_cfg):
    """Slow: three whole nightlies, each training and scoring a model (about 5 minutes in all on this 2-core
    machine, 9 when it is shared), so it runs with the slow tests: `make test-slow` (pytest -m slow)."""
    cfg = make_cfg(*SMALL, "experiment.enabled=true", "experiment.holdout_share=0.5")
    world = run_simulation(spark, cfg)
    nights = run_closed_loop(spark, cfg, 3)
    days = [world.decision_date + dt.timedelta(days=i) for i in range(3)]
    assert [n.dt for n in nights] == days
    for night in nights:
        assert 0 < night.rule_share_of_oracle < night.acq_share_of_oracle <= 1
        assert night.holdout and night.ci_low < night.uplift < night.ci_high and night.true_uplift is not None
        assert night.creatives_used <= night.budget and night.model_version and night.lam > 0
    # each decided day was logged with exactly its published creatives, new pairs arriving, and the truth moved on
    logs = spark.read.format("delta").load(cfg.input_path)
    for i, day in enumerate(days, 1):
        allocation = read_published(spark, cfg.warehouse, day)[0].select("account_id", "photo_id", "n_creatives")
        logged = logs.where(F.col("dt") == F.lit(day)).select("account_id", "photo_id", "n_creatives")
        assert logged.count() == world.n_pairs + i * arrivals_per_day(world)
        assert world.n_pairs <= allocation.count() <= logged.count() - arrivals_per_day(world)
        assert allocation.exceptAll(logged).count() == 0
    truth_days = {r[0] for r in spark.read.format("delta").load(cfg.table("truth")).select("dt").distinct().collect()}
    assert truth_days == {*days, days[-1] + dt.timedelta(days=1)}
    table = spark.read.format("delta").load(cfg.table("closed_loop")).orderBy("dt").collect()
    assert [r["dt"] for r in table] == days
    measured = spark.read.format("delta").load(cfg.table("experiment_results")).orderBy("dt").collect()
    assert [r["dt"] for r in measured] == days
    assert [r["uplift"] for r in measured] == pytest.approx([n.uplift for n in nights])
    report = Path(cfg.warehouse) / "reports" / str(days[-1])
    text = (report / "report.md").read_text()
    assert "## Closed loop" in text and "## Holdout: uplift measured from the logs" in text
    assert (report / "closed_loop.png").is_file() and (report / "uplift.png").is_file()


def test_the_closed_loop_refuses_a_fixed_run_date_and_no_nights(spark, make_cfg):
    with pytest.raises(ConfigError, match="--nights must be at least 1"):
        run_closed_loop(spark, make_cfg(), 0)
    with pytest.raises(ConfigError, match="run_date must be null"):
        run_closed_loop(spark, make_cfg("run_date=2026-01-16"), 2)


def test_the_world_logs_a_decided_day_under_the_allocation_or_under_its_own_logging_policy(spark, make_cfg):
    cfg = make_cfg("simulate.n_pairs=300")
    world = run_simulation(spark, cfg)
    day = world.decision_date
    last = spark.read.format("delta").load(cfg.input_path).where(F.col("dt") == F.lit(day - dt.timedelta(days=1)))
    chosen = last.select("account_id", "photo_id").withColumns(
        {"level": F.lit(1), "n_creatives": F.lit(cfg.levels[1]), "r": F.lit(1.0)}
    )
    table = allocation_table(chosen, day, 0.5, "run-test", "acq")
    publish_day(spark, cfg.warehouse, day, {"allocation": table, "account_rules": account_rules(table)}, "run-test")

    def logged():
        return spark.read.format("delta").load(cfg.input_path).where(F.col("dt") == F.lit(day))

    log_published_day(spark, cfg, day)
    under_allocation = logged().join(chosen.select("account_id", "photo_id"), ["account_id", "photo_id"])
    assert under_allocation.count() == chosen.count() > 0
    assert {r[0] for r in under_allocation.select("n_creatives").distinct().collect()} == {cfg.levels[1]}

    own_policy = dataclasses.replace(cfg, simulate=dataclasses.replace(cfg.simulate, logged_under="logging_policy"))
    log_published_day(spark, own_policy, day)
    pairs = simulate_pairs(spark, world, through_day=world.day_of(day + dt.timedelta(days=1)))
    policy_day = simulate_day(pairs, world, world.day_of(day)).select(*logged().columns)
    assert logged().count() == policy_day.count() == world.n_pairs + arrivals_per_day(world)
    assert logged().exceptAll(policy_day).count() == 0
    assert logged().where(F.col("n_creatives") != cfg.levels[1]).count() > 0  # not the allocation's
