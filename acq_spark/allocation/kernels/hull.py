"""Per-pair upper concave hull over (c_k, r_ik): the steps a pair takes as λ falls from +inf to 0.

argmax_k (r_ik − λ c_k) walks along the hull from the cheapest level, one edge ("step") at a time: a
step of slope s = Δr/Δc is taken exactly when λ < s, so only steps of slope ≥ 0 count. Collinear points
stay separate steps of equal slope, so ties can be broken one small step at a time. At every λ the
cheapest argmax is the vertex after all steps of slope > λ, the most expensive one after those ≥ λ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from acq_spark.allocation.kernels.keys import PairKeys

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


def concat_steps(parts: Sequence[Steps]) -> Steps:
    """The steps of several blocks of pairs (of the same width, at least one block), stacked in order."""
    return Steps(*(np.concatenate([getattr(p, f) for p in parts]) for f in Steps.__dataclass_fields__))


def empty_block() -> tuple[Steps, PairKeys]:
    """The steps and keys of no pairs: a kernel applied to them gives the neutral element of its ``+``."""
    i = np.empty(0, np.int64)
    return Steps(np.empty((0, 0)), np.empty((0, 0), np.int64), np.empty((0, 0)), np.empty((0, 0), np.int16),
                 np.empty(0, np.int16), i, np.empty(0)), PairKeys.of(i, i)


def hull_steps(r: np.ndarray, costs: Sequence[int], rtol: float = HULL_RTOL) -> Steps:
    """The upper-concave-hull steps (width K − 1) of every pair, from its cheapest level up to its highest value.

    Andrew's monotone chain, vectorised over pairs: a level is popped when it lies more than ``rtol`` ·
    max|r| below the line from the level under it to the new one, so collinear levels stay separate
    steps. The walk stops where the hull falls; slopes are made non-increasing (rounding) and those
    flat within tolerance count as 0, so levels of equal value are ties at λ = 0.

    Args:
        r: (m, K) finite values of each pair at each level.
        costs: K strictly increasing positive costs c_k.
        rtol: relative vertical tolerance for collinearity and flatness.
    """
    r = np.asarray(r, dtype=np.float64)
    c_int = np.asarray(costs, dtype=np.int64)
    m, k_levels = r.shape
    if k_levels != c_int.shape[0] or k_levels == 0:
        raise ValueError(f"r has {k_levels} levels per pair but there are {c_int.shape[0]} costs")
    c = c_int.astype(np.float64)
    vtol = rtol * np.abs(r).max(axis=1) if m else np.zeros(0)
    stack = np.zeros((m, k_levels), np.intp)
    top = np.zeros(m, np.intp)
    for k in range(1, k_levels):
        idx = np.nonzero(top >= 1)[0]
        while idx.size:
            a, b = stack[idx, top[idx] - 1], stack[idx, top[idx]]
            ra = r[idx, a]
            line = ra + (r[idx, k] - ra) * ((c[b] - c[a]) / (c[k] - c[a]))
            idx = idx[r[idx, b] < line - vtol[idx]]
            top[idx] -= 1
            idx = idx[top[idx] >= 1]
        top += 1
        stack[np.arange(m), top] = k
    frm, to = stack[:, :-1], stack[:, 1:]
    valid = np.arange(k_levels - 1)[None, :] < top[:, None]
    dc = np.where(valid, c_int[to] - c_int[frm], 0)
    dr = np.where(valid, np.take_along_axis(r, to, axis=1) - np.take_along_axis(r, frm, axis=1), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(valid, dr / np.where(valid, dc, 1), -np.inf)
    flat_tol = vtol / (c[-1] - c[0]) if k_levels > 1 else vtol
    keep = np.logical_and.accumulate(valid & (slope >= -flat_tol[:, None]), axis=1)
    slope = np.where(keep, np.maximum(np.minimum.accumulate(slope, axis=1), 0.0), -np.inf)
    return Steps(
        slope=slope,
        dc=np.where(keep, dc, 0).astype(np.int64),
        dr=np.where(keep, dr, 0.0),
        level=np.where(keep, to, 0).astype(np.int16),
        base_level=np.zeros(m, np.int16),
        base_cost=np.full(m, c_int[0], np.int64),
        base_r=r[:, 0].copy(),
    )


class StepSource(Protocol):
    """Makes a block's steps from its columns (a picklable object: it is shipped to Spark workers)."""

    @property
    def columns(self) -> tuple[str, ...]: ...

    @property
    def value_column(self) -> str: ...

    def steps(self, cols: Mapping[str, np.ndarray]) -> Steps: ...


@dataclass(frozen=True)
class HullSource:
    """The MCKP steps: the upper concave hull of each pair's values ``value_column`` over ``costs``."""

    costs: tuple[int, ...]
    value_column: str = "r"
    rtol: float = HULL_RTOL

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns a block needs."""
        return (self.value_column,)

    def steps(self, cols: Mapping[str, np.ndarray]) -> Steps:
        """The hull steps of a block; rejects non-finite values."""
        r = cols[self.value_column]
        if not np.isfinite(r).all():
            raise ValueError(f"{self.value_column}: non-finite values in the scores")
        return hull_steps(r, self.costs, self.rtol)
