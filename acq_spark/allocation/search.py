"""Layer 3, on the driver: the search for λ*, by bisection on g(λ) or the fast exact path over step slopes.

Pure Python over callables that run one pass each and return small results, so both are tested with
closed-form toy functions. λ* = inf { λ ≥ 0 : used_lo(λ) ≤ C }, used_lo(λ) = Σ c at the cheapest
argmax. When λ* > 0 it is a hull slope with used_lo(λ*) ≤ C < used_hi(λ*), and the pairs tied at λ*
fill the budget. Both paths return exactly the same float λ*, hence the same allocation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from acq_spark.allocation.kernels.dual import DualEval, Totals
from acq_spark.allocation.kernels.histogram import (
    ZERO_BIN,
    Binning,
    LinearBinning,
    LogBinning,
    SlopeHistogram,
    StepSample,
)
from acq_spark.errors import InfeasibleBudgetError

#: Points of g(λ) kept per histogram pass in the trace (for plots).
TRACE_POINTS = 128


@dataclass(frozen=True)
class PassTrace:
    """One pass of a search: its (λ, g(λ) = used_lo(λ) − C) points and the bracket known to hold λ* after it.

    A histogram pass's points are g just below each bin's smallest slope (a free sketch of the curve).
    """

    kind: str
    points: tuple[tuple[float, float], ...]
    bracket: tuple[float, float]
    seconds: float

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PassTrace:
        """The pass a run record's ``solve.trace`` holds; JSON's None stands for an infinite λ (the open bracket)."""
        return cls(
            kind=d["kind"],
            points=tuple((_inf(lam), _inf(g)) for lam, g in d["points"]),
            bracket=(_inf(d["bracket"][0]), _inf(d["bracket"][1])),
            seconds=d["seconds"],
        )


def _inf(value: float | None) -> float:
    # the JSON views write every non-finite float as None; the only one a search makes is +inf
    return math.inf if value is None else float(value)


@dataclass(frozen=True)
class SearchResult:
    """λ*, the passes it took and their trace; the :class:`Totals` at λ* when the passes tell them.

    ``sample`` holds the steps a pass collected (they include every step of slope λ*).
    """

    lam: float
    passes: int
    trace: tuple[PassTrace, ...]
    n: int
    base_cost: int
    converged: bool = True
    totals: Totals | None = None
    sample: StepSample | None = field(default=None, repr=False)


def check_feasible(n: int, base_cost: int, budget: int) -> None:
    """Raise :class:`InfeasibleBudgetError` when even every pair at its cheapest level exceeds ``budget``."""
    if base_cost > budget:
        raise InfeasibleBudgetError(
            f"budget of {budget:,} creatives is below the minimum {base_cost:,} "
            f"({n:,} pairs at their smallest level); raise budget.total_creatives or budget.ratio_of_last_day"
        )


def bisect(
    evaluate: Callable[[Sequence[float]], DualEval],
    budget: int,
    *,
    per_pass: int = 1,
    max_passes: int = 100,
    tol: float = 1e-12,
) -> SearchResult:
    """Find λ* by bisection on g(λ), landing exactly on it with the breakpoints each pass reports.

    Each pass evaluates ``per_pass`` values of λ inside the bracket [a, b] ∋ λ*, then the bracket snaps
    to the breakpoints around them (g is constant between breakpoints). Without breakpoints (NaN) it is
    plain bisection to a relative width ``tol``.

    Args:
        evaluate: one pass: the :class:`DualEval` of all pairs at the given λ values.
        budget: C.
        per_pass: λ values per pass (1 = bisection; more = multisection).
        max_passes: stop (``converged`` False) after this many passes.
        tol: relative bracket width that ends a search without breakpoints.

    Raises:
        InfeasibleBudgetError: C is below Σ c at the cheapest level.
    """
    trace: list[PassTrace] = []

    def run(lams: Sequence[float], bracket: tuple[float, float]) -> DualEval:
        start = time.perf_counter()
        ev = evaluate(lams)
        pts = tuple((float(x), float(g)) for x, g in zip(ev.lambdas, ev.used_lo - budget, strict=True))
        trace.append(PassTrace("evaluate", pts, bracket, time.perf_counter() - start))
        return ev

    ev = run([0.0, math.inf], (0.0, math.inf))
    n, base = ev.n, int(ev.used_lo[1])
    check_feasible(n, base, budget)

    def result(lam: float, totals: Totals | None = None, converged: bool = True) -> SearchResult:
        return SearchResult(lam, len(trace), tuple(trace), n, base, converged, totals)

    if ev.used_lo[0] <= budget:
        return result(0.0, ev.totals.at(0))
    # What the passes tell of the bracket's ends: used_hi at a, (used_lo, r_lo) at b (None: unknown).
    a, hi_a = (float(ev.above[0]), int(ev.used_lo[0])) if np.isfinite(ev.above[0]) else (0.0, None)
    b, lo_b = (float(ev.top), (base, float(ev.r_lo[1]))) if np.isfinite(ev.top) else (_grow(evaluate, budget), None)
    while len(trace) < max_passes:
        if a == b:
            return result(a, None if hi_a is None or lo_b is None else Totals(lo_b[0], hi_a, lo_b[1]))
        pts = _interior(a, b, per_pass)
        ev = run(pts, (a, b))
        ok = ev.used_lo <= budget
        if ok.any():
            q = int(np.argmax(ok))
            if ev.used_hi[q] > budget:
                return result(float(pts[q]), ev.totals.at(q))
            if np.isnan(ev.below[q]):
                b, lo_b = float(pts[q]), (int(ev.used_lo[q]), float(ev.r_lo[q]))
            else:  # nothing between below[q] and λ_q: the steps above below[q] are those of slope ≥ λ_q
                b, lo_b = float(ev.below[q]), (int(ev.used_hi[q]), float(ev.r_hi[q]))
            if q > 0:
                a, hi_a = _up(ev, q - 1, pts, a, hi_a)
        else:
            a, hi_a = _up(ev, len(pts) - 1, pts, a, hi_a)
        if a > b:
            raise RuntimeError(f"bisection lost λ*: bracket [{a!r}, {b!r}] is empty (inconsistent evaluations)")
        if np.isnan(ev.below).all() and b - a <= tol * b:
            return result(b)
    return result(b, converged=False)


def _up(ev: DualEval, i: int, pts: Sequence[float], a: float, hi_a: int | None) -> tuple[float, int | None]:
    """The bracket's lower end raised past the i-th λ (g > 0 there), with used_hi at it."""
    if np.isnan(ev.above[i]):
        up = (float(pts[i]), int(ev.used_hi[i]))
    else:  # the steps of slope ≥ above[i] are those of slope > λ_i
        up = (float(ev.above[i]), int(ev.used_lo[i]))
    return up if up[0] >= a else (a, hi_a)


def _interior(a: float, b: float, count: int) -> list[float]:
    """``count`` points strictly inside (a, b) (geometric when b ≫ a > 0), or [a] for adjacent floats."""
    if a > 0 and b > 4 * a:
        pts = [a * (b / a) ** (i / (count + 1)) for i in range(1, count + 1)]
    else:
        pts = [a + (b - a) * i / (count + 1) for i in range(1, count + 1)]
    inside = sorted({p for p in pts if a < p < b})
    return inside or [a]


def _grow(evaluate: Callable[[Sequence[float]], DualEval], budget: int) -> float:
    hi = 1.0
    while evaluate([hi]).used_lo[0] > budget:
        hi *= 16.0
    return hi


def histogram_search(
    histogram: Callable[[Binning], SlopeHistogram],
    collect: Callable[[float, float], StepSample],
    budget: int,
    *,
    collect_limit: int = 200_000,
    n_bins: int = 4096,
    max_passes: int = 100,
) -> SearchResult:
    """Find λ* from cost-weighted histograms of the hull-step slopes, then the steps of one bin.

    Pass 1 bins all slopes on a log scale; the bin where the cumulative cost (steepest slope first, on
    top of every pair's cheapest level) passes C holds λ*. A bin of one slope value is λ*; a bin of at
    most ``collect_limit`` steps is collected and searched on the driver; a larger one is binned again,
    linearly. With default sizes λ* takes 2 passes, 3 for very large or clustered data.

    Args:
        histogram: one pass: the :class:`SlopeHistogram` of all steps under a binning.
        collect: one pass: every step with slope in a closed range.
        budget: C.
        collect_limit: the most steps a pass collects to the driver.
        n_bins: bins of each refining pass.
        max_passes: give up (``converged`` False) after this many passes.

    Raises:
        InfeasibleBudgetError: C is below Σ c at the cheapest level.
    """
    trace: list[PassTrace] = []
    binning: Binning = LogBinning()
    above: int | None = None
    above_r, bracket = 0.0, (0.0, math.inf)
    while len(trace) < max_passes:
        start = time.perf_counter()
        hist = histogram(binning)
        if above is None:
            n, base = hist.n, hist.base_cost
            check_feasible(n, base, budget)
            above, above_r = base, hist.base_r
        order = np.argsort(hist.ids)[::-1]
        cost, dr = hist.cost[order], hist.dr[order]
        cum = above + np.cumsum(cost)
        points = _curve(hist.smin[order], cum - budget)
        crossing = np.nonzero(cum > budget)[0]
        zero = (hist.ids[order] == ZERO_BIN) & isinstance(binning, LogBinning)
        if crossing.size == 0 or zero[crossing[0]]:
            totals = Totals.split(above, above_r, cost, dr, ~zero, zero)
            trace.append(PassTrace("histogram", points, (0.0, 0.0), time.perf_counter() - start))
            return SearchResult(0.0, len(trace), tuple(trace), n, base, totals=totals)
        i = int(crossing[0])
        above, above_r = int(cum[i] - cost[i]), above_r + float(dr[:i].sum())
        lo, hi = float(hist.smin[order[i]]), float(hist.smax[order[i]])
        bracket = (lo, hi)
        trace.append(PassTrace("histogram", points, bracket, time.perf_counter() - start))
        if lo == hi:
            totals = Totals(above, above + int(cost[i]), above_r)
            return SearchResult(lo, len(trace), tuple(trace), n, base, totals=totals)
        if hist.count[order[i]] <= collect_limit:
            start = time.perf_counter()
            sample = collect(lo, hi)
            lam, points = crossing_slope(sample, above, budget)
            trace.append(PassTrace("collect", points, (lam, lam), time.perf_counter() - start))
            totals = Totals.split(above, above_r, sample.dc, sample.dr, sample.slope > lam, sample.slope == lam)
            return SearchResult(lam, len(trace), tuple(trace), n, base, totals=totals, sample=sample)
        binning = LinearBinning(lo, hi, n_bins)
    return SearchResult(bracket[1], len(trace), tuple(trace), n, base, converged=False)


def crossing_slope(sample: StepSample, above: int, budget: int) -> tuple[float, tuple[tuple[float, float], ...]]:
    """The slope where ``above`` plus the sample's step costs, steepest first, pass ``budget``; (λ, g) around it."""
    values, inv = np.unique(sample.slope, return_inverse=True)
    cost = np.bincount(inv, weights=sample.dc, minlength=values.size)[::-1]
    values = values[::-1]
    cum = above + np.cumsum(cost.astype(np.int64))
    hit = np.nonzero(cum > budget)[0]
    if hit.size == 0:
        raise RuntimeError("the collected steps do not reach the budget: inconsistent passes")
    i = int(hit[0])
    lo, hi = max(0, i - TRACE_POINTS // 2), i + TRACE_POINTS // 2
    points = tuple((float(v), float(g)) for v, g in zip(values[lo:hi], cum[lo:hi] - budget, strict=True))
    return float(values[i]), points


def _curve(lams: np.ndarray, g: np.ndarray) -> tuple[tuple[float, float], ...]:
    keep = np.unique(np.linspace(0, lams.size - 1, min(lams.size, TRACE_POINTS)).astype(int)) if lams.size else ()
    return tuple((float(lams[i]), float(g[i])) for i in keep)
