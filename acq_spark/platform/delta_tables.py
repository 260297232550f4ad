"""Reading and writing the project's tables and artifacts, so that nothing is lost on failure.

Delta writes are atomic: a job that fails before its commit leaves the table as it was.
Day-partitioned outputs are written with ``replaceWhere`` so a re-run of a day replaces
that day only. Small artifacts (JSON, text) go through :mod:`acq_spark.platform.fs` (whole or not at all, on
any store).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from acq_spark.errors import InputNotFoundError, UnreadableFileError
from acq_spark.platform.frames import one_row
from acq_spark.platform.storage import DELTA_LOG, PathContents, hadoop_filesystem, inspect_path


def table_exists(spark: SparkSession, path: str, fmt: str = "delta") -> bool:
    """Whether a table of format ``fmt`` exists at ``path`` (any URI scheme Spark reads).

    Parquet is a single file or a folder with data files at any depth (Hive-style ``dt=…/``
    sub-folders, names with or without ``.parquet``); see :mod:`acq_spark.platform.storage`.
    """
    if fmt == "delta":
        from delta.tables import DeltaTable

        return DeltaTable.isDeltaTable(spark, path)
    return inspect_path(spark, path).data_file is not None


def read_table(spark: SparkSession, path: str, fmt: str = "delta", what: str = "table") -> DataFrame:
    """Read a Delta or Parquet table, with a clear error naming ``what`` and ``path`` when it is not there.

    Raises:
        InputNotFoundError: nothing at ``path``, no data files in it, or (for Delta) no Delta log.
    """
    if not table_exists(spark, path, fmt):
        raise InputNotFoundError(f"{what}: {_why_not_a_table(inspect_path(spark, path), path, fmt)}")
    with reading(what):  # Parquet's schema comes from a file footer, read here
        return spark.read.format(fmt).load(path)


_FAILED_READ = re.compile(r"\[FAILED_READ_FILE[.\w]*\] Encountered error while reading file (\S+?)\.?(?:\s|$)")
_CAUSE = re.compile(r"^Caused by: [\w.$]+: (.+)$", re.MULTILINE)


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Turn Spark's failure to read a data file (truncated, corrupt, not Parquet) into one clear error.

    Raises:
        UnreadableFileError: naming ``what``, the file and the deepest cause Spark gives.
    """
    try:
        yield
    except Exception as exc:
        text = str(exc)
        failed = _FAILED_READ.search(text)
        if failed is None:
            raise
        causes = _CAUSE.findall(text)
        detail = causes[-1].strip() if causes else text.splitlines()[0]
        raise UnreadableFileError(f"{what}: cannot read {failed.group(1)}: {detail[:300]}") from None


def _why_not_a_table(contents: PathContents, path: str, fmt: str) -> str:
    if not contents.exists:
        return f"no {fmt} table at {path}: nothing is there"
    if fmt != "delta":
        return f"no {fmt} table at {path}: it holds no Parquet files (names starting with '_' or '.' are not data)"
    if contents.delta_log:
        return f"no delta table at {path}: its {DELTA_LOG} has no commit (an interrupted first write?)"
    if contents.data_file is not None:
        return (
            f"no delta table at {path}: it has no {DELTA_LOG} but holds data files such as "
            f"{contents.data_file}; for Parquet data set input.format=parquet"
        )
    return f"no delta table at {path}: it holds no data files"


def overwrite_table(df: DataFrame, path: str, fmt: str = "delta", partition_by: Sequence[str] = ()) -> None:
    """Replace the whole table at ``path`` (atomic for Delta: readers see the old or the new)."""
    writer = df.write.format(fmt).mode("overwrite")
    if fmt == "delta":
        writer = writer.option("overwriteSchema", "true")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(path)


def replace_days(
    df: DataFrame,
    path: str,
    days: Sequence[Any],
    column: str = "dt",
    metadata: dict[str, Any] | None = None,
    merge_schema: bool = False,
) -> None:
    """Write ``df`` into the Delta table at ``path``, partitioned by ``column``, replacing only ``days``.

    Other days already in the table are kept untouched; the replacement is one Delta commit, which
    carries ``metadata`` (as JSON in the commit's ``userMetadata``, see :func:`commit_metadata`).
    ``merge_schema``: columns of ``df`` the table lacks are added to it (older days read them as null).
    """
    if not days:
        raise ValueError("replace_days needs at least one day")
    listed = ", ".join(f"'{d}'" for d in sorted({str(d) for d in days}))
    writer = df.write.format("delta").mode("overwrite").option("replaceWhere", f"{column} IN ({listed})")
    if merge_schema:
        writer = writer.option("mergeSchema", "true")
    if metadata is not None:
        writer = writer.option("userMetadata", json.dumps(metadata, sort_keys=True, default=str))
    writer.partitionBy(column).save(path)


def commit_metadata(spark: SparkSession, path: str, search: int | None = None) -> dict[int, dict[str, Any]]:
    """The JSON ``userMetadata`` of each commit of the Delta table at ``path`` that has one, by version.

    Only the last ``search`` commits are looked at (None: all).
    """
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return {}
    found: dict[int, dict[str, Any]] = {}
    table = DeltaTable.forPath(spark, path)
    history = table.history(search) if search else table.history()
    for row in history.select("version", "userMetadata").collect():
        try:
            meta = json.loads(row["userMetadata"] or "")
        except ValueError:  # no metadata, or someone else's text
            continue
        if isinstance(meta, dict):
            found[int(row["version"])] = meta
    return found


def replace_days_or_table(df: DataFrame, path: str, days: Sequence[Any], column: str = "dt") -> None:
    """:func:`replace_days`, unless the table's columns differ from ``df``'s (names, types, field metadata).

    Then the whole table is replaced in one commit: its other days hold another layout (other windows,
    say), which no reader of this run's days can use.
    """
    spark = df.sparkSession
    if table_exists(spark, path) and _layout(spark.read.format("delta").load(path).schema) != _layout(df.schema):
        overwrite_table(df, path, partition_by=[column])
    else:
        replace_days(df, path, days, column)


def _layout(schema: Any) -> list[tuple[str, str, dict]]:
    return [(f.name, f.dataType.simpleString(), f.metadata) for f in schema.fields]


_COMMIT_FILE = re.compile(r"^(\d{20})\.json$")


def delta_version(spark: SparkSession, path: str) -> int | None:
    """The latest Delta version of the table at ``path``, or None when there is no table.

    By the Delta protocol, the highest-numbered commit file in ``_delta_log`` (log clean-up never removes
    the latest). One listing through Hadoop's FileSystem: ``DeltaTable.history`` ran a Spark job per call,
    and a nightly asks about thirty times (BENCHMARKS.md).
    """
    filesystem, log = hadoop_filesystem(spark, f"{path.rstrip('/')}/{DELTA_LOG}")
    if not filesystem.exists(log):
        return None
    names = [status.getPath().getName() for status in filesystem.listStatus(log)]
    versions = [int(m.group(1)) for m in map(_COMMIT_FILE.match, names) if m]
    return max(versions, default=None)


def written_rows(spark: SparkSession, path: str) -> int:
    """The rows the latest commit of the Delta table at ``path`` wrote (its ``numOutputRows``), read from the log.

    Counts a write without reading the table back.
    """
    from delta.tables import DeltaTable

    metrics = one_row(DeltaTable.forPath(spark, path).history(1).select("operationMetrics"))[0] or {}
    return int(metrics.get("numOutputRows", 0))


def commit_version(spark: SparkSession, path: str, run_id: str, search: int = 100) -> int:
    """The Delta version of the latest commit at ``path`` whose metadata names ``run_id`` (``{"run_id": ...}``).

    Exact while other jobs commit to the same table (unlike :func:`delta_version`); only the last
    ``search`` commits are looked at.

    Raises:
        InputNotFoundError: no such commit among them.
    """
    found = [v for v, meta in commit_metadata(spark, path, search).items() if meta.get("run_id") == run_id]
    if not found:
        raise InputNotFoundError(f"no commit of run {run_id!r} among the last {search} of {path}")
    return max(found)
