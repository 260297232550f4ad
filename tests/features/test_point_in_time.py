"""No feature reads its own label day: perturbing day t and every later day leaves the features of day t unchanged."""

from __future__ import annotations

import datetime as dt

from chispa import assert_df_equality
from feature_sample import LEVELS, SOURCE_ROWS, WINDOWS, day, source_frame
from pyspark.sql import functions as F

from acq_spark.features.assemble import feature_columns, with_point_in_time_features, with_sparse_indices
from acq_spark.features.columns import SPARSE
from acq_spark.features.vocab import VOCAB_SCHEMA, vocab_rows


def perturbed_rows(label_day: dt.date) -> list[tuple]:
    """Every raw value of ``label_day`` and later days changed, plus new rows on a later day."""
    before = [r for r in SOURCE_ROWS if r[0] < label_day]
    changed = [
        (d, account, photo, "zz", "zz", None, n + 7, cost * 100 + 1, target + 5, conversions + 3, 999)
        for d, account, photo, _, _, _, n, cost, target, conversions, _ in SOURCE_ROWS
        if d >= label_day
    ]
    later = [
        (day(9), 1, 10, "p9", "i9", "j9", 50, 1e4, 9.0, 9, 9),
        (day(9), 2, 20, "p9", "i9", "j9", 13, 50.0, 1.0, 1, 1),
    ]
    return before + changed + later


def features_on(spark, rows: list[tuple], label_day: dt.date):
    vocabs = {name: spark.createDataFrame(vocab_rows(["p1", "p2", "i1", "j1", "zz"]), VOCAB_SCHEMA) for name in SPARSE}
    return (
        source_frame(spark, rows)
        .transform(with_point_in_time_features, WINDOWS, LEVELS)
        .transform(with_sparse_indices, vocabs)
        .where(F.col("dt") == F.lit(label_day))
        .select("dt", "account_id", "photo_id", *feature_columns(WINDOWS))
    )


def test_features_ignore_the_label_day_and_later(spark):
    label_day = day(6)  # three pairs, with gaps, a mid-window start and two accounts behind them
    perturbed = perturbed_rows(label_day)
    assert {r[1:3] for r in perturbed if r[0] == label_day} == {r[1:3] for r in SOURCE_ROWS if r[0] == label_day}
    assert [r for r in perturbed if r[0] == label_day] != [r for r in SOURCE_ROWS if r[0] == label_day]
    expected_df = features_on(spark, SOURCE_ROWS, label_day)
    actual_df = features_on(spark, perturbed, label_day)
    assert actual_df.count() == 3
    assert_df_equality(actual_df, expected_df, ignore_row_order=True)
