"""Per-pair upper concave hull over (c_k, r_ik): the steps a pair takes as λ falls from +inf to 0.

For λ → +inf every pair takes its cheapest level (costs are strictly increasing). As λ falls, the
choice argmax_k (r_ik − λ c_k) walks along the upper concave hull of the points (c_k, r_ik), one
hull edge ("step") at a time: a step of slope s = Δr/Δc is taken exactly when λ < s. Only steps of
slope ≥ 0 can be taken for λ ≥ 0, so the walk stops at the (first) highest point. Collinear points
are kept as separate steps of equal slope, so ties can later be broken one small step at a time.

The whole solver works on these steps: for every λ the cheapest argmax is the vertex after all
steps with slope > λ, the most expensive one after all steps with slope ≥ λ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Relative tolerance (of the pair's largest |r|) under which points count as on a hull edge.
HULL_RTOL = 1e-12


@dataclass(frozen=True)
class Steps:
    """The steps of a block of m pairs, left-aligned in rows of width S, slopes non-increasing per row.

    Attributes:
        slope: (m, S) float64; -inf where a row has no more steps.
        dc: (m, S) int64 cost (creatives) added by each step; 0 where none.
        dr: (m, S) float64 value added by each step; 0 where none.
        level: (m, S) int16 level index reached after each step.
        base_level: (m,) int16 level index with no step taken.
        base_cost: (m,) int64 cost of the base level.
        base_r: (m,) float64 value of the base level.
    """

    slope: np.ndarray
    dc: np.ndarray
    dr: np.ndarray
    level: np.ndarray
    base_level: np.ndarray
    base_cost: np.ndarray
    base_r: np.ndarray

    @property
    def n(self) -> int:
        """The number of pairs."""
        return int(self.base_cost.shape[0])

    def count_above(self, lam: float, strict: bool = True) -> np.ndarray:
        """(m,) number of steps with slope > λ (``strict``) or ≥ λ: a prefix of each row."""
        hit = self.slope > lam if strict else self.slope >= lam
        return hit.sum(axis=1)

    def levels_after(self, counts: np.ndarray) -> np.ndarray:
        """(m,) level index reached after the first ``counts[i]`` steps of each row."""
        counts = np.asarray(counts)
        if self.slope.shape[1] == 0:
            return self.base_level.astype(np.int32)
        at = np.take_along_axis(self.level, np.maximum(counts - 1, 0)[:, None], axis=1)[:, 0]
        return np.where(counts > 0, at, self.base_level).astype(np.int32)


def empty_steps(width: int = 0) -> Steps:
    """Steps of zero pairs."""
    return Steps(
        slope=np.empty((0, width)),
        dc=np.empty((0, width), np.int64),
        dr=np.empty((0, width)),
        level=np.empty((0, width), np.int16),
        base_level=np.empty(0, np.int16),
        base_cost=np.empty(0, np.int64),
        base_r=np.empty(0),
    )


def hull_steps(r: np.ndarray, costs: Sequence[int], rtol: float = HULL_RTOL) -> Steps:
    """The upper-concave-hull steps of every pair, from its cheapest level up to its highest value.

    Gift wrapping, vectorised over pairs: from the current vertex, the next one is the nearest
    level on the steepest line (within ``rtol`` · max|r| vertically), so collinear levels become
    separate steps. Slopes are made non-increasing (rounding) and slightly negative ones (within
    tolerance of flat) count as 0, so levels of equal value are ties at λ = 0.

    Args:
        r: (m, K) values of each pair at each level; finite.
        costs: K strictly increasing positive costs c_k.
        rtol: relative vertical tolerance for collinearity and flatness.

    Returns:
        The pairs' :class:`Steps` (width K − 1).
    """
    r = np.asarray(r, dtype=np.float64)
    c_int = np.asarray(costs, dtype=np.int64)
    m, k_levels = r.shape
    if k_levels != c_int.shape[0]:
        raise ValueError(f"r has {k_levels} levels per pair but there are {c_int.shape[0]} costs")
    c = c_int.astype(np.float64)
    width = k_levels - 1
    slope = np.full((m, width), -np.inf)
    dc = np.zeros((m, width), np.int64)
    dr = np.zeros((m, width))
    level = np.zeros((m, width), np.int16)
    vtol = rtol * np.abs(r).max(axis=1) if k_levels else np.zeros(m)
    flat_tol = vtol / (c[-1] - c[0]) if width else vtol
    cur = np.zeros(m, np.intp)
    prev = np.full(m, np.inf)
    idx = np.arange(m)
    ks = np.arange(k_levels)
    for j in range(width):
        if idx.size == 0:
            break
        cu = cur[idx]
        rows = r[idx]
        gain = rows - rows[np.arange(idx.size), cu][:, None]
        run = c[None, :] - c[cu][:, None]
        valid = ks[None, :] > cu[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            sl = np.where(valid, gain / np.where(valid, run, 1.0), -np.inf)
        smax = sl.max(axis=1)
        go = smax >= -flat_tol[idx]
        idx, cu, gain, run, valid, sl, smax = idx[go], cu[go], gain[go], run[go], valid[go], sl[go], smax[go]
        if idx.size == 0:
            break
        near = valid & (gain - smax[:, None] * run >= -vtol[idx][:, None])
        nxt = np.argmax(near, axis=1)
        s = np.maximum(np.minimum(sl[np.arange(idx.size), nxt], prev[idx]), 0.0)
        slope[idx, j] = s
        dc[idx, j] = c_int[nxt] - c_int[cu]
        dr[idx, j] = gain[np.arange(idx.size), nxt]
        level[idx, j] = nxt
        prev[idx] = s
        cur[idx] = nxt
        idx = idx[nxt < k_levels - 1]
    return Steps(
        slope=slope,
        dc=dc,
        dr=dr,
        level=level,
        base_level=np.zeros(m, np.int16),
        base_cost=np.full(m, c_int[0] if k_levels else 0, np.int64),
        base_r=r[:, 0].copy() if k_levels else np.zeros(m),
    )
