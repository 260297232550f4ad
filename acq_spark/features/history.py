"""The input days a run reads, and the all-history facts of each pair kept in a small incremental table.

A run needs the input of its label days and of the longest window before the first of them
(:func:`read_from`): with 14 label days and a 14-day window, 28 days, however long the history is.
Two features reach further back: a pair's age (days since its first row) and its latest product and
industries. ``pair_history`` holds those per pair, one snapshot per ``as_of`` day (the facts of every
input day up to it). A run whose read starts on day S takes the snapshot of S − 1, built from the latest
earlier snapshot and the input days between (one day in a nightly sequence), or, the first time, from
every input day before S; it then writes the snapshot of S for the next night.

Each snapshot has a record, ``artifacts/pair_history/<as_of>.json``, naming the input files it was built
from, written after the snapshot's commit: a snapshot without its record, or whose input files have
changed since (a re-simulated or rewritten day), is not used. The facts count every input row without a
contract fault (:func:`acq_spark.validation.flag_rows`); a cost outlier's day still counts to the age.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from acq_spark import fs
from acq_spark.config import Config
from acq_spark.features.columns import SPARSE
from acq_spark.features.windows import EPOCH
from acq_spark.schemas import KEYS
from acq_spark.stages import LOG
from acq_spark.tables import read_json, replace_days, table_exists, write_json

TABLE = "pair_history"
RECORDS = "artifacts/pair_history"
AS_OF = "as_of"
FIRST_DAY = "first_day"  # day number (days since 1970-01-01) of the pair's first row
KEEP_SNAPSHOTS = 3  # older snapshots are deleted from the table (VACUUM removes their files)
_DAY_IN_PATH = re.compile(r"(?:^|/)dt=(\d{4}-\d{2}-\d{2})(?:/|$)")


def last_col(name: str) -> str:
    """The pair's latest non-null value of the sparse column ``name`` up to the snapshot's day."""
    return f"last_{name}"


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
    """The first input day the run reads: the longest window before its first label day; None to read every day.

    None too under ``input.days: all``, and when the history is no longer than that (nothing to leave out).
    """
    from acq_spark.run_calendar import plan_calendar

    if cfg.input.days == "all" or not days:
        return None
    calendar = plan_calendar(days, cfg.features.train_days, cfg.run_date)
    if not calendar.label_days:
        return None
    start = calendar.label_days[0] - dt.timedelta(days=max(cfg.features.windows))
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
            len(kept), len(days), start, kept[-1] if kept else start, TABLE,
        )  # fmt: skip
    return rows


def input_fingerprint(raw: DataFrame, through: dt.date) -> str:
    """A digest of the input's files of the days up to ``through`` (from the listing; no data read)."""
    files = sorted(raw.where(F.col("dt") <= F.lit(through)).inputFiles())
    return f"{len(files)}-files-" + hashlib.sha256("\n".join(files).encode()).hexdigest()[:20]


def pair_facts(rows: DataFrame) -> DataFrame:
    """Per pair of ``rows``: the day number of its first row and its latest non-null sparse values."""
    day = F.datediff(F.col("dt"), F.to_date(F.lit(EPOCH)))
    latest = [F.max_by(F.col(n), F.when(F.col(n).isNotNull(), day)).alias(last_col(n)) for n in SPARSE]
    return rows.groupBy(*KEYS).agg(F.min(day).alias(FIRST_DAY), *latest)


def merge_facts(older: DataFrame, newer: DataFrame) -> DataFrame:
    """The facts of two consecutive spans of days: the first day from the older, the latest values from the newer."""
    o, n = older.alias("o"), newer.alias("n")
    joined = o.join(n, on=list(KEYS), how="full_outer")
    latest = [F.coalesce(F.col(f"n.{last_col(c)}"), F.col(f"o.{last_col(c)}")).alias(last_col(c)) for c in SPARSE]
    first = F.coalesce(F.col(f"o.{FIRST_DAY}"), F.col(f"n.{FIRST_DAY}")).alias(FIRST_DAY)
    return joined.select(*KEYS, first, *latest)


def history_rows(facts: DataFrame, partitions: int) -> DataFrame:
    """The pair facts as input-shaped rows for :func:`acq_spark.features.windows.with_history`.

    One row per pair, dated its first day, holding its latest sparse values and no metrics, partitioned
    by account as the validated rows are (:func:`acq_spark.validation.by_account`), so adding them keeps
    the features free of another shuffle.
    """
    from acq_spark.features.windows import HISTORY
    from acq_spark.validation import by_account

    rows = facts.select(
        F.date_add(F.to_date(F.lit(EPOCH)), F.col(FIRST_DAY)).alias("dt"),
        *KEYS,
        *[F.col(last_col(name)).alias(name) for name in SPARSE],
        F.lit(True).alias(HISTORY),
    )
    return by_account(rows, partitions)


def _valid_rows(raw: DataFrame, after: dt.date | None, through: dt.date) -> DataFrame:
    from acq_spark.validation import REASON, flag_rows

    span = F.col("dt") <= F.lit(through)
    if after is not None:
        span &= F.col("dt") > F.lit(after)
    return flag_rows(raw.where(span)).where(F.col(REASON).isNull())


def _snapshots(cfg: Config) -> list[dt.date]:
    names = fs.list_names(cfg.table(RECORDS), ".json")
    return sorted(dt.date.fromisoformat(name.removesuffix(".json")) for name in names)


def _snapshot(spark: SparkSession, cfg: Config, as_of: dt.date) -> DataFrame:
    rows = spark.read.format("delta").load(cfg.table(TABLE)).where(F.col(AS_OF) == F.lit(as_of))
    return rows.drop(AS_OF)


def history_before(spark: SparkSession, cfg: Config, raw: DataFrame, day: dt.date) -> DataFrame | None:
    """The pair facts of every input day before ``day`` (None when there is none), from ``pair_history``.

    The latest usable snapshot before ``day`` plus the input days after it, else every input day before ``day``.
    """
    through = day - dt.timedelta(days=1)
    days = partition_days(raw)
    if not days or days[0] > through:  # nothing before ``day``, or not by day: the run read every row
        return None
    usable = None
    if table_exists(spark, cfg.table(TABLE)):
        for as_of in reversed([d for d in _snapshots(cfg) if d <= through]):
            record = read_json(fs.join(cfg.table(RECORDS), f"{as_of}.json"), "pair history record")
            if record.get("input") == input_fingerprint(raw, as_of):
                usable = as_of
                break
            LOG.info("pair_history: snapshot %s is of input files that changed since; not used", as_of)
    if usable is None:
        LOG.info("pair_history: built from every input day up to %s (no usable snapshot)", through)
        return pair_facts(_valid_rows(raw, None, through))
    if usable == through:
        return _snapshot(spark, cfg, usable)
    LOG.info("pair_history: snapshot %s plus the input days after it up to %s", usable, through)
    return merge_facts(_snapshot(spark, cfg, usable), pair_facts(_valid_rows(raw, usable, through)))


def write_next_snapshot(
    spark: SparkSession, cfg: Config, raw: DataFrame, history: DataFrame | None, day: dt.date
) -> None:
    """Write the snapshot of ``day`` (``history`` holds the days before it) and its record; drop old snapshots."""
    facts = pair_facts(_valid_rows(raw, day - dt.timedelta(days=1), day))
    snapshot = facts if history is None else merge_facts(history, facts)
    path = cfg.table(TABLE)
    replace_days(snapshot.withColumn(AS_OF, F.lit(day).cast(T.DateType())), path, [day], column=AS_OF)
    write_json(fs.join(cfg.table(RECORDS), f"{day}.json"), {"as_of": day, "input": input_fingerprint(raw, day)})
    earlier = [d for d in _snapshots(cfg) if d < day]
    old = earlier[: max(0, len(earlier) - (KEEP_SNAPSHOTS - 1))]
    if old:
        from delta.tables import DeltaTable

        DeltaTable.forPath(spark, path).delete(F.col(AS_OF) <= F.lit(old[-1]))
        for as_of in old:
            fs.delete(fs.join(cfg.table(RECORDS), f"{as_of}.json"))
