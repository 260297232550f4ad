"""Caching a DataFrame for one stage: whoever caches it releases it, on success and on failure.

``with cached(df) as df:`` persists ``df`` for the block and unpersists it when the block ends,
however it ends. Intermediate results as large as the input (the validated rows, the point-in-time
features) use :data:`INPUT_SIZED_CACHE`: the executors' local disks, never the JVM heap, so the
heap does not grow with the input.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pyspark import StorageLevel
from pyspark.sql import DataFrame

INPUT_SIZED_CACHE = StorageLevel.DISK_ONLY


@contextmanager
def cached(df: DataFrame, level: StorageLevel = StorageLevel.MEMORY_AND_DISK) -> Iterator[DataFrame]:
    """Persist ``df`` at ``level`` for the ``with`` block; unpersist it when the block ends.

    Args:
        df: the DataFrame to cache (lazy: it is computed by the block's first action).
        level: the storage level; :data:`INPUT_SIZED_CACHE` for input-sized data.

    Yields:
        The persisted DataFrame.
    """
    persisted = df.persist(level)
    try:
        yield persisted
    finally:
        persisted.unpersist()
