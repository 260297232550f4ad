"""Publishing a day's ``allocation`` and ``account_rules`` together, through a pointer readers follow.

Two Delta tables cannot share one commit, so a day is published in three steps: the day is
replaced in ``allocation`` (one commit), then in ``account_rules`` (one commit), then the pointer
``<warehouse>/published/<dt>.json`` is written whole (:mod:`acq_spark.platform.fs`: temporary file + rename,
or one object PUT on a bucket), naming the
run and the Delta version of each table. Readers call :func:`read_published`, which reads both
tables at the pointer's versions (Delta time travel), so a job killed between the steps leaves
them on the previous consistent pair. The latest version of a table may be ahead of its pointer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from acq_spark.config import table_path
from acq_spark.errors import InputNotFoundError
from acq_spark.platform import fs
from acq_spark.platform.catalog import POINTERS, PUBLISHED_TABLES
from acq_spark.platform.delta_tables import commit_version, replace_days


def pointer_path(warehouse: str, day: dt.date | str) -> str:
    """Where the publish pointer of ``day`` lives: ``<warehouse>/published/<dt>.json``."""
    return fs.join(table_path(warehouse, POINTERS), f"{day}.json")


def read_pointer(warehouse: str, day: dt.date | str) -> dict[str, Any] | None:
    """The publish pointer of ``day``, or None when nothing has been published for it."""
    path = pointer_path(warehouse, day)
    return fs.read_json(path, what=f"publish pointer of {day}") if fs.is_file(path) else None


def latest_pointer_before(warehouse: str, day: dt.date) -> dict[str, Any] | None:
    """The pointer of the latest day before ``day`` that has one, or None."""
    names = fs.list_names(table_path(warehouse, POINTERS), ".json")
    days = sorted(d for d in (_day_of(n) for n in names) if d is not None and d < day)
    return read_pointer(warehouse, days[-1]) if days else None


def _day_of(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(name.removesuffix(".json"))
    except ValueError:
        return None


def publish_day(
    spark: SparkSession,
    warehouse: str,
    day: dt.date,
    tables: dict[str, DataFrame],
    run_id: str,
    figures: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Replace ``day`` in each of the published tables (``allocation``, ``account_rules``) with ``tables[name]``,
    then point ``day`` at those versions.

    Args:
        spark: the session.
        warehouse: the warehouse the tables and pointers live under.
        day: the decision day.
        tables: the day's rows of ``allocation`` and ``account_rules``.
        run_id: the run publishing them (the Delta commits' ``userMetadata``).
        figures: small facts kept in the pointer (pairs, budget, ...).

    Returns:
        The pointer that was written.
    """
    versions = {}
    for name in PUBLISHED_TABLES:
        path = table_path(warehouse, name)
        # mergeSchema: a table written before a column was added (the lineage's model_version) takes it on
        replace_days(tables[name], path, [day], metadata={"run_id": run_id, "dt": day}, merge_schema=True)
        versions[name] = commit_version(spark, path, run_id)
    pointer = {
        "dt": str(day),
        "run_id": run_id,
        "versions": versions,
        "published_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **(figures or {}),
    }
    fs.write_json(pointer_path(warehouse, day), pointer)
    return pointer


def read_published(spark: SparkSession, warehouse: str, day: dt.date | str) -> tuple[DataFrame, DataFrame]:
    """The published ``allocation`` and ``account_rules`` rows of ``day``, at the versions its pointer names.

    Raises:
        InputNotFoundError: no pointer for ``day`` (nothing published yet, or only before pointers existed).
    """
    pointer = read_pointer(warehouse, day)
    if pointer is None:
        raise InputNotFoundError(f"published allocation: no pointer at {pointer_path(warehouse, day)}")
    return read_versions(spark, warehouse, day, pointer["versions"])


def read_versions(
    spark: SparkSession, warehouse: str, day: dt.date | str, versions: dict[str, int]
) -> tuple[DataFrame, DataFrame]:
    """The ``allocation`` and ``account_rules`` rows of ``day`` at the Delta ``versions`` given (by table name).

    ``versions`` is a publish pointer's, or a run record's ``published`` (the versions that run wrote).
    """
    day_value = dt.date.fromisoformat(str(day))
    allocation, rules = (
        spark.read.format("delta")
        .option("versionAsOf", versions[name])
        .load(table_path(warehouse, name))
        .where(F.col("dt") == F.lit(day_value))
        for name in PUBLISHED_TABLES
    )
    return allocation, rules
