"""Exploration in the allocation: which pairs explore on a day, at which level, and what the job publishes."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import functions as F

from acq_spark.allocation.explore import explore_allocation, explore_level, explored

DAY = dt.date(2026, 1, 16)
LEVELS = (1, 2, 3, 5, 8, 13, 20, 50, 100)


@pytest.fixture(scope="module")
def pairs(spark):
    account = F.floor(F.col("id") / 7).cast("long").alias("account_id")
    return spark.range(20_000).select(account, F.col("id").alias("photo_id")).cache()


def test_a_share_of_the_pairs_explores_other_pairs_each_day_and_the_same_ones_on_a_rerun(pairs):
    n = pairs.count()
    flags = pairs.select(
        explored(42, DAY, 0.2).cast("int").alias("today"),
        explored(42, DAY, 0.2).cast("int").alias("again"),
        explored(42, DAY + dt.timedelta(days=1), 0.2).cast("int").alias("tomorrow"),
        explored(7, DAY, 0.2).cast("int").alias("other_seed"),
    ).toPandas()
    assert (flags["today"] == flags["again"]).all()
    for column in ("today", "tomorrow", "other_seed"):
        assert flags[column].mean() == pytest.approx(0.2, abs=0.012), column  # 4 standard errors at 20,000 pairs
    # the days' draws are independent: about 0.2 × 0.2 of the pairs explore on both
    assert (flags["today"] & flags["tomorrow"]).mean() == pytest.approx(0.04, abs=0.006)
    assert (flags["today"] & flags["other_seed"]).mean() == pytest.approx(0.04, abs=0.006)
    assert len(flags) == n


def test_an_exploring_pair_runs_a_level_drawn_uniformly_with_its_creatives_and_its_r(pairs):
    levels = pairs.select(explore_level(42, DAY, len(LEVELS)).alias("level")).toPandas()["level"]
    assert set(levels) == set(range(len(LEVELS)))
    shares = levels.value_counts(normalize=True)
    assert (shares - 1 / len(LEVELS)).abs().max() < 0.012  # each level 1/9 within 5 standard errors

    scores = pairs.limit(500).withColumn("r", F.array(*[F.col("photo_id") * 1000.0 + k for k in range(len(LEVELS))]))
    rows = explore_allocation(scores, LEVELS, 42, DAY).collect()
    assert len(rows) == 500
    for row in rows:
        assert row["n_creatives"] == LEVELS[row["level"]]
        assert row["r"] == row["photo_id"] * 1000.0 + row["level"]
