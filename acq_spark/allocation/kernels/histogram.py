"""Cost-weighted histograms of hull-step slopes, and the steps of a slope range: the fast exact path's passes.

λ* is the slope at which the cumulative cost of all steps, steepest first, passes the budget. Every
binning is monotone in the slope, so bins never interleave and the range [min, max] of the bin holding
λ* holds exactly its steps: that range is binned finer or, when it holds few steps, collected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acq_spark.allocation.kernels.hull import Steps
from acq_spark.allocation.kernels.keys import PairKeys

#: Bin id of the steps of slope exactly 0 in :class:`LogBinning` (below every positive bin).
ZERO_BIN = 0


@dataclass(frozen=True)
class LogBinning:
    """Bins over all slopes ≥ 0: 0 alone, then 2^sub_bits bins per octave.

    A positive double's bits, read as an integer, grow with its value, so the bits above the
    top ``sub_bits`` of the mantissa (exponent and those bits) are a monotone log-scale bin id.
    """

    sub_bits: int = 5

    def assign(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The mask of the slopes this binning covers and their bin ids."""
        mask = s >= 0.0
        v = np.ascontiguousarray(s[mask], dtype=np.float64)
        ids = (v.view(np.int64) >> (52 - self.sub_bits)) + 1
        return mask, np.where(v > 0.0, ids, ZERO_BIN)


@dataclass(frozen=True)
class LinearBinning:
    """``n_bins`` equal bins over the closed slope range [lo, hi]; slopes outside are not covered."""

    lo: float
    hi: float
    n_bins: int = 4096

    def assign(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The mask of the slopes this binning covers and their bin ids."""
        mask = (s >= self.lo) & (s <= self.hi)
        width = self.hi - self.lo
        if width <= 0.0:
            return mask, np.zeros(int(mask.sum()), np.int64)
        ids = np.floor((s[mask] - self.lo) / width * self.n_bins).astype(np.int64)
        return mask, np.clip(ids, 0, self.n_bins - 1)


@dataclass(frozen=True)
class GridBinning:
    """Every slope, binned by how many of the ascending ``edges`` lie below it: bin j holds edges[j-1] < s ≤ edges[j].

    The steps above ``edges[j]`` are then the bins after j, so one pass gives used_lo (and Σ Δr) at every edge.
    """

    edges: tuple[float, ...]

    def assign(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The mask of the slopes this binning covers (all) and their bin ids."""
        return np.ones(s.shape, bool), np.searchsorted(np.asarray(self.edges), s, side="left").astype(np.int64)


Binning = LogBinning | LinearBinning | GridBinning


@dataclass(frozen=True)
class SlopeHistogram:
    """Per bin (ids ascending): step count, Σ Δc, Σ Δr, min and max slope; plus the pairs' base totals."""

    ids: np.ndarray
    count: np.ndarray
    cost: np.ndarray
    dr: np.ndarray
    smin: np.ndarray
    smax: np.ndarray
    n: int
    base_cost: int
    base_r: float

    def __add__(self, other: SlopeHistogram) -> SlopeHistogram:
        ids, inv = np.unique(np.concatenate([self.ids, other.ids]), return_inverse=True)

        def merged(name: str, ufunc: np.ufunc = np.add, init: float = 0) -> np.ndarray:
            return reduce_by(inv, ids.size, np.concatenate([getattr(self, name), getattr(other, name)]), ufunc, init)

        return SlopeHistogram(
            ids, merged("count"), merged("cost"), merged("dr"), merged("smin", np.minimum, np.inf),
            merged("smax", np.maximum, -np.inf), self.n + other.n, self.base_cost + other.base_cost,
            self.base_r + other.base_r,
        )


def slope_histogram(steps: Steps, binning: Binning) -> SlopeHistogram:
    """The cost-weighted histogram of a block's step slopes under ``binning``."""
    taken = steps.slope > -np.inf
    s = steps.slope[taken]
    mask, bins = binning.assign(s)
    s, dc, dr = s[mask], steps.dc[taken][mask], steps.dr[taken][mask]
    n, base_cost, base_r = steps.n, int(steps.base_cost.sum()), float(steps.base_r.sum())
    if bins.size == 0:
        f, i = np.empty(0), np.empty(0, np.int64)
        return SlopeHistogram(i, i, i, f, f, f, n=n, base_cost=base_cost, base_r=base_r)
    lo = int(bins.min())
    rel = bins - lo
    span = int(rel.max()) + 1
    count = np.bincount(rel, minlength=span)
    nz = np.nonzero(count)[0]
    smin, smax = np.full(span, np.inf), np.full(span, -np.inf)
    np.minimum.at(smin, rel, s)
    np.maximum.at(smax, rel, s)
    return SlopeHistogram(
        ids=nz.astype(np.int64) + lo,
        count=count[nz].astype(np.int64),
        cost=np.bincount(rel, weights=dc, minlength=span)[nz].astype(np.int64),
        dr=np.bincount(rel, weights=dr, minlength=span)[nz],
        smin=smin[nz],
        smax=smax[nz],
        n=n,
        base_cost=base_cost,
        base_r=base_r,
    )


@dataclass(frozen=True)
class StepSample:
    """Steps collected from a slope range, with their pair's keys and their index in the pair's row."""

    slope: np.ndarray
    dc: np.ndarray
    dr: np.ndarray
    step: np.ndarray
    h: np.ndarray
    account: np.ndarray
    photo: np.ndarray

    def __add__(self, other: StepSample) -> StepSample:
        pairs = zip(vars(self).values(), vars(other).values(), strict=True)
        return StepSample(*(np.concatenate(ab) for ab in pairs))


def collect_steps(steps: Steps, keys: PairKeys, lo: float, hi: float) -> StepSample:
    """Every step of the block with slope in the closed range [lo, hi], with its pair's keys."""
    rows, cols = np.nonzero((steps.slope >= lo) & (steps.slope <= hi))
    return StepSample(
        slope=steps.slope[rows, cols],
        dc=steps.dc[rows, cols].astype(np.int64),
        dr=steps.dr[rows, cols],
        step=cols.astype(np.int64),
        h=keys.h[rows],
        account=keys.account[rows],
        photo=keys.photo[rows],
    )


def reduce_by(inv: np.ndarray, size: int, values: np.ndarray, ufunc: np.ufunc = np.add, init: float = 0) -> np.ndarray:
    """(size,) ``values`` reduced with ``ufunc`` by group id ``inv``, from ``init``: the merge of two results' bins."""
    out = np.full(size, init, values.dtype)
    ufunc.at(out, inv, values)
    return out
