"""Reading and writing the project's tables and artifacts, so that nothing is lost on failure.

Delta writes are atomic: a job that fails before its commit leaves the table as it was.
Day-partitioned outputs are written with ``replaceWhere`` so a re-run of a day replaces
that day only. Small artifacts (JSON) are written to a temporary file and renamed.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from acq_spark.errors import InputNotFoundError
from acq_spark.storage import DELTA_LOG, PathContents, inspect_path


def table_exists(spark: SparkSession, path: str, fmt: str = "delta") -> bool:
    """Whether a table of format ``fmt`` exists at ``path`` (any URI scheme Spark reads).

    Parquet is a single file or a folder with data files at any depth (Hive-style ``dt=…/``
    sub-folders, names with or without ``.parquet``); see :mod:`acq_spark.storage`.
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
    return spark.read.format(fmt).load(path)


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
    df: DataFrame, path: str, days: Sequence[Any], column: str = "dt", commit_note: str | None = None
) -> None:
    """Write ``df`` into the Delta table at ``path``, partitioned by ``column``, replacing only ``days``.

    Other days already in the table are kept untouched; the replacement is one Delta commit. A
    ``commit_note`` is stored as the commit's ``userMetadata``, so that :func:`commit_version` finds it.
    """
    if not days:
        raise ValueError("replace_days needs at least one day")
    listed = ", ".join(f"'{d}'" for d in sorted({str(d) for d in days}))
    writer = df.write.format("delta").mode("overwrite").option("replaceWhere", f"{column} IN ({listed})")
    if commit_note is not None:
        writer = writer.option("userMetadata", commit_note)
    writer.partitionBy(column).save(path)


def delta_version(spark: SparkSession, path: str) -> int | None:
    """The latest Delta version of the table at ``path``, or None when there is no table."""
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return None
    return int(DeltaTable.forPath(spark, path).history(1).select("version").first()[0])


def commit_version(spark: SparkSession, path: str, commit_note: str, search: int = 100) -> int:
    """The Delta version of the latest commit at ``path`` whose ``userMetadata`` is ``commit_note``.

    Exact while other jobs commit to the same table (unlike :func:`delta_version`); only the last
    ``search`` commits are looked at.

    Raises:
        InputNotFoundError: no such commit among them.
    """
    from delta.tables import DeltaTable

    history = DeltaTable.forPath(spark, path).history(search)
    found = history.where(F.col("userMetadata") == commit_note).agg(F.max("version")).first()[0]
    if found is None:
        raise InputNotFoundError(f"no commit noted {commit_note!r} among the last {search} of {path}")
    return int(found)


def write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as pretty, key-sorted JSON, atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True, default=str)
        fh.write("\n")
    os.replace(tmp, path)


def read_json(path: str | Path, what: str = "artifact") -> Any:
    """Read a JSON artifact, with a clear error naming ``what`` when it is missing."""
    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError(f"{what}: no file at {path}")
    return json.loads(path.read_text())
