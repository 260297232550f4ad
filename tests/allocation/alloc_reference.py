"""Reference code the allocation tests check the package against (not used by the package itself)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from acq_spark.allocation.kernels.dual import DualEval, Totals


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
    r_lo, r_hi = np.empty(lam.shape), np.empty(lam.shape)
    rows = np.arange(r.shape[0])
    for i, x in enumerate(lam):
        v = r - x * c[None, :].astype(np.float64)
        tied = v >= (v.max(axis=1) - atol)[:, None]
        lo = np.argmax(tied, axis=1)
        hi = r.shape[1] - 1 - np.argmax(tied[:, ::-1], axis=1)
        used_lo[i] = int(c[lo].sum())
        used_hi[i] = int(c[hi].sum())
        r_lo[i] = float(r[rows, lo].sum())
        r_hi[i] = float(r[rows, hi].sum())
    nan = np.full(lam.shape, np.nan)
    return DualEval(lam, r.shape[0], Totals(used_lo, used_hi, r_lo), r_hi, nan, nan.copy(), float("nan"))
