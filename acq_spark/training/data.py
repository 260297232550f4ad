"""Training and validation arrays from the ``training_examples`` Delta table, through Arrow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from acq_spark.features.sampling import in_part
from acq_spark.features.spec import FeatureSpec

Arrays = dict[str, np.ndarray]


def sample_days(
    df: DataFrame, days: Sequence[dt.date], max_rows: int, seed: int, total: int | None = None
) -> DataFrame:
    """The rows of ``days``, down-sampled to about ``max_rows`` (:func:`acq_spark.features.sampling.in_part`).

    ``total`` is how many rows ``days`` hold in the full table (the run calendar's count); None counts
    ``df``'s. With the count of the full table, a table that already holds only the sample gives the
    same rows as the full one.
    """
    rows = df.where(F.col("dt").isin(list(days)))
    return rows.where(in_part(days, rows.count() if total is None else total, max_rows, seed))


def to_arrays(table: pa.Table, spec: FeatureSpec, with_label: bool = True) -> Arrays:
    """Model inputs from an Arrow table: ``numeric`` [N, D] float32, ``sparse`` [N, S] int32, keys, labels."""
    numeric = np.column_stack(
        [table.column(c).to_numpy(zero_copy_only=False).astype(np.float32) for c in spec.numeric_features]
    )
    sparse = np.column_stack(
        [table.column(c).to_numpy(zero_copy_only=False).astype(np.int32) for c in spec.sparse_columns]
    )
    out: Arrays = {
        "numeric": np.nan_to_num(numeric, nan=0.0, posinf=0.0, neginf=0.0),
        "sparse": sparse,
        "account_id": table.column("account_id").to_numpy(zero_copy_only=False),
        "photo_id": table.column("photo_id").to_numpy(zero_copy_only=False),
    }
    if with_label:
        out["level"] = table.column(spec.level_column).to_numpy(zero_copy_only=False).astype(np.int32)
        out["cost"] = table.column(spec.label_column).to_numpy(zero_copy_only=False).astype(np.float32)
    return out


def collect_arrow(df: DataFrame, staging: str) -> pa.Table:
    """``df`` as one Arrow table in this Python process, through Parquet files that Spark writes at ``staging``.

    ``DataFrame.toArrow`` would first hold every row in the driver's JVM heap (a 1M-row sample ran a 2g
    driver out of memory); this way the executors write, the JVM holds nothing, and only this process
    holds the table. ``staging`` (a folder on the warehouse's storage) is removed afterwards.
    """
    df.write.mode("overwrite").parquet(staging)
    fs, root = pafs.FileSystem.from_uri(_arrow_uri(staging))
    try:
        return pq.read_table(root, filesystem=fs)  # skips Spark's _SUCCESS and .crc files
    finally:
        fs.delete_dir(root)


def _arrow_uri(path: str) -> str:
    """A path or URI as pyarrow names it: ``s3a://`` is ``s3://``; a plain path becomes absolute."""
    if "://" not in path and not path.startswith("file:"):
        return Path(path).resolve().as_uri()
    return "s3://" + path.removeprefix("s3a://") if path.startswith("s3a://") else path


def collect_arrays(df: DataFrame, spec: FeatureSpec, staging: str, with_label: bool = True) -> Arrays:
    """Collect ``df`` into this process as Arrow (:func:`collect_arrow`, no Python rows) and convert to model arrays.

    Rows are put in (dt, account_id, photo_id) order, so the arrays do not depend on partitioning.
    """
    cols = ["dt", "account_id", "photo_id", *spec.numeric_features, *spec.sparse_columns]
    if with_label:
        cols += [spec.level_column, spec.label_column]
    table = collect_arrow(df.select(*cols), staging)
    keys = [table.column(c).to_numpy(zero_copy_only=False) for c in ("photo_id", "account_id", "dt")]
    order = np.lexsort(keys)
    return to_arrays(table.take(pa.array(order)), spec, with_label)
