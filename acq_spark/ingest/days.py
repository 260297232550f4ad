"""The one read of ``creative_daily`` (``input.path``, ``dt`` a date, spec §2) and the days of it a run reads.

A run needs the input of its label days and of the longest window before the first of them
(:func:`read_from`): with 14 label days and a 14-day window, 28 days, however long the history is.
:func:`input_fingerprint` names the files of the days a run read, for the publish pointer and ``pair_history``.

Producers write the day as a date or as a timestamp at midnight. Pandas' default, ``datetime64[ns]``, is
Parquet ``TIMESTAMP(NANOS)``, which Spark reads only as a long of nanoseconds since the epoch
(``spark.sql.legacy.parquet.nanosAsLong``, set by :func:`acq_spark.platform.session.session_conf`); the other units are
read as timestamps. Either becomes its date (UTC) by a cast of the one column; a date, such as a ``dt=``
partition column, stays as it is. A time of day other than midnight is refused by :func:`check_days`, which
validation runs before it counts anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from typing import NamedTuple

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from acq_spark.config import Config
from acq_spark.errors import InputSchemaError
from acq_spark.ingest.run_calendar import plan_calendar
from acq_spark.platform.delta_tables import read_table, reading
from acq_spark.platform.run_log import LOG

DT = "dt"
WHAT = "creative_daily (input.path)"
NANOS_PER_DAY = 86_400 * 10**9
_DAY_IN_PATH = re.compile(r"(?:^|/)dt=(\d{4}-\d{2}-\d{2})(?:/|$)")


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


def partition_days(raw: DataFrame) -> list[dt.date] | None:
    """The ``dt`` partitions of the input, from its file listing (no data read); None when not partitioned by day."""
    days = set()
    for path in raw.inputFiles():
        found = _DAY_IN_PATH.search(path)
        if found is None:
            return None
        days.add(dt.date.fromisoformat(found.group(1)))
    return sorted(days)


def read_from(days: Sequence[dt.date], cfg: Config) -> dt.date | None:
    """The first input day the run reads: the longest look-back (window or ``cost_7d``) before its first label day;
    None to read every day.

    None too under ``input.days: all``, and when the history is no longer than that (nothing to leave out).
    """
    if cfg.input.days == "all" or not days:
        return None
    calendar = plan_calendar(days, cfg.features.train_days, cfg.run_date)
    if not calendar.label_days:
        return None
    start = calendar.label_days[0] - dt.timedelta(days=cfg.features.lookback_days)
    return start if start > days[0] else None


def days_to_read(raw: DataFrame, cfg: Config) -> DataFrame:
    """The rows of the input days the run reads: from :func:`read_from` to the day before ``run_date``.

    Without a ``run_date``, every day up to the last; when the input is not partitioned by day, every row.
    """
    days = partition_days(raw)
    if days is None:
        return raw
    start = read_from(days, cfg)
    rows = raw if start is None else raw.where(F.col("dt") >= F.lit(start))
    if cfg.run_date is not None:
        rows = rows.where(F.col("dt") < F.lit(cfg.run_date))
    if start is not None:
        kept = [d for d in days if d >= start and (cfg.run_date is None or d < cfg.run_date)]
        LOG.info(
            "creative_daily: reading %d of its %d days, %s to %s (the longest window before the first label day, "
            "then the label days); pair ages and latest values from %s",
            len(kept), len(days), start, kept[-1] if kept else start, "pair_history",
        )  # fmt: skip
    return rows


def input_fingerprint(raw: DataFrame, before: dt.date) -> str:
    """A digest of the input's files of the days before ``before`` (from the listing; no data read).

    For Delta, the files of the table's current snapshot in those partitions (read from its log); for Parquet,
    the files listed. A day's input that is rewritten, appended to or deleted from gets another fingerprint; a
    day on or after ``before`` being added does not change it. A nightly for day D reads the days before D; the
    ``pair_history`` snapshot of day S holds the days up to S, so it passes S + 1.
    """
    files = sorted(raw.where(F.col(DT) < F.lit(before)).inputFiles())
    return f"{len(files)}-files-" + hashlib.sha256("\n".join(files).encode()).hexdigest()[:20]
