"""Layer 2 of the solver: one pass over all pairs = a kernel per block, then ``+`` of the small results.

:class:`Passes` writes the solver's passes once, each a kernel of (steps, keys); a back-end only says
how to fold a kernel over its blocks: :class:`InMemoryPasses` over NumPy blocks,
:class:`~acq_spark.allocation.spark_passes.SparkPasses` over a DataFrame's partitions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import numpy as np

from acq_spark.allocation.kernels.dual import DualEval, evaluate_steps
from acq_spark.allocation.kernels.histogram import Binning, SlopeHistogram, StepSample, collect_steps, slope_histogram
from acq_spark.allocation.kernels.hull import Steps, StepSource, concat_steps, empty_block
from acq_spark.allocation.kernels.keys import PairKeys
from acq_spark.allocation.kernels.ties import FillPlan, TiedPairs, TieStats, assign_levels, tie_stats, tied_in_bucket


class Summable(Protocol):
    """A kernel's result: partial results add up with ``+``."""

    def __add__(self, other: Any) -> Any: ...


R = TypeVar("R", bound=Summable)
Kernel = Callable[[Steps, PairKeys], Any]

#: Rows per block when the steps are built in memory (small blocks stay in the CPU cache: ~3x faster).
BLOCK_ROWS = 8192


def combine(kernel: Kernel, parts: Iterable[R]) -> R:
    """The sum of a kernel's results with ``+``, in order; with none, the kernel on no pairs (the neutral element)."""
    total = None
    for part in parts:
        total = part if total is None else total + part
    return kernel(*empty_block()) if total is None else total


class Passes:
    """The solver's passes, each a kernel folded over every block by the back-end's :meth:`fold`."""

    def fold(self, kernel: Kernel) -> Any:
        """One pass: ``kernel`` on every block, the results added."""
        raise NotImplementedError

    def evaluate(self, lambdas: Sequence[float]) -> DualEval:
        """The Lagrangian's sums at each λ."""
        lams = [float(x) for x in lambdas]
        return self.fold(lambda steps, keys: evaluate_steps(steps, lams))

    def histogram(self, binning: Binning) -> SlopeHistogram:
        """The cost-weighted histogram of the step slopes under ``binning``."""
        return self.fold(lambda steps, keys: slope_histogram(steps, binning))

    def collect(self, lo: float, hi: float) -> StepSample:
        """Every step with slope in [lo, hi], with its pair's keys."""
        return self.fold(lambda steps, keys: collect_steps(steps, keys, lo, hi))

    def tie_stats(self, lam: float, limit: int) -> TieStats:
        """The totals at λ and the tied pairs per hash bucket (the pairs themselves when at most ``limit``)."""
        return self.fold(lambda steps, keys: tie_stats(steps, keys, lam, limit))

    def tied_in_bucket(self, lam: float, bucket: int) -> TiedPairs:
        """The pairs tied at λ whose hash falls in ``bucket``."""
        return self.fold(lambda steps, keys: tied_in_bucket(steps, keys, lam, bucket))


class InMemoryPasses(Passes):
    """All pairs in memory: the steps are built once (block by block) and kept as one block."""

    def __init__(self, source: StepSource, cols: Mapping[str, np.ndarray], keys: PairKeys) -> None:
        n = len(keys.h)
        parts = [source.steps({k: v[i : i + BLOCK_ROWS] for k, v in cols.items()}) for i in range(0, n, BLOCK_ROWS)]
        self.blocks = [(concat_steps(parts) if parts else source.steps(cols), keys)]

    def fold(self, kernel: Kernel) -> Any:
        return combine(kernel, (kernel(steps, keys) for steps, keys in self.blocks))

    def assign(self, plan: FillPlan) -> np.ndarray:
        """(n,) the level index of every pair under ``plan``."""
        return np.concatenate([assign_levels(steps, keys, plan) for steps, keys in self.blocks])
