from __future__ import annotations

import numpy as np
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from acq_spark.simulate import simulate_daily, simulate_pairs, simulate_truth
from acq_spark.simulate.job import run_simulation, world_params
from acq_spark.summary import input_summary
from acq_spark.validation import SCHEMA, validate


def test_same_seed_gives_identical_tables_whatever_the_partitioning(spark, make_cfg):
    a = make_cfg("simulate.n_pairs=300", "simulate.partitions=2")
    b = make_cfg("simulate.n_pairs=300", "simulate.partitions=3", "warehouse=" + a.warehouse + "_b")
    run_simulation(spark, a)
    run_simulation(spark, b)
    for name in ("creative_daily", "truth"):
        left = spark.read.format("delta").load(a.table(name))
        right = spark.read.format("delta").load(b.table(name))
        assert_df_equality(left, right, ignore_row_order=True)
    other = simulate_daily(
        simulate_pairs(spark, world_params(make_cfg("simulate.n_pairs=300", "seed=1"))), world_params(a)
    )
    assert other.exceptAll(spark.read.format("delta").load(a.table("creative_daily"))).count() > 0


def test_simulated_rows_meet_the_input_contract(spark, cfg):
    daily = simulate_daily(simulate_pairs(spark, world_params(cfg)), world_params(cfg))
    assert daily.schema.simpleString() == SCHEMA.simpleString()
    result = validate(daily, cfg.validation.outlier)
    assert (result.bad_rows, result.outlier_rows) == (0, 0), "the outlier guard's defaults flag no simulated cost"
    # The same 2,000-pair world with one cost of 1e12 (a real row's cost, so the input stays unique per key).
    one = daily.where(F.col("cost") > 0).orderBy("dt", "account_id", "photo_id").limit(1)
    bad = daily.exceptAll(one).unionByName(one.withColumn("cost", F.lit(1e12)))
    result = validate(bad, cfg.validation.outlier)
    assert (result.bad_rows, result.outlier_rows) == (1, 1)
    assert result.quarantine.select("cost", "reason").collect() == [(1e12, "outlier")]
    assert result.outlier_bound < 20_000 * 10


@pytest.fixture(scope="module")
def default_world(spark):
    from acq_spark.config import load_config

    params = world_params(load_config(None, []))  # the default size: 100k pairs x 15 days
    assert (params.n_pairs, params.n_days) == (100_000, 15)
    return params, simulate_pairs(spark, params)


def test_default_world_matches_table_1(default_world):
    params, pairs = default_world
    s = input_summary(simulate_daily(pairs, params))
    assert s["pairs"] == 100_000 and s["days"] == 15
    assert 0.97 <= s["zero_cost_share"] <= 0.99
    assert 0.6 <= s["mean"] <= 1.0
    assert 25 <= s["std"] <= 60
    assert 5_000 <= s["max"] <= 20_000


def test_truth_is_non_decreasing_and_concave_in_creatives(default_world):
    params, pairs = default_world
    truth = simulate_truth(pairs, params)
    curves = np.array(truth.select("expected_cost").toPandas()["expected_cost"].tolist())
    n = np.array(params.levels, dtype=float)
    assert curves.shape == (100_000, len(n))
    assert np.all(np.diff(curves, axis=1) >= 0)
    slopes = np.diff(curves, axis=1) / np.diff(n)
    assert np.all(np.diff(slopes, axis=1) <= 1e-12)
    assert truth.select(F.min("dt")).first()[0] == params.decision_date
