"""The all-history facts of each pair, kept in a small incremental table.

A run reads the input of its label days and of the longest window before the first of them
(:func:`acq_spark.ingest.days.read_from`). Two features reach further back: a pair's age (days since its
first row) and its latest product and industries. ``pair_history`` holds those per pair, one snapshot per
``as_of`` day (the facts of every input day up to it). A run whose read starts on day S takes the snapshot
of S − 1, built from the latest earlier snapshot and the input days between (one day in a nightly
sequence), or, the first time, from every input day before S; it then writes the snapshot of S for the
next night.

Each snapshot has a record, ``artifacts/pair_history/<as_of>.json``, naming the input files it was built
from, written after the snapshot's commit: a snapshot without its record, or whose input files have
changed since (a re-simulated or rewritten day), is not used. The facts count every input row without a
contract fault (:func:`acq_spark.ingest.validation.flag_rows`); a cost outlier's day still counts to the age.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from acq_spark.config import Config
from acq_spark.features.columns import SPARSE
from acq_spark.features.windows import EPOCH, HISTORY
from acq_spark.ingest.days import input_fingerprint, partition_days
from acq_spark.ingest.schemas import KEYS
from acq_spark.ingest.validation import REASON, by_account, flag_rows
from acq_spark.platform import fs
from acq_spark.platform.catalog import PAIR_HISTORY, PAIR_HISTORY_RECORDS
from acq_spark.platform.delta_tables import replace_days, table_exists
from acq_spark.platform.fs import read_json, write_json
from acq_spark.platform.run_log import LOG

AS_OF = "as_of"
FIRST_DAY = "first_day"  # day number (days since 1970-01-01) of the pair's first row
KEEP_SNAPSHOTS = 3  # older snapshots are deleted from the table (VACUUM removes their files)


def last_col(name: str) -> str:
    """The pair's latest non-null value of the sparse column ``name`` up to the snapshot's day."""
    return f"last_{name}"


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
    by account as the validated rows are (:func:`acq_spark.ingest.validation.by_account`), so adding them keeps
    the features free of another shuffle.
    """
    rows = facts.select(
        F.date_add(F.to_date(F.lit(EPOCH)), F.col(FIRST_DAY)).alias("dt"),
        *KEYS,
        *[F.col(last_col(name)).alias(name) for name in SPARSE],
        F.lit(True).alias(HISTORY),
    )
    return by_account(rows, partitions)


def _valid_rows(raw: DataFrame, after: dt.date | None, through: dt.date) -> DataFrame:
    span = F.col("dt") <= F.lit(through)
    if after is not None:
        span &= F.col("dt") > F.lit(after)
    return flag_rows(raw.where(span)).where(F.col(REASON).isNull())


def _snapshots(cfg: Config) -> list[dt.date]:
    names = fs.list_names(cfg.table(PAIR_HISTORY_RECORDS), ".json")
    return sorted(dt.date.fromisoformat(name.removesuffix(".json")) for name in names)


def _snapshot(spark: SparkSession, cfg: Config, as_of: dt.date) -> DataFrame:
    rows = spark.read.format("delta").load(cfg.table(PAIR_HISTORY)).where(F.col(AS_OF) == F.lit(as_of))
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
    if table_exists(spark, cfg.table(PAIR_HISTORY)):
        for as_of in reversed([d for d in _snapshots(cfg) if d <= through]):
            record = read_json(fs.join(cfg.table(PAIR_HISTORY_RECORDS), f"{as_of}.json"), "pair history record")
            if record.get("input") == input_fingerprint(raw, before=as_of + dt.timedelta(days=1)):
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
    path = cfg.table(PAIR_HISTORY)
    replace_days(snapshot.withColumn(AS_OF, F.lit(day).cast(T.DateType())), path, [day], column=AS_OF)
    record = {"as_of": day, "input": input_fingerprint(raw, before=day + dt.timedelta(days=1))}
    write_json(fs.join(cfg.table(PAIR_HISTORY_RECORDS), f"{day}.json"), record)
    earlier = [d for d in _snapshots(cfg) if d < day]
    old = earlier[: max(0, len(earlier) - (KEEP_SNAPSHOTS - 1))]
    if old:
        from delta.tables import DeltaTable

        DeltaTable.forPath(spark, path).delete(F.col(AS_OF) <= F.lit(old[-1]))
        for as_of in old:
            fs.delete(fs.join(cfg.table(PAIR_HISTORY_RECORDS), f"{as_of}.json"))
