"""The one read of ``creative_daily`` (``input.path``) every stage uses, with ``dt`` as a date (spec §2).

Producers write the day as a date or as a timestamp at midnight. Pandas' default, ``datetime64[ns]``, is
Parquet ``TIMESTAMP(NANOS)``, which Spark reads only as a long of nanoseconds since the epoch
(``spark.sql.legacy.parquet.nanosAsLong``, set by :func:`acq_spark.spark.session_conf`); the other units are
read as timestamps. Either becomes its date (UTC) by a cast of the one column; a date, such as a ``dt=``
partition column, stays as it is. A time of day other than midnight is refused by :func:`check_days`, which
validation runs before it counts anything.
"""

from __future__ import annotations

from typing import NamedTuple

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from acq_spark.config import Config
from acq_spark.errors import InputSchemaError
from acq_spark.tables import read_table, reading

DT = "dt"
WHAT = "creative_daily (input.path)"
NANOS_PER_DAY = 86_400 * 10**9


class _DayOf(NamedTuple):
    """Column expressions over a timestamp-like ``dt``: its date, whether it is off midnight, its text."""

    date: Column
    off_midnight: Column
    text: Column


def _day_of(dtype: T.DataType, longs_are_nanos: bool) -> _DayOf | None:
    """How to read ``dt`` of type ``dtype`` as a day; None when it is not a timestamp (left to the schema check)."""
    value = F.col(DT)
    if isinstance(dtype, T.TimestampType | T.TimestampNTZType):
        return _DayOf(F.to_date(value), value != F.date_trunc("day", value), value.cast("string"))
    if longs_are_nanos and isinstance(dtype, T.LongType):
        # Integer division: as a double, 1.7e18 ns loses ~100 ns, enough to land midnight on the day before.
        days = F.expr(f"`{DT}` div {NANOS_PER_DAY}").cast("int")
        micros = F.timestamp_micros(F.expr(f"`{DT}` div 1000"))
        return _DayOf(F.date_from_unix_date(days), F.pmod(value, F.lit(NANOS_PER_DAY)) != 0, micros.cast("string"))
    return None


def with_dt_as_date(df: DataFrame, longs_are_nanos: bool = True) -> DataFrame:
    """``df`` with a timestamp ``dt`` (or, with ``longs_are_nanos``, a long of nanoseconds) cast to its date (UTC).

    A time of day is dropped here; :func:`check_days` is what refuses it. Any other ``dt`` is left as it is.
    """
    if DT not in df.columns:
        return df
    day = _day_of(df.schema[DT].dataType, longs_are_nanos)
    return df if day is None else df.withColumn(DT, day.date)


def check_days(df: DataFrame, longs_are_nanos: bool = True) -> None:
    """Refuse a timestamp ``dt`` with a time of day other than midnight (UTC).

    Only a timestamp ``dt`` is looked at, and only that column, up to its first offending row.

    Raises:
        InputSchemaError: naming the column, an example value and the fix.
    """
    day = _day_of(df.schema[DT].dataType, longs_are_nanos) if DT in df.columns else None
    if day is None:
        return
    found = df.where(day.off_midnight).select(day.text).limit(1).collect()
    if found:
        raise InputSchemaError(
            f"creative_daily: column '{DT}' holds times of day (e.g. {found[0][0]}), not days; "
            "write dt as a date, or as a timestamp at midnight UTC"
        )


def read_input(spark: SparkSession, cfg: Config, check: bool = False) -> DataFrame:
    """``creative_daily`` at ``input.path`` (``input.format``), its ``dt`` a date (:func:`with_dt_as_date`).

    A long ``dt`` is taken for nanoseconds in Parquet only: Delta stores no nanosecond timestamps.

    Args:
        spark: the session.
        cfg: the configuration.
        check: refuse times of day other than midnight first (:func:`check_days`; one pass over ``dt``).

    Raises:
        InputNotFoundError: no table at ``input.path``.
        InputSchemaError: with ``check``, a ``dt`` off midnight.
        UnreadableFileError: with ``check``, a data file that cannot be read.
    """
    raw = read_table(spark, cfg.input_path, cfg.input.format, what=WHAT)
    nanos = cfg.input.format == "parquet"
    if check:
        with reading(WHAT):
            check_days(raw, nanos)
    return with_dt_as_date(raw, nanos)
