"""Delta maintenance of the warehouse's tables: retention properties, OPTIMIZE (Z-order where it helps), VACUUM.

Every Delta table directly under the warehouse is maintained, in three steps:

1. ``delta.deletedFileRetentionDuration`` and ``delta.logRetentionDuration`` are set from
   ``maintenance.retention_days`` and ``maintenance.log_retention_days``, so time travel (and the
   publish pointers, which read by version) reaches back ``retention_days`` and no further;
2. OPTIMIZE compacts small files, and Z-orders the tables read by key (:data:`ZORDER`): only the last
   ``maintenance.zorder_days`` days of their partitions, as Z-ordering rewrites every file it is given;
3. VACUUM deletes the files no version within the retention needs.

A failure on one table stops the job (the tables done before it stay done; re-running is safe).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from acq_spark.config import MaintenanceConfig
from acq_spark.platform.catalog import ACCOUNT_RULES, ALLOCATION, SCORES
from acq_spark.platform.frames import jvm, one_row
from acq_spark.platform.run_log import LOG, StageTimer
from acq_spark.platform.storage import DELTA_LOG, hadoop_filesystem

# Tables that readers look up by key (an account's allocation, its rules, a pair's scores).
ZORDER: Mapping[str, tuple[str, ...]] = {
    ALLOCATION: ("account_id", "photo_id"),
    ACCOUNT_RULES: ("account_id",),
    SCORES: ("account_id", "photo_id"),
}


@dataclass(frozen=True)
class TableMaintenance:
    """What maintenance did to one table: files rewritten by OPTIMIZE, files VACUUM deleted (None: not reported)."""

    name: str
    files_removed: int
    files_added: int
    zordered: str | None
    files_vacuumed: int | None


def interval(days: float) -> str:
    """A Delta table property's interval: ``interval 7 days``, or in seconds for a fraction of a day."""
    if float(days).is_integer():
        return f"interval {int(days)} days"
    return f"interval {round(days * 86_400)} seconds"


def delta_tables(spark: SparkSession, warehouse: str) -> list[str]:
    """The names of the Delta tables directly under ``warehouse`` (any URI scheme Spark reads), sorted."""
    hadoop_path = jvm(spark).org.apache.hadoop.fs.Path
    fs, root = hadoop_filesystem(spark, warehouse)
    if not fs.exists(root):
        return []
    names = [
        status.getPath().getName()
        for status in fs.listStatus(root)
        if status.isDirectory() and fs.exists(hadoop_path(status.getPath(), DELTA_LOG))
    ]
    return sorted(names)


def set_retention(spark: SparkSession, path: str, retention_days: float, log_retention_days: float) -> None:
    """Set the table's deleted-file and log retention (one Delta commit, only when they change)."""
    wanted = {
        "delta.deletedFileRetentionDuration": interval(retention_days),
        "delta.logRetentionDuration": interval(log_retention_days),
    }
    from delta.tables import DeltaTable

    current = one_row(DeltaTable.forPath(spark, path).detail())["properties"]
    if all(current.get(key) == value for key, value in wanted.items()):
        return
    listed = ", ".join(f"'{key}' = '{value}'" for key, value in wanted.items())
    spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({listed})")


def recent_partitions(spark: SparkSession, path: str, days: int) -> str | None:
    """A filter on the last ``days`` days of the table's date partition column, or None when it has none."""
    from delta.tables import DeltaTable

    columns = one_row(DeltaTable.forPath(spark, path).detail())["partitionColumns"]
    df = spark.read.format("delta").load(path)
    if not columns or not isinstance(df.schema[columns[0]].dataType, T.DateType):
        return None
    last = one_row(df.agg(F.max(columns[0])))[0]  # a partition column: no data file is read
    if last is None:
        return None
    return f"{columns[0]} >= '{last - dt.timedelta(days=days - 1)}'"


def optimize(
    spark: SparkSession, path: str, zorder: Sequence[str] = (), zorder_days: int = 0
) -> tuple[int, int, str | None]:
    """Z-order the recent partitions by ``zorder`` (when given), then compact small files everywhere.

    Returns:
        (files removed, files added, the partitions Z-ordered or None).
    """
    from delta.tables import DeltaTable

    removed = added = 0
    zordered = None
    if zorder and zorder_days > 0:
        where = recent_partitions(spark, path, zorder_days)
        builder = DeltaTable.forPath(spark, path).optimize()
        metrics = one_row((builder.where(where) if where else builder).executeZOrderBy(*zorder))["metrics"]
        removed, added, zordered = metrics["numFilesRemoved"], metrics["numFilesAdded"], where or "all"
    metrics = one_row(DeltaTable.forPath(spark, path).optimize().executeCompaction())["metrics"]
    return removed + metrics["numFilesRemoved"], added + metrics["numFilesAdded"], zordered


def vacuum(spark: SparkSession, path: str, retention_days: float) -> int | None:
    """Delete the files no version of the last ``retention_days`` needs; the number deleted when Delta logs it."""
    from delta.tables import DeltaTable

    table = DeltaTable.forPath(spark, path)
    # VACUUM lists the table's folders in jobs of this many tasks. Spark's default (10,000, sized for a
    # warehouse's file index) gave 170,000 tasks and 40 s for a three-day table of nine files.
    listing = "spark.sql.sources.parallelPartitionDiscovery.parallelism"
    before = spark.conf.get(listing, None)
    spark.conf.set(listing, str(4 * spark.sparkContext.defaultParallelism))
    try:
        table.vacuum(retention_days * 24)
    finally:
        spark.conf.unset(listing) if before is None else spark.conf.set(listing, before)
    last = table.history(1).select("operation", "operationMetrics").first()
    if last is not None and last["operation"] == "VACUUM END":
        return int(last["operationMetrics"].get("numDeletedFiles", 0))
    return None


def maintain_table(
    spark: SparkSession, path: str, cfg: MaintenanceConfig, zorder: Sequence[str] = ()
) -> TableMaintenance:
    """Retention properties, OPTIMIZE and VACUUM of the Delta table at ``path``."""
    set_retention(spark, path, cfg.retention_days, cfg.log_retention_days)
    schema = spark.read.format("delta").load(path).schema.fieldNames()
    keys = tuple(c for c in zorder if c in schema)
    removed, added, zordered = optimize(spark, path, keys, cfg.zorder_days)
    vacuumed = vacuum(spark, path, cfg.retention_days)
    return TableMaintenance(path.rstrip("/").rsplit("/", 1)[-1], removed, added, zordered, vacuumed)


def maintain_warehouse(
    spark: SparkSession, warehouse: str, cfg: MaintenanceConfig, timer: StageTimer | None = None
) -> list[TableMaintenance]:
    """Maintain every Delta table directly under ``warehouse``; one timed stage (and log line) per table."""
    timer = timer or StageTimer()
    done = []
    names = delta_tables(spark, warehouse)
    LOG.info("maintenance of %d Delta tables under %s: retention %g days (log %g days)", len(names), warehouse,
             cfg.retention_days, cfg.log_retention_days)  # fmt: skip
    for name in names:
        with timer.stage(f"maintain {name}") as rec:
            result = maintain_table(spark, f"{warehouse.rstrip('/')}/{name}", cfg, ZORDER.get(name, ()))
            rec.figures.update(optimized=result.files_removed, written=result.files_added)
            if result.zordered:
                rec.figures["zorder"] = result.zordered
            if result.files_vacuumed is not None:
                rec.figures["vacuumed"] = result.files_vacuumed
        done.append(result)
    return done
