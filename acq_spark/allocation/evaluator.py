"""What one pass over the pairs computes, behind one interface for NumPy (in memory) and Spark.

A :class:`StepSource` turns a block of columns into :class:`~acq_spark.allocation.hull.Steps`
(the MCKP hull of ``r``, or the rule-based baseline's steps); an :class:`Evaluator` runs one pass
of a given kind over all blocks and returns the summed small result. The searches and the fill
only ever see these results, so the NumPy and the Spark paths run the very same driver code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from acq_spark.allocation.dual import DualEval, evaluate_steps
from acq_spark.allocation.fill import FillPlan, assign_levels
from acq_spark.allocation.histogram import Binning, SlopeHistogram, StepSample, collect_steps, slope_histogram
from acq_spark.allocation.hull import HULL_RTOL, Steps, concat_steps, hull_steps
from acq_spark.allocation.keys import PairKeys
from acq_spark.allocation.ties import TiedPairs, TieStats, tie_stats, tied_in_bucket


class StepSource(Protocol):
    """Makes a block's steps from its columns (a picklable object: it is shipped to Spark workers)."""

    columns: tuple[str, ...]
    value_column: str

    def steps(self, cols: Mapping[str, np.ndarray]) -> Steps: ...


@dataclass(frozen=True)
class HullSource:
    """The MCKP steps: the upper concave hull of each pair's values ``value_column`` over ``costs``."""

    costs: tuple[int, ...]
    value_column: str = "r"
    rtol: float = HULL_RTOL

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.value_column,)

    def steps(self, cols: Mapping[str, np.ndarray]) -> Steps:
        """The hull steps of a block; rejects non-finite values."""
        r = cols[self.value_column]
        if not np.isfinite(r).all():
            raise ValueError(f"{self.value_column}: non-finite values in the scores")
        return hull_steps(r, self.costs, self.rtol)


class Evaluator(Protocol):
    """One pass of each kind over every pair; each returns a small result summed over blocks."""

    def evaluate(self, lambdas: Sequence[float]) -> DualEval: ...

    def histogram(self, binning: Binning) -> SlopeHistogram: ...

    def collect(self, lo: float, hi: float) -> StepSample: ...

    def tie_stats(self, lam: float, limit: int) -> TieStats: ...

    def tied_in_bucket(self, lam: float, bucket: int) -> TiedPairs: ...


#: Rows per block when the steps are built in memory (small blocks stay in the CPU cache: ~3x faster).
BLOCK_ROWS = 8192


class NumpyEvaluator:
    """All pairs in memory: the steps are built once (block by block), every pass is a NumPy call."""

    def __init__(self, source: StepSource, cols: Mapping[str, np.ndarray], keys: PairKeys) -> None:
        self.source = source
        self.cols = cols
        self.keys = keys
        n = len(keys.h)
        self.steps = concat_steps(
            [source.steps({k: v[i : i + BLOCK_ROWS] for k, v in cols.items()}) for i in range(0, n, BLOCK_ROWS)]
        ) if n else source.steps(cols)
        self.passes = 0

    def evaluate(self, lambdas: Sequence[float]) -> DualEval:
        self.passes += 1
        return evaluate_steps(self.steps, lambdas)

    def histogram(self, binning: Binning) -> SlopeHistogram:
        self.passes += 1
        return slope_histogram(self.steps, binning)

    def collect(self, lo: float, hi: float) -> StepSample:
        self.passes += 1
        return collect_steps(self.steps, self.keys, lo, hi)

    def tie_stats(self, lam: float, limit: int) -> TieStats:
        self.passes += 1
        return tie_stats(self.steps, self.keys, lam, limit)

    def tied_in_bucket(self, lam: float, bucket: int) -> TiedPairs:
        self.passes += 1
        return tied_in_bucket(self.steps, self.keys, lam, bucket)

    def assign(self, plan: FillPlan) -> np.ndarray:
        """(n,) the level index of every pair under ``plan``."""
        return assign_levels(self.steps, self.keys, plan)
