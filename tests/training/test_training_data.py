"""The training sample reaches this process through Parquet files on the warehouse, not the driver's heap."""

from __future__ import annotations

import datetime as dt

from pyspark.sql import types as T

from acq_spark.training.data import collect_arrow

SCHEMA = T.StructType(
    [
        T.StructField("dt", T.DateType()),
        T.StructField("account_id", T.LongType()),
        T.StructField("cost", T.DoubleType()),
    ]
)


def test_collect_arrow_gives_every_row_and_leaves_no_staging_files(spark, tmp_path):
    day = dt.date(2026, 1, 5)
    source_df = spark.createDataFrame([(day, 1, 0.0), (day, 2, 3.5), (None, 3, None)], SCHEMA).repartition(3)
    staging = tmp_path / "warehouse" / "_staging" / "sample"

    actual = collect_arrow(source_df, str(staging))

    rows = sorted(zip(*(actual.column(c).to_pylist() for c in ("account_id", "dt", "cost")), strict=True))
    assert rows == [(1, day, 0.0), (2, day, 3.5), (3, None, None)]
    assert actual.schema.names == ["dt", "account_id", "cost"]
    assert not staging.exists()
