"""Layer 2, the Spark back-end: the passes' kernels on Arrow batches, one small row per partition.

Every pass is a ``mapInArrow`` over the projection (keys, the step source's columns): each batch
becomes NumPy arrays, its steps go to the pass's kernel (λ and other parameters in its closure), and
the partition's result is shipped to the driver as one pickled row. The final assignment is a lazy
``mapInArrow``. Nothing is cached here: the caller caches the DataFrame it hands over.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from acq_spark.allocation.kernels.hull import Steps, StepSource
from acq_spark.allocation.kernels.keys import PairKeys
from acq_spark.allocation.kernels.ties import FillPlan, TieStats, assign_levels, tie_stats
from acq_spark.allocation.passes import Kernel, Passes, combine
from acq_spark.ingest.schemas import KEYS

ALLOCATION_SCHEMA = T.StructType([
    T.StructField("account_id", T.LongType()),
    T.StructField("photo_id", T.LongType()),
    T.StructField("level", T.IntegerType()),
    T.StructField("n_creatives", T.IntegerType()),
    T.StructField("r", T.DoubleType()),
])


def batch_columns(batch: pa.RecordBatch, names: Sequence[str]) -> dict[str, np.ndarray]:
    """NumPy views of the named columns of an Arrow batch; array columns become (rows, K) matrices.

    Raises:
        ValueError: a key or array is null, or the arrays differ in length.
    """
    out: dict[str, np.ndarray] = {}
    for name in names:
        col = batch.column(name)
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            lengths = pc.list_value_length(col).to_numpy(zero_copy_only=False)
            flat = col.flatten()
            if col.null_count or flat.null_count:
                raise ValueError(f"{name}: null arrays or null elements in the scores")
            width = int(lengths[0]) if len(lengths) else 0
            if len(lengths) and (lengths != width).any():
                raise ValueError(f"{name}: arrays of different lengths {sorted(set(lengths.tolist()))[:5]}")
            out[name] = flat.to_numpy(zero_copy_only=False).astype(np.float64).reshape(len(col), width)
        else:
            if name in KEYS and col.null_count:
                raise ValueError(f"{name}: null keys in the scores")
            out[name] = col.to_numpy(zero_copy_only=False)
    return out


def _blocks(
    batches: Iterator[pa.RecordBatch], source: StepSource
) -> Iterator[tuple[Steps, PairKeys, dict, pa.RecordBatch]]:
    names = (*KEYS, *source.columns)
    for batch in batches:
        if batch.num_rows == 0:
            continue
        cols = batch_columns(batch, names)
        keys = PairKeys.of(cols["account_id"], cols["photo_id"])
        yield source.steps(cols), keys, cols, batch


class SparkPasses(Passes):
    """The passes over the partitions of a DataFrame (cache it: every pass reads it again).

    ``carry``: columns of ``df`` the allocation keeps beside its own, as they are (e.g. the truth's values,
    so that Table 4 values an allocation without joining it back to the truth).
    """

    def __init__(self, df: DataFrame, source: StepSource, carry: Sequence[str] = ()) -> None:
        clash = set(carry) & set(ALLOCATION_SCHEMA.names)
        if clash:
            raise ValueError(f"carry: {sorted(clash)} would shadow the allocation's own columns")
        self.df = df.select(*dict.fromkeys((*KEYS, *source.columns, source.value_column, *carry)))
        self.source = source
        self.carry = tuple(carry)

    def fold(self, kernel: Kernel) -> Any:
        return combine(kernel, self.partition_results(kernel))

    def partition_results(self, kernel: Kernel) -> list[Any]:
        """One pass: each partition's ``+`` of ``kernel`` over its blocks, shipped to the driver."""
        source = self.source

        def per_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            part = combine(kernel, (kernel(steps, keys) for steps, keys, _, _ in _blocks(batches, source)))
            yield pa.RecordBatch.from_pydict({"payload": [pickle.dumps(part, protocol=5)]})

        table = self.df.mapInArrow(per_partition, "payload binary").toArrow()
        return [pickle.loads(p) for p in table.column("payload").to_pylist()]

    def tie_stats(self, lam: float, limit: int) -> TieStats:
        """The totals at λ and the tied pairs per hash bucket; the pairs themselves when at most ``limit``."""
        return combine(lambda steps, keys: tie_stats(steps, keys, lam, limit), self.tie_stats_by_partition(lam, limit))

    def tie_stats_by_partition(self, lam: float, limit: int) -> list[TieStats]:
        """Each partition's :class:`TieStats` at λ, as shipped to the driver.

        A partition ships its tied pairs only when they are at most ``limit`` / partitions, so the
        driver never receives more than ``limit`` of them: with a limit per partition, P partitions could
        ship P × ``limit`` (the rule-based baseline ties every pair of equal 7-day cost at the same level).
        """
        share = max(1, limit // self.df.rdd.getNumPartitions())
        parts = self.partition_results(lambda steps, keys: tie_stats(steps, keys, lam, share))
        return [replace(part, limit=limit) for part in parts]

    def assign(self, plan: FillPlan, levels: Sequence[int]) -> DataFrame:
        """The allocation (account_id, photo_id, level, n_creatives, r, then the carried columns), computed lazily
        under ``plan``."""
        source, costs, carry = self.source, np.asarray(levels, dtype=np.int32), self.carry

        def per_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            for steps, keys, cols, batch in _blocks(batches, source):
                level = assign_levels(steps, keys, plan)
                yield pa.RecordBatch.from_pydict({
                    "account_id": pa.array(keys.account, pa.int64()),
                    "photo_id": pa.array(keys.photo, pa.int64()),
                    "level": pa.array(level.astype(np.int32), pa.int32()),
                    "n_creatives": pa.array(costs[level].astype(np.int32), pa.int32()),
                    "r": pa.array(cols[source.value_column][np.arange(level.size), level].astype(np.float64)),
                    **{name: batch.column(name) for name in carry},
                })

        schema = T.StructType([*ALLOCATION_SCHEMA.fields, *(self.df.schema[name] for name in carry)])
        return self.df.mapInArrow(per_partition, schema)
