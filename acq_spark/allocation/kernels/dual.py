"""The Lagrangian at several λ at once over a block of pairs, and :class:`Totals`, the sums it is made of.

With every pair at its cheapest argmax_k (r_ik − λ c_k): g(λ) = used_lo − C and the dual value is
D(λ) = λ C + r_lo − λ used_lo. The breakpoints (hull slopes) around λ let a bisection land on λ*.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from acq_spark.allocation.kernels.hull import Steps


class Totals(NamedTuple):
    """Sums over pairs at λ: scalars at one λ, or (L,) arrays at L values; ``+`` adds them field by field.

    Attributes:
        used_lo: Σ c with every pair at its cheapest argmax_k (r_ik − λ c_k).
        used_hi: Σ c with every pair at its most expensive argmax.
        r_lo: Σ r at the cheapest argmax.
    """

    used_lo: Any
    used_hi: Any
    r_lo: Any

    def __add__(self, other: tuple) -> Totals:
        return Totals(*(a + b for a, b in zip(self, other, strict=True)))

    @classmethod
    def split(cls, used: int, r: float, dc: np.ndarray, dr: np.ndarray, gt: np.ndarray, eq: np.ndarray) -> Totals:
        """``used`` and ``r`` plus the steps above λ (mask ``gt``); ``used_hi`` also takes the tied ones (``eq``)."""
        used_lo = used + int(dc[gt].sum())
        return cls(used_lo, used_lo + int(dc[eq].sum()), r + float(dr[gt].sum()))

    def at(self, i: int) -> Totals:
        """The scalar totals at the i-th λ of array totals."""
        return Totals(int(self.used_lo[i]), int(self.used_hi[i]), float(self.r_lo[i]))


@dataclass(frozen=True)
class DualEval:
    """Sums over pairs at each of L values of λ; ``+`` merges blocks evaluated at the same λ.

    Attributes:
        lambdas: (L,) the λ values.
        n: number of pairs.
        totals: the :class:`Totals` at each λ, (L,) arrays.
        r_hi: (L,) Σ r at the most expensive argmax.
        below: (L,) largest step slope < λ (-inf if none; NaN if unknown).
        above: (L,) smallest step slope > λ (+inf if none; NaN if unknown).
        top: largest step slope overall (-inf if none; NaN if unknown).
    """

    lambdas: np.ndarray
    n: int
    totals: Totals
    r_hi: np.ndarray
    below: np.ndarray
    above: np.ndarray
    top: float

    def __add__(self, other: DualEval) -> DualEval:
        if not np.array_equal(self.lambdas, other.lambdas):
            raise ValueError("cannot add evaluations at different λ")
        return DualEval(
            self.lambdas, self.n + other.n, self.totals + other.totals, self.r_hi + other.r_hi,
            np.fmax(self.below, other.below), np.fmin(self.above, other.above), float(np.fmax(self.top, other.top)),
        )

    @property
    def used_lo(self) -> np.ndarray:
        """(L,) Σ c at the cheapest argmax."""
        return self.totals.used_lo

    @property
    def used_hi(self) -> np.ndarray:
        """(L,) Σ c at the most expensive argmax."""
        return self.totals.used_hi

    @property
    def r_lo(self) -> np.ndarray:
        """(L,) Σ r at the cheapest argmax."""
        return self.totals.r_lo

    def lagrangian(self) -> np.ndarray:
        """(L,) Σ_i max_k (r_ik − λ c_k)."""
        return self.r_lo - self.lambdas * self.used_lo


def evaluate_steps(steps: Steps, lambdas: Sequence[float]) -> DualEval:
    """The :class:`DualEval` of a block of pairs (their hull ``steps``) at every λ ≥ 0 in ``lambdas``."""
    lam = np.asarray(lambdas, dtype=np.float64)
    base_c = int(steps.base_cost.sum())
    base_r = float(steps.base_r.sum())
    used_lo, used_hi = np.empty(lam.shape, np.int64), np.empty(lam.shape, np.int64)
    r_lo, r_hi, below, above = (np.empty(lam.shape) for _ in range(4))
    s = steps.slope
    for i, x in enumerate(lam):
        gt, ge = s > x, s >= x
        used_lo[i] = base_c + int(steps.dc[gt].sum())
        used_hi[i] = base_c + int(steps.dc[ge].sum())
        r_lo[i] = base_r + float(steps.dr[gt].sum())
        r_hi[i] = base_r + float(steps.dr[ge].sum())
        lower = s[~ge]
        below[i] = lower.max() if lower.size else -np.inf
        upper = s[gt]
        above[i] = upper.min() if upper.size else np.inf
    top = float(s[:, 0].max()) if s.size else -np.inf
    return DualEval(lam, steps.n, Totals(used_lo, used_hi, r_lo), r_hi, below, above, top)
