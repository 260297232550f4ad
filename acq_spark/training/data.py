"""Training and validation arrays from the ``training_examples`` Delta table, through Arrow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

Arrays = dict[str, np.ndarray]


def split_days(label_days: Sequence[str | dt.date]) -> tuple[list[dt.date], dt.date]:
    """Train on every label day but the last; validate on the last (the "next day" of the paper)."""
    days = sorted(d if isinstance(d, dt.date) else dt.date.fromisoformat(d) for d in label_days)
    if len(days) < 2:
        raise ValueError(f"training needs at least two label days (train + validation), got {len(days)}")
    return days[:-1], days[-1]


def sample_days(df: DataFrame, days: Sequence[dt.date], max_rows: int, seed: int) -> DataFrame:
    """The rows of ``days``, down-sampled to about ``max_rows``.

    The sample is a hash of (seed, dt, keys), not ``DataFrame.sample``: the same rows are drawn
    however the table is partitioned (local mode and a cluster train the same model).
    """
    rows = df.where(F.col("dt").isin(list(days)))
    total = rows.count()
    if total > max_rows:
        u = (F.xxhash64(F.lit(seed), "dt", "account_id", "photo_id").bitwiseAND(F.lit((1 << 53) - 1))) / float(1 << 53)
        rows = rows.where(u < max_rows / total)
    return rows


def to_arrays(table: pa.Table, spec: Mapping[str, Any], with_label: bool = True) -> Arrays:
    """Model inputs from an Arrow table: ``numeric`` [N, D] float32, ``sparse`` [N, S] int32, keys, labels."""
    numeric = np.column_stack(
        [table.column(c).to_numpy(zero_copy_only=False).astype(np.float32) for c in spec["numeric_features"]]
    )
    sparse = np.column_stack(
        [table.column(s["column"]).to_numpy(zero_copy_only=False).astype(np.int32) for s in spec["sparse_features"]]
    )
    out: Arrays = {
        "numeric": np.nan_to_num(numeric, nan=0.0, posinf=0.0, neginf=0.0),
        "sparse": sparse,
        "account_id": table.column("account_id").to_numpy(zero_copy_only=False),
        "photo_id": table.column("photo_id").to_numpy(zero_copy_only=False),
    }
    if with_label:
        out["level"] = table.column(spec["level_column"]).to_numpy(zero_copy_only=False).astype(np.int32)
        out["cost"] = table.column(spec["label_column"]).to_numpy(zero_copy_only=False).astype(np.float32)
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


def collect_arrays(df: DataFrame, spec: Mapping[str, Any], staging: str, with_label: bool = True) -> Arrays:
    """Collect ``df`` into this process as Arrow (:func:`collect_arrow`, no Python rows) and convert to model arrays.

    Rows are put in (dt, account_id, photo_id) order, so the arrays do not depend on partitioning.
    """
    cols = ["dt", "account_id", "photo_id", *spec["numeric_features"], *[s["column"] for s in spec["sparse_features"]]]
    if with_label:
        cols += [spec["level_column"], spec["label_column"]]
    table = collect_arrow(df.select(*cols), staging)
    keys = [table.column(c).to_numpy(zero_copy_only=False) for c in ("photo_id", "account_id", "dt")]
    order = np.lexsort(keys)
    return to_arrays(table.take(pa.array(order)), spec, with_label)
