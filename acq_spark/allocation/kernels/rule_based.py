"""The rule-based baseline of spec §7: creatives proportional to the pair's trailing 7-day cost.

Pair i gets the largest level ≤ α · cost_7d_i (at least the smallest), α the largest factor that fits
the budget. Raising level k−1 → k happens once α ≥ c_k / cost_7d_i: a "step" of pseudo-slope
cost_7d_i / c_k (falling in k) taken when it is ≥ 1/α. So λ_rule = 1/α is found by the solver's own
passes and ties (equal cost_7d) are filled in the same hash order: the baseline uses the same budget,
never above C. Pairs without history (:data:`NO_HISTORY`) stay at the smallest level until every
other pair is at the largest, then share what is left evenly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from acq_spark.allocation.kernels.hull import Steps

NO_HISTORY = 1e-12
"""The pseudo 7-day cost of a pair without one: far below any real cost (costs have 4 decimals)."""


@dataclass(frozen=True)
class RuleSource:
    """The baseline's steps: level k−1 → k at pseudo-slope ``history`` / c_k; values from ``value_column``."""

    costs: tuple[int, ...]
    history_column: str = "cost_7d"
    value_column: str = "r"

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns a block needs."""
        return (self.history_column, self.value_column)

    def steps(self, cols: Mapping[str, np.ndarray]) -> Steps:
        """The rule steps (width K − 1) of a block; a NaN, non-positive or non-finite history is :data:`NO_HISTORY`."""
        h = np.asarray(cols[self.history_column], dtype=np.float64)
        r = np.asarray(cols[self.value_column], dtype=np.float64)
        c = np.asarray(self.costs, dtype=np.int64)
        m, k_levels = r.shape
        h = np.where(np.isfinite(h) & (h > 0), h, NO_HISTORY)
        slope = h[:, None] / c[None, 1:].astype(np.float64)
        dc = np.broadcast_to(np.diff(c)[None, :], (m, k_levels - 1)).astype(np.int64)
        dr = np.diff(r, axis=1)
        level = np.broadcast_to(np.arange(1, k_levels, dtype=np.int16), (m, k_levels - 1)).copy()
        return Steps(slope, dc, dr, level, np.zeros(m, np.int16), np.full(m, c[0], np.int64), r[:, 0].copy())


def alpha_of(lam: float) -> float:
    """The proportionality factor α (creatives per unit of 7-day cost) for the rule's λ = 1/α."""
    return 1.0 / lam if lam > 0 else float("inf")
