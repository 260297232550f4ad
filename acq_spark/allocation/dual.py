"""The Lagrangian at several λ at once, over a block of pairs: one small result object per block.

For each λ: the cost used when every pair takes its cheapest argmax_k (r_ik − λ c_k) (``used_lo``)
or its most expensive one (``used_hi``), the value Σ r at the cheapest argmax, and the nearest
breakpoints (hull slopes) below and above λ, which let a bisection land exactly on λ*. Results
of blocks and partitions add with ``+``. g(λ) = used_lo − C, and Σ_i max_k (r_ik − λ c_k) =
r_lo − λ · used_lo, so the dual value is D(λ) = λ C + r_lo − λ used_lo.

:func:`evaluate_steps` works on hull steps (what the solver uses: exact, consistent with the
fast path); :func:`evaluate_dense` is the direct argmax over the levels, ties within a relative
tolerance, kept as the independent definition the tests check the hull against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from acq_spark.allocation.hull import Steps


@dataclass(frozen=True)
class DualEval:
    """Sums over pairs at each of L values of λ; ``+`` merges blocks evaluated at the same λ.

    Attributes:
        lambdas: (L,) the λ values.
        n: number of pairs.
        used_lo: (L,) int64 Σ c at the cheapest argmax.
        used_hi: (L,) int64 Σ c at the most expensive argmax.
        r_lo: (L,) Σ r at the cheapest argmax.
        below: (L,) largest step slope < λ (-inf if none; NaN if unknown).
        above: (L,) smallest step slope > λ (+inf if none; NaN if unknown).
        top: largest step slope overall (-inf if none; NaN if unknown).
    """

    lambdas: np.ndarray
    n: int
    used_lo: np.ndarray
    used_hi: np.ndarray
    r_lo: np.ndarray
    below: np.ndarray
    above: np.ndarray
    top: float

    def __add__(self, other: DualEval) -> DualEval:
        if not np.array_equal(self.lambdas, other.lambdas):
            raise ValueError("cannot add evaluations at different λ")
        return DualEval(
            lambdas=self.lambdas,
            n=self.n + other.n,
            used_lo=self.used_lo + other.used_lo,
            used_hi=self.used_hi + other.used_hi,
            r_lo=self.r_lo + other.r_lo,
            below=np.fmax(self.below, other.below),
            above=np.fmin(self.above, other.above),
            top=float(np.fmax(self.top, other.top)),
        )

    def g(self, budget: int) -> np.ndarray:
        """(L,) g(λ) = Σ c at the cheapest argmax − C; non-increasing in λ."""
        return self.used_lo - budget

    def lagrangian(self) -> np.ndarray:
        """(L,) Σ_i max_k (r_ik − λ c_k)."""
        return self.r_lo - self.lambdas * self.used_lo

    def dual_value(self, budget: int) -> np.ndarray:
        """(L,) D(λ) = λ C + Σ_i max_k (r_ik − λ c_k): an upper bound on the LP optimum."""
        return self.lambdas * budget + self.lagrangian()

    def at(self, i: int) -> DualEval:
        """The evaluation at the i-th λ only."""
        sl = slice(i, i + 1)
        return DualEval(
            self.lambdas[sl], self.n, self.used_lo[sl], self.used_hi[sl], self.r_lo[sl],
            self.below[sl], self.above[sl], self.top,
        )


def zero_eval(lambdas: Sequence[float]) -> DualEval:
    """The evaluation over no pairs (the neutral element of ``+``)."""
    lam = np.asarray(lambdas, dtype=np.float64)
    zeros = np.zeros(lam.shape, np.int64)
    return DualEval(lam, 0, zeros, zeros.copy(), np.zeros(lam.shape), np.full(lam.shape, -np.inf),
                    np.full(lam.shape, np.inf), -np.inf)


def evaluate_steps(steps: Steps, lambdas: Sequence[float]) -> DualEval:
    """Evaluate the Lagrangian of a block of pairs at every λ in ``lambdas``, from their hull steps.

    Args:
        steps: the block's :class:`Steps`.
        lambdas: L values of λ ≥ 0.

    Returns:
        The block's :class:`DualEval`.
    """
    lam = np.asarray(lambdas, dtype=np.float64)
    base_c = int(steps.base_cost.sum())
    base_r = float(steps.base_r.sum())
    used_lo = np.empty(lam.shape, np.int64)
    used_hi = np.empty(lam.shape, np.int64)
    r_lo = np.empty(lam.shape)
    below = np.empty(lam.shape)
    above = np.empty(lam.shape)
    s = steps.slope
    for i, x in enumerate(lam):
        gt = s > x
        used_lo[i] = base_c + int(steps.dc[gt].sum())
        used_hi[i] = base_c + int(steps.dc[s >= x].sum())
        r_lo[i] = base_r + float(steps.dr[gt].sum())
        lower = s[s < x]
        below[i] = lower.max() if lower.size else -np.inf
        upper = s[gt]
        above[i] = upper.min() if upper.size else np.inf
    top = float(s[:, 0].max()) if s.size else -np.inf
    return DualEval(lam, steps.n, used_lo, used_hi, r_lo, below, above, top)


def evaluate_dense(r: np.ndarray, costs: Sequence[int], lambdas: Sequence[float], rtol: float = 1e-9) -> DualEval:
    """Evaluate the Lagrangian directly: argmax_k (r_ik − λ c_k) over all levels, for every λ.

    Levels within ``rtol`` · max_k |r_ik| of a pair's maximum count as tied (a tolerance that does
    not depend on λ, so used_lo and used_hi stay non-increasing in λ). Breakpoints are unknown (NaN).

    Args:
        r: (m, K) values.
        costs: K strictly increasing costs.
        lambdas: L values of λ.
        rtol: relative tie tolerance.

    Returns:
        The block's :class:`DualEval`.
    """
    r = np.asarray(r, dtype=np.float64)
    c = np.asarray(costs, dtype=np.int64)
    lam = np.asarray(lambdas, dtype=np.float64)
    atol = rtol * np.abs(r).max(axis=1, initial=0.0)
    used_lo = np.empty(lam.shape, np.int64)
    used_hi = np.empty(lam.shape, np.int64)
    r_lo = np.empty(lam.shape)
    rows = np.arange(r.shape[0])
    for i, x in enumerate(lam):
        v = r - x * c[None, :].astype(np.float64)
        tied = v >= (v.max(axis=1) - atol)[:, None]
        lo = np.argmax(tied, axis=1)
        hi = r.shape[1] - 1 - np.argmax(tied[:, ::-1], axis=1)
        used_lo[i] = int(c[lo].sum())
        used_hi[i] = int(c[hi].sum())
        r_lo[i] = float(r[rows, lo].sum())
    nan = np.full(lam.shape, np.nan)
    return DualEval(lam, r.shape[0], used_lo, used_hi, r_lo, nan, nan.copy(), float("nan"))
