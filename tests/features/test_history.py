"""Reading only the input days a run needs: a 40-day history gives the same features and allocation as
reading every day, through the incremental ``pair_history`` table (built from scratch, then one day folded on)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import functions as F

from acq_spark import PROJECT_ROOT
from acq_spark.allocation.publish import read_published
from acq_spark.config import load_config
from acq_spark.features.job import run_build_features
from acq_spark.ingest.days import partition_days, read_from
from acq_spark.pipeline.nightly import run_nightly
from acq_spark.platform.catalog import PAIR_HISTORY
from acq_spark.platform.delta_tables import read_table
from acq_spark.simulate.job import run_simulation

TEST_CONFIG = PROJECT_ROOT / "conf" / "test.yaml"
# Table 4 off: these nightlies are compared with each other, not with the truth (tests/test_chain.py runs it).
WORLD = [
    "simulate.n_pairs=250", "simulate.n_days=40", "train.epochs=1", "train.patience=1", "train.evaluate=false",
    "report.table4=false",
]  # fmt: skip
ROW_KEY = ["dt", "account_id", "photo_id"]


def features_of(spark, cfg, day: dt.date, days_read: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training examples of the label days before ``day`` and the scoring rows of ``day``, sorted."""
    spec = run_build_features(spark, dataclasses.replace(cfg, run_date=day)).spec
    assert len(spec.calendar.per_day) == days_read
    labels = list(spec.label_days)
    examples = spark.read.format("delta").load(cfg.table("training_examples")).where(F.col("dt").isin(labels))
    scoring = spark.read.format("delta").load(cfg.table("scoring_rows")).where(F.col("dt") == F.lit(day))
    sort = lambda df: df.toPandas().sort_values(ROW_KEY).reset_index(drop=True)  # noqa: E731
    return sort(examples), sort(scoring)


def assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert len(a) == len(b) > 0
    for column in a.columns:
        if a[column].dtype == object and not isinstance(a[column].iloc[0], str | dt.date):  # arrays
            assert [list(x) for x in a[column]] == [list(x) for x in b[column]], column
        else:
            pd.testing.assert_series_equal(a[column], b[column], check_exact=True, obj=column)


@pytest.fixture(scope="module")
def long_world(spark, tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("history") / "warehouse"
    cfg = load_config(TEST_CONFIG, [f"warehouse={warehouse}", *WORLD])
    run_simulation(spark, cfg)
    return cfg


def test_the_read_starts_the_longest_window_before_the_first_label_day(spark, long_world):
    cfg = long_world
    days = partition_days(read_table(spark, cfg.input_path))
    assert len(days) == 40
    # 14 label days (days 27..40 before the decision day 41) and a 14-day window: from day 13 on
    assert read_from(days, cfg) == days[12]
    assert read_from(days, dataclasses.replace(cfg, input=dataclasses.replace(cfg.input, days="all"))) is None
    assert read_from(days[:28], cfg) is None  # 28 days: all of them are needed
    # windows shorter than cost_7d's 7 days: the read still starts 7 days before the first label day (day 20)
    short = dataclasses.replace(cfg, features=dataclasses.replace(cfg.features, windows=(1, 3)))
    assert read_from(days, short) == days[19]


def test_forty_days_give_the_same_features_and_allocation_as_the_needed_days(spark, long_world):
    cfg = long_world
    every = dataclasses.replace(cfg, input=dataclasses.replace(cfg.input, days="all"))
    days = partition_days(read_table(spark, cfg.input_path))
    first_night, decision = days[-2], days[-1] + dt.timedelta(days=1)

    # decision day 39: label days 25..38, read from day 11; the pair facts of days 1..10 built from scratch
    full = features_of(spark, every, first_night, days_read=38)
    needed = features_of(spark, cfg, first_night, days_read=28)
    for a, b in zip(full, needed, strict=True):
        assert_same(a, b)
    records = sorted(p.name for p in Path(cfg.table("artifacts/pair_history")).glob("*.json"))
    assert records == [f"{days[10]}.json"]  # days 1..11: the next night adds day 12 to it

    # the nightly reading all 40 days, then the one reading days 13..40 (snapshot of day 11 plus day 12)
    run_nightly(spark, dataclasses.replace(every, run_date=decision))
    allocation_all, _ = read_published(spark, cfg.warehouse, decision)
    full = (
        spark.read.format("delta").load(cfg.table("scoring_rows")).where(F.col("dt") == F.lit(decision)).toPandas()
    )
    model = Path(cfg.table("models"), "LATEST").read_text().strip()
    want = allocation_all.select("account_id", "photo_id", "n_creatives").toPandas()

    pinned = dataclasses.replace(cfg, run_date=decision, score=dataclasses.replace(cfg.score, model_version=model))
    run_nightly(spark, pinned)
    allocation_needed, _ = read_published(spark, cfg.warehouse, decision)
    got = allocation_needed.select("account_id", "photo_id", "n_creatives").toPandas()
    needed = (
        spark.read.format("delta").load(cfg.table("scoring_rows")).where(F.col("dt") == F.lit(decision)).toPandas()
    )
    assert_same(*(df.sort_values(ROW_KEY).reset_index(drop=True) for df in (full, needed)))
    keys = ["account_id", "photo_id"]
    assert_same(*(df.sort_values(keys).reset_index(drop=True) for df in (want, got)))
    assert got["n_creatives"].sum() > 0

    snapshots = spark.read.format("delta").load(cfg.table(PAIR_HISTORY)).select("as_of").distinct().collect()
    assert sorted(r["as_of"] for r in snapshots) == [days[10], days[12]]
