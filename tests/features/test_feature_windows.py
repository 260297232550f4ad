"""Window statistics against hand-computed values: gaps in days, a pair starting mid-window, account totals."""

from __future__ import annotations

import math

from chispa import assert_approx_df_equality, assert_df_equality
from feature_sample import LEVELS, WINDOWS, day
from pyspark.sql import functions as F
from pyspark.sql import types as T

from acq_spark.features.assemble import with_decision_probes, with_point_in_time_features
from acq_spark.ingest.levels import level_creatives

CHECKED = [
    "dt", "account_id", "photo_id", "level_idx",
    "cost_sum_1d", "cost_sum_3d", "cost_mean_3d", "n_creatives_sum_3d", "days_active_3d", "cost_per_creative_3d",
    "acct_cost_sum_3d", "acct_n_creatives_sum_3d", "pair_age_days", "obs_per_level", "cost_7d",
]  # fmt: skip
CHECKED_SCHEMA = T.StructType(
    [
        T.StructField("dt", T.DateType()),
        T.StructField("account_id", T.LongType()),
        T.StructField("photo_id", T.LongType()),
        T.StructField("level_idx", T.IntegerType()),
        *[T.StructField(name, T.DoubleType()) for name in CHECKED[4:13]],
        T.StructField("obs_per_level", T.ArrayType(T.IntegerType())),
        T.StructField("cost_7d", T.DoubleType()),
    ]
)
# dt, account, photo, level | cost 1d, 3d, mean 3d, n 3d, active 3d, cpc 3d | acct cost 3d, acct n 3d, age | obs, 7d
EXPECTED_ROWS = [
    (day(0), 1, 10, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, [0, 0, 0], 0.0),
    (day(1), 1, 10, 1, 1.0, 1.0, 1 / 3, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, [1, 0, 0], 1.0),
    (day(3), 1, 10, None, 0.0, 3.0, 1.0, 3.0, 2.0, 1.0, 3.0, 3.0, 3.0, [1, 1, 0], 3.0),
    (day(6), 1, 10, 2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 3.0, 6.0, [0, 0, 0], 3.0),
    (day(5), 1, 11, 1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, [0, 0, 0], 0.0),
    (day(6), 1, 11, 0, 3.0, 3.0, 1.0, 3.0, 1.0, 1.0, 3.0, 3.0, 1.0, [0, 1, 0], 3.0),
    (day(6), 2, 20, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, [0, 0, 0], 0.0),
]
# The decision day 7: probes for the three pairs seen on day 6.
EXPECTED_PROBES = [
    (day(7), 1, 10, None, 4.0, 4.0, 4 / 3, 5.0, 1.0, 0.8, 7.0, 9.0, 7.0, [0, 0, 1], 7.0),
    (day(7), 1, 11, None, 0.0, 3.0, 1.0, 4.0, 2.0, 0.75, 7.0, 9.0, 2.0, [1, 1, 0], 3.0),
    (day(7), 2, 20, None, 0.5, 0.5, 0.5 / 3, 1.0, 1.0, 0.5, 0.5, 1.0, 1.0, [1, 0, 0], 0.5),
]


def test_window_stats_match_hand_computed_values(spark, source_df):
    actual_df = source_df.transform(with_point_in_time_features, WINDOWS, LEVELS).select(*CHECKED)
    expected_df = spark.createDataFrame(EXPECTED_ROWS, CHECKED_SCHEMA)
    assert_approx_df_equality(actual_df, expected_df, 1e-9, ignore_nullable=True, ignore_row_order=True)


def test_decision_day_probes_see_every_earlier_day(spark, source_df):
    actual_df = (
        source_df.transform(with_decision_probes, day(7), day(6))
        .transform(with_point_in_time_features, WINDOWS, LEVELS)
        .where("is_probe")
        .select(*CHECKED)
    )
    expected_df = spark.createDataFrame(EXPECTED_PROBES, CHECKED_SCHEMA)
    assert_approx_df_equality(actual_df, expected_df, 1e-9, ignore_nullable=True, ignore_row_order=True)


def test_level_creatives_map_n_to_the_largest_level_not_above_it(spark):
    schema = "n_creatives int"
    source_df = spark.createDataFrame([(None,), (0,), (1,), (4,), (5,), (500,)], schema)
    actual_df = source_df.select("n_creatives", level_creatives(F.col("n_creatives"), LEVELS).alias("creatives"))
    expected_df = spark.createDataFrame(
        [(None, 0), (0, 0), (1, 1), (4, 2), (5, 5), (500, 5)], "n_creatives int, creatives int"
    )
    assert_df_equality(actual_df, expected_df, ignore_row_order=True, ignore_nullable=True)


def test_level_adjusted_cost_divides_each_day_by_log_of_one_plus_its_creatives(spark, source_df):
    adjusted = ["cost_level_adj_sum_3d", "cost_level_adj_mean_3d", "acct_cost_level_adj_sum_3d"]
    columns = ["account_id", "photo_id", *adjusted]
    actual_df = (
        source_df.transform(with_decision_probes, day(7), day(6))
        .transform(with_point_in_time_features, WINDOWS, LEVELS)
        .where("is_probe")
        .select(*columns)
    )
    # Days 4 to 6. Pair (1, 10): 4.0 at 5 creatives; (1, 11): 3.0 at 3, then 0.0 at 1; (2, 20): 0.5 at 1.
    pair_10, pair_11, pair_20 = 4.0 / math.log(6), 3.0 / math.log(4), 0.5 / math.log(2)
    expected_df = spark.createDataFrame(
        [
            (1, 10, pair_10, pair_10 / 3, pair_10 + pair_11),
            (1, 11, pair_11, pair_11 / 3, pair_10 + pair_11),
            (2, 20, pair_20, pair_20 / 3, pair_20),
        ],
        actual_df.schema,
    )
    assert_approx_df_equality(actual_df, expected_df, 1e-9, ignore_nullable=True, ignore_row_order=True)
