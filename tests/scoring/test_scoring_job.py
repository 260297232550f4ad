"""Which numeric input the scorer reads (packed column or per-feature columns); which model wrote a day's scores."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import functions as F

from acq_spark.features.assemble import packed_numeric
from acq_spark.features.columns import NUMERIC_PACKED
from acq_spark.platform.delta_tables import replace_days
from acq_spark.scoring.job import numeric_input, scores_model_version

SCHEMA = "account_id long, a double, b double"


@pytest.fixture
def source_df(spark):
    return spark.createDataFrame([(1, 1.5, 2.0), (2, None, 0.25)], SCHEMA)


def _values(df, column) -> list:
    return [r[0] for r in df.orderBy("account_id").select(column).collect()]


def test_a_packed_column_naming_the_models_features_is_read_as_it_is(source_df):
    # Packed values that differ from the columns show which of the two was read.
    stored = source_df.select("account_id", F.array(F.lit(7.0).cast("float")).alias("x"))
    rows = stored.select("account_id", F.col("x").alias(NUMERIC_PACKED, metadata={"features": ["a", "b"]}))
    assert _values(rows, numeric_input(rows, ["a", "b"])) == [[7.0], [7.0]]


def test_without_a_matching_packed_column_the_feature_columns_are_packed_in_the_models_order(source_df):
    rows = source_df.select("*", packed_numeric(["a", "b"]))  # named for the order a, b
    assert _values(rows, numeric_input(rows, ["b", "a"])) == [[2.0, 1.5], [0.25, None]]
    assert _values(source_df, numeric_input(source_df, ["a", "b"])) == [[1.5, 2.0], [None, 0.25]]


def test_rows_without_the_models_features_are_an_error_naming_them(source_df):
    with pytest.raises(ValueError, match=r"lack 1 of the model's numeric features \(e\.g\. \['c'\]\)"):
        numeric_input(source_df, ["a", "c"])


def test_the_model_of_a_days_scores_is_read_from_the_commit_that_wrote_them(spark, tmp_path):
    d1, d2 = dt.date(2026, 1, 5), dt.date(2026, 1, 6)
    path = str(tmp_path / "scores")
    for day, model in ((d1, "m1"), (d2, "m2"), (d1, "m3")):  # versions 0, 1, 2
        rows = spark.createDataFrame([(day, 1, [1.0])], "dt date, account_id long, r array<double>")
        replace_days(rows, path, [day], metadata={"dt": day, "model_version": model})
    assert [scores_model_version(spark, path, d1, v) for v in (0, 1, 2, None)] == ["m1", "m1", "m3", "m3"]
    assert scores_model_version(spark, path, d2) == "m2"
    assert scores_model_version(spark, path, dt.date(2026, 1, 7)) is None
    assert scores_model_version(spark, str(tmp_path / "nothing"), d1) is None
