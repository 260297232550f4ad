"""The rule-based baseline of spec §7: creatives proportional to the pair's trailing 7-day cost.

Pair i's target is α · cost_7d_i creatives, snapped to the largest level ≤ target (at least the
smallest level). Pairs with no cost in the last 7 days count as a tiny, equal history
(:data:`NO_HISTORY`): they stay at the smallest level until every pair with history is at the
largest level, then share what is left of the budget evenly (a rule that leaves budget unused
would not be compared at the same number of creatives). α is the largest
factor whose total fits the budget, found exactly with the solver's own machinery: raising level
k−1 → k happens once α ≥ c_k / cost_7d_i, i.e. it is a "step" of pseudo-slope cost_7d_i / c_k
(falling in k), taken when the pseudo-slope is ≥ 1/α. Steps then come in the same falling order
as hull steps, so λ_rule = 1/α is found by the same passes, and pairs tied at the last α (equal
cost_7d) are filled in the same hash order, so the baseline uses the same budget: never above C,
short by less than one step. The solver takes it as one more step source (``method="rule_based"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
        """The rule steps of a block (null or non-positive history counts as :data:`NO_HISTORY`)."""
        return rule_steps(cols[self.history_column], cols[self.value_column], self.costs)


def rule_steps(history: np.ndarray, r: np.ndarray, costs: Sequence[int]) -> Steps:
    """Steps of the proportional rule.

    Args:
        history: (m,) trailing 7-day cost per pair; NaN, ≤ 0 or non-finite means no history,
            which counts as :data:`NO_HISTORY`.
        r: (m, K) values, only to report Σ r of the allocation.
        costs: the K strictly increasing levels c_k.

    Returns:
        :class:`Steps` of width K − 1.
    """
    h = np.asarray(history, dtype=np.float64)
    r = np.asarray(r, dtype=np.float64)
    c = np.asarray(costs, dtype=np.int64)
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
