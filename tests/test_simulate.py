from __future__ import annotations

import dataclasses
import datetime as dt
import re
import runpy
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from spark_settings import spark_codegen

from acq_spark import PROJECT_ROOT
from acq_spark.errors import InputExistsError
from acq_spark.ingest import presence as has_input
from acq_spark.ingest.validation import SCHEMA, validate
from acq_spark.platform.delta_tables import delta_version, table_exists
from acq_spark.simulate import simulate_daily, simulate_day, simulate_pairs, simulate_truth
from acq_spark.simulate.job import run_simulation, world_params
from acq_spark.simulate.world import arrivals_per_day

TINY = ["simulate.n_pairs=40", "simulate.n_days=3", "simulate.partitions=1"]


def make_test_config_for(cfg, n_pairs: int):
    """``cfg`` with a world of ``n_pairs`` pairs."""
    return dataclasses.replace(cfg, simulate=dataclasses.replace(cfg.simulate, n_pairs=n_pairs))


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


def write_parquet(path: Path) -> Path:
    """A one-row Parquet file at ``path`` (any name, no ``.parquet`` needed), folders created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"account_id": [1], "photo_id": [2], "cost": [3.5]}), path)
    return path


def simulate_job(warehouse: Path, *args: str) -> int:
    """``python jobs/simulate.py ARGS`` on a tiny world in ``warehouse``; its exit status."""
    argv = ["--config", str(PROJECT_ROOT / "conf" / "test.yaml"), "--set", f"warehouse={warehouse}"]
    argv += [arg for item in TINY for arg in ("--set", item)]
    return runpy.run_path(str(PROJECT_ROOT / "jobs" / "simulate.py"))["main"](argv + list(args))


def test_the_simulator_refuses_input_in_any_format_and_layout(spark, make_cfg, tmp_path):
    hive_file = write_parquet(tmp_path / "hive" / "dt=2026-01-01" / "000000_0")
    single_file = write_parquet(tmp_path / "single" / "creative_daily")
    cases = [(hive_file.parents[1], "delta"), (hive_file.parents[1], "parquet"), (single_file, "parquet")]
    for path, fmt in cases:
        cfg = make_cfg(f"input.path={path}", f"input.format={fmt}", *TINY)
        message = rf"creative_daily at {re.escape(str(path))} already holds data .*pass --force to replace it"
        with pytest.raises(InputExistsError, match=message):
            run_simulation(spark, cfg)
    assert pq.read_table(hive_file).num_rows == pq.read_table(single_file).num_rows == 1
    assert not table_exists(spark, cfg.table("truth"))
    # the warehouse's truth counts too, even when input.path is empty
    truth = write_parquet(Path(cfg.table("truth")) / "part-0")
    with pytest.raises(InputExistsError, match=rf"truth at {re.escape(cfg.table('truth'))} already holds data"):
        run_simulation(spark, make_cfg(f"input.path={tmp_path / 'empty'}", *TINY))
    assert truth.is_file()


def test_make_run_simulates_only_into_an_empty_warehouse_and_force_replaces(spark, tmp_path):
    warehouse = tmp_path / "warehouse"
    probe = ["--config", str(PROJECT_ROOT / "conf" / "test.yaml"), "--set", f"warehouse={warehouse}"]
    assert has_input.main(probe) == 1, "no input: make run simulates"
    assert simulate_job(warehouse) == 0
    assert has_input.main(probe) == 0, "input: make run goes straight to the nightly chain"
    daily = warehouse.resolve() / "creative_daily"
    with pytest.raises(InputExistsError, match=rf"creative_daily at {re.escape(str(daily))} already holds data"):
        simulate_job(warehouse)
    version = delta_version(spark, str(daily))
    assert simulate_job(warehouse, "--force") == 0
    assert delta_version(spark, str(daily)) == version + 1


@pytest.fixture(scope="module")
def default_world(spark):
    from acq_spark.config import load_config

    params = world_params(load_config(None, []))  # the default size: 100k pairs x 15 days
    assert (params.n_pairs, params.n_days) == (100_000, 15)
    with spark_codegen(spark):
        yield params, simulate_pairs(spark, params)


def table1_figures(df) -> dict:
    """The paper's Table-1 figures of a ``creative_daily`` frame: pairs, days, zero-cost share, cost moments."""
    return df.agg(
        F.countDistinct("account_id", "photo_id").alias("pairs"),
        F.countDistinct("dt").alias("days"),
        F.avg((F.col("cost") == 0).cast("double")).alias("zero_cost_share"),
        F.avg("cost").alias("mean"),
        F.stddev_samp("cost").alias("std"),
        F.max("cost").alias("max"),
    ).first().asDict()


def test_default_world_matches_table_1(default_world):
    params, pairs = default_world
    s = table1_figures(simulate_daily(pairs, params))
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


def test_a_day_logged_under_an_allocation_runs_exactly_its_creatives(spark, cfg):
    world = world_params(make_test_config_for(cfg, 300))
    day = world.n_days  # the decision day: every pair of the window has started, and new ones arrive
    pairs = simulate_pairs(spark, world, through_day=day + 1)
    # two thirds of the window's pairs get a level, alternately the smallest and the largest; the rest have no row
    given = pairs.where((F.col("pair_id") % 3 != 0) & (F.col("pair_id") < world.n_pairs)).select(
        "account_id", "photo_id", F.when(F.col("pair_id") % 2 == 0, 1).otherwise(100).alias("given")
    )
    policy = simulate_day(pairs, world, day).select("account_id", "photo_id", F.col("n_creatives").alias("policy"))
    logged = simulate_day(pairs, world, day, given.withColumnRenamed("given", "n_creatives"))
    rows = (
        logged.join(given, ["account_id", "photo_id"], "left")
        .join(policy, ["account_id", "photo_id"], "left")
        .select("dt", "n_creatives", "given", "policy")
        .collect()
    )
    # the window's pairs and the day's arrivals (at the window's rate of late starts), not the next day's
    assert len(rows) == world.n_pairs + arrivals_per_day(world) > world.n_pairs
    assert {r["dt"] for r in rows} == {world.decision_date}
    with_row = [r for r in rows if r["given"] is not None]
    assert len(with_row) == 200
    assert all(r["n_creatives"] == r["given"] for r in with_row)
    # a pair without a row (an arrival too) runs the logging policy's creatives of that day
    assert all(r["n_creatives"] == r["policy"] for r in rows if r["given"] is None)
    # the window's pairs are the world's own, the same with or without arrivals
    own = simulate_pairs(spark, world).select("pair_id", "a", "start_day").collect()
    later = pairs.where(F.col("pair_id") < world.n_pairs).select("pair_id", "a", "start_day").collect()
    assert sorted(own) == sorted(later)


def test_more_creatives_cost_at_least_as_much_pair_by_pair_and_in_expectation(spark, cfg):
    world = world_params(make_test_config_for(cfg, 400))
    pairs = simulate_pairs(spark, world)
    day = world.n_days + 1
    everyone = pairs.select("account_id", "photo_id")

    def costs(n: int, name: str):
        logged = simulate_day(pairs, world, day, everyone.withColumn("n_creatives", F.lit(n)))
        return logged.select("account_id", "photo_id", F.col("cost").alias(name))

    level = {n: i + 1 for i, n in enumerate(world.levels)}
    truth = simulate_truth(pairs, world, day).select(
        "account_id", "photo_id", "dt",
        F.element_at("expected_cost", level[2]).alias("true_few"),
        F.element_at("expected_cost", level[50]).alias("true_many"),
    )  # fmt: skip
    rows = costs(2, "few").join(costs(50, "many"), ["account_id", "photo_id"]).join(truth, ["account_id", "photo_id"])
    rows = rows.collect()
    assert len(rows) == world.n_pairs
    # the same noise for the same (pair, day): a pair given more creatives never realises less
    assert all(r["many"] >= r["few"] for r in rows)
    assert sum(r["many"] for r in rows) > sum(r["few"] for r in rows)
    # the truth moves with the day, and its curves are non-decreasing: 50 creatives cost at least 2 in expectation
    assert {r["dt"] for r in rows} == {world.start_date + dt.timedelta(days=day)}
    assert all(r["true_many"] >= r["true_few"] > 0 for r in rows)
