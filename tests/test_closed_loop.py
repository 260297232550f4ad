"""The closed loop on a small simulated world: three nights of nightly → the world logs the day → next night."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from acq_spark.allocation.publish import read_published
from acq_spark.config import ConfigError
from acq_spark.pipeline.closed_loop import run_closed_loop
from acq_spark.simulate.job import run_simulation
from acq_spark.simulate.world import arrivals_per_day

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
