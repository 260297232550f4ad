"""Small helpers over Spark DataFrames and the session's JVM that every layer uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, Row, SparkSession


def one_row(df: DataFrame) -> Row:
    """The first row of ``df``, which always has one (an aggregate without grouping, a Delta table's detail).

    Raises:
        ValueError: ``df`` has no row after all.
    """
    row = df.first()
    if row is None:
        raise ValueError(f"expected a row, got none from {df.columns}")
    return row


def jvm(spark: SparkSession) -> Any:
    """The JVM gateway of ``spark``'s context (py4j's view: every Java name is reached through it)."""
    gateway = spark.sparkContext._jvm
    if gateway is None:
        raise RuntimeError("the Spark session has no JVM gateway (its context was stopped)")
    return gateway
