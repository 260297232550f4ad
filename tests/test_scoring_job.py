"""Which numeric input the scorer reads: scoring_rows' packed column, or the per-feature columns."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from acq_spark.features.assemble import packed_numeric
from acq_spark.features.columns import NUMERIC_PACKED
from acq_spark.scoring.job import numeric_input

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
