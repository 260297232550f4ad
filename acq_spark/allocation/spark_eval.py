"""The solver's passes over a cached Spark DataFrame: NumPy on Arrow batches, one small row per partition.

Every pass is a ``mapInArrow`` over the projection (account_id, photo_id, the step source's
columns): each Arrow batch becomes NumPy arrays (no Python Row objects), its hull steps are built
and reduced to a small result object, the partition's results are added and shipped to the driver
as one pickled row, and the driver adds the partitions' rows. λ and the other parameters travel in
the function's closure. The final assignment is a lazy ``mapInArrow`` producing the allocation.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame

from acq_spark.allocation.dual import DualEval, evaluate_steps, zero_eval
from acq_spark.allocation.evaluator import StepSource
from acq_spark.allocation.fill import FillPlan, assign_levels
from acq_spark.allocation.histogram import (
    Binning,
    SlopeHistogram,
    StepSample,
    collect_steps,
    empty_histogram,
    empty_sample,
    slope_histogram,
)
from acq_spark.allocation.hull import Steps
from acq_spark.allocation.keys import PairKeys
from acq_spark.allocation.ties import TiedPairs, TieStats, empty_tie_stats, no_tied_pairs, tie_stats, tied_in_bucket

KEYS = ("account_id", "photo_id")
ALLOCATION_SCHEMA = "account_id long, photo_id long, level int, n_creatives int, r double"

T = TypeVar("T")
BlockFn = Callable[[Steps, PairKeys], Any]


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


def _block_iter(batches: Iterator[pa.RecordBatch], source: StepSource) -> Iterator[tuple[Steps, PairKeys, dict]]:
    names = (*KEYS, *source.columns)
    for batch in batches:
        if batch.num_rows == 0:
            continue
        cols = batch_columns(batch, names)
        keys = PairKeys.of(cols["account_id"], cols["photo_id"])
        yield source.steps(cols), keys, cols


class SparkEvaluator:
    """The passes of :class:`~acq_spark.allocation.evaluator.Evaluator` over a Spark DataFrame."""

    def __init__(self, df: DataFrame, source: StepSource) -> None:
        cols = list(dict.fromkeys((*KEYS, *source.columns, source.value_column)))
        self.source = source
        self.df = df.select(*cols)
        if not df.is_cached:
            self.df = self.df.cache()
        self.passes = 0

    def _fold(self, fn: BlockFn, zero: T) -> T:
        """One pass: ``fn`` on every block, summed per partition (one pickled row), then on the driver."""
        source = self.source

        def per_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            acc = None
            for steps, keys, _ in _block_iter(batches, source):
                part = fn(steps, keys)
                acc = part if acc is None else acc + part
            if acc is not None:
                yield pa.RecordBatch.from_pydict({"payload": [pickle.dumps(acc, protocol=5)]})

        self.passes += 1
        table = self.df.mapInArrow(per_partition, "payload binary").toArrow()
        total = zero
        for payload in table.column("payload").to_pylist():
            total = total + pickle.loads(payload)
        return total

    def evaluate(self, lambdas: Sequence[float]) -> DualEval:
        lams = [float(x) for x in lambdas]
        return self._fold(lambda steps, keys: evaluate_steps(steps, lams), zero_eval(lams))

    def histogram(self, binning: Binning) -> SlopeHistogram:
        return self._fold(lambda steps, keys: slope_histogram(steps, binning), empty_histogram())

    def collect(self, lo: float, hi: float) -> StepSample:
        return self._fold(lambda steps, keys: collect_steps(steps, keys, lo, hi), empty_sample())

    def tie_stats(self, lam: float, limit: int) -> TieStats:
        return self._fold(lambda steps, keys: tie_stats(steps, keys, lam, limit), empty_tie_stats(lam, limit))

    def tied_in_bucket(self, lam: float, bucket: int) -> TiedPairs:
        return self._fold(lambda steps, keys: tied_in_bucket(steps, keys, lam, bucket), no_tied_pairs())

    def assign(self, plan: FillPlan, levels: Sequence[int]) -> DataFrame:
        """The allocation (account_id, photo_id, level, n_creatives, r), computed lazily under ``plan``."""
        return self.df.mapInArrow(assign_batches(self.source, plan, levels), ALLOCATION_SCHEMA)


def assign_batches(
    source: StepSource, plan: FillPlan, levels: Sequence[int]
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The ``mapInArrow`` function giving every pair its level under ``plan``."""
    costs = np.asarray(levels, dtype=np.int32)

    def per_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for steps, keys, cols in _block_iter(batches, source):
            level = assign_levels(steps, keys, plan)
            value = cols[source.value_column][np.arange(level.size), level]
            yield pa.RecordBatch.from_pydict(_allocation_columns(keys, level, costs[level], value))

    return per_partition


def _allocation_columns(keys: PairKeys, level: np.ndarray, n: np.ndarray, value: np.ndarray) -> Mapping[str, Any]:
    return {
        "account_id": pa.array(keys.account, pa.int64()),
        "photo_id": pa.array(keys.photo, pa.int64()),
        "level": pa.array(level.astype(np.int32), pa.int32()),
        "n_creatives": pa.array(n.astype(np.int32), pa.int32()),
        "r": pa.array(value.astype(np.float64), pa.float64()),
    }
