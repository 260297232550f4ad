"""The λ searches on closed-form toy functions."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from acq_spark.allocation.kernels.dual import DualEval, Totals
from acq_spark.allocation.kernels.histogram import GridBinning, collect_steps, slope_histogram
from acq_spark.allocation.kernels.hull import Steps
from acq_spark.allocation.kernels.keys import PairKeys
from acq_spark.allocation.search import bisect, histogram_search
from acq_spark.errors import InfeasibleBudgetError

N_STEPS = 100


def ladder_eval(lams):
    """Toy: 100 unit steps of slopes j/10 (j = 1..100) on top of a base cost of 5; closed-form counts."""
    lams = np.asarray(lams, float)
    js = np.arange(1, N_STEPS + 1) / 10

    def count(pred):
        return np.array([int(pred(js, x).sum()) for x in lams])

    below = np.array([js[js < x].max() if (js < x).any() else -np.inf for x in lams])
    above = np.array([js[js > x].min() if (js > x).any() else np.inf for x in lams])
    used_lo = 5 + count(lambda s, x: s > x)
    used_hi = 5 + count(lambda s, x: s >= x)
    r_lo = np.array([float(js[js > x].sum()) for x in lams])
    r_hi = np.array([float(js[js >= x].sum()) for x in lams])
    return DualEval(lams, 1, Totals(used_lo, used_hi, r_lo), r_hi, below, above, float(js.max()))


@pytest.mark.parametrize("per_pass", [1, 3])
def test_bisection_lands_exactly_on_the_crossing_slope(per_pass):
    found = bisect(ladder_eval, 5 + 37, per_pass=per_pass)
    # steps taken steepest first: the 38th (slope 6.3) is the first that does not fit 37 units
    assert found.lam == 63 / 10
    assert found.converged and found.n == 1 and found.base_cost == 5
    # the totals at λ* (the steps above 6.3; plus the one at 6.3 for used_hi), whether or not a pass evaluated λ*
    assert found.totals == (42, 43, pytest.approx(sum(j / 10 for j in range(64, 101))))
    assert found.passes <= 12
    assert [p.kind for p in found.trace] == ["evaluate"] * found.passes


def test_bisection_not_binding_gives_zero():
    found = bisect(ladder_eval, 5 + N_STEPS)
    assert found.lam == 0.0 and found.passes == 1


def test_bisection_infeasible_budget_names_the_numbers():
    with pytest.raises(InfeasibleBudgetError, match="below the minimum 5"):
        bisect(ladder_eval, 4)


def test_bisection_without_breakpoints_is_plain_bisection():
    """Toy continuous g: used(λ) = floor(1000 e^-λ); λ* = ln(1000/C) up to the tolerance."""

    def smooth(lams):
        lams = np.asarray(lams, float)
        used = np.floor(1000 * np.exp(-np.minimum(lams, 700))).astype(np.int64)
        nan = np.full(lams.shape, np.nan)
        return DualEval(lams, 1, Totals(used, used, np.zeros(lams.shape)), np.zeros(lams.shape), nan, nan, math.nan)

    found = bisect(smooth, 250, tol=1e-10)
    assert found.lam == pytest.approx(math.log(1000 / 251), rel=1e-8)


def toy_steps(slopes, costs):
    """One toy pair per step: base cost 1, a single step of the given slope and cost."""
    slopes = np.asarray(slopes, float)[:, None]
    dc = np.asarray(costs, np.int64)[:, None]
    m = slopes.shape[0]
    return Steps(slopes, dc, slopes * dc, np.ones((m, 1), np.int16), np.zeros(m, np.int16),
                 np.ones(m, np.int64), np.zeros(m))


def closed_form_lambda(slopes, costs, budget):
    order = np.argsort(slopes)[::-1]
    cum = len(slopes) + np.cumsum(np.asarray(costs)[order])
    return float(np.asarray(slopes)[order][np.argmax(cum > budget)])


@pytest.mark.parametrize("collect_limit", [10_000, 50, 1])
def test_histogram_search_matches_the_sorted_cumulative_cost(collect_limit):
    rng = np.random.default_rng(11)
    slopes = np.concatenate([rng.lognormal(0, 3, 3000), np.full(200, 0.5), np.full(50, 0.0)])
    costs = rng.integers(1, 40, slopes.size)
    steps = toy_steps(slopes, costs)
    keys = PairKeys.of(np.zeros(slopes.size), np.arange(slopes.size))
    budget = slopes.size + int(costs[slopes > 0.5].sum()) + 77  # λ* lies inside the 200 tied slopes of 0.5
    found = histogram_search(lambda b: slope_histogram(steps, b), lambda lo, hi: collect_steps(steps, keys, lo, hi),
                             budget, collect_limit=collect_limit)
    assert found.lam == closed_form_lambda(slopes, costs, budget) == 0.5
    assert found.passes <= 3
    used_lo, used_hi, _ = found.totals
    assert used_lo <= budget < used_hi


def test_a_grid_histogram_gives_the_creatives_and_value_above_every_grid_lambda():
    from acq_spark.allocation.estimate import _above_each_edge
    from acq_spark.allocation.kernels.dual import evaluate_steps

    rng = np.random.default_rng(5)
    slopes = np.concatenate([rng.lognormal(-4, 1, 3000), np.full(100, 0.02), np.full(40, 0.0), np.full(30, -np.inf)])
    finite = np.isfinite(slopes)  # the last 30 pairs have no step
    costs = np.where(finite, rng.integers(1, 40, slopes.size), 0)
    steps = dataclasses.replace(toy_steps(np.where(finite, slopes, 0.0), costs), slope=slopes[:, None])
    grid = np.sort(np.concatenate([0.02 * (1 + 0.05 * np.linspace(-1, 1, 21)), [0.0]]))  # 0.02 itself, tied
    used_lo, r_lo = _above_each_edge(slope_histogram(steps, GridBinning(tuple(grid))), grid.size)
    exact = evaluate_steps(steps, list(grid))
    np.testing.assert_array_equal(used_lo, exact.used_lo)
    np.testing.assert_allclose(r_lo, exact.r_lo, rtol=1e-12)


def test_histogram_search_general_budget_and_zero():
    rng = np.random.default_rng(12)
    slopes = rng.exponential(1.0, 5000)
    costs = rng.integers(1, 10, slopes.size)
    steps = toy_steps(slopes, costs)
    keys = PairKeys.of(np.zeros(slopes.size), np.arange(slopes.size))
    hist = lambda b: slope_histogram(steps, b)  # noqa: E731
    coll = lambda lo, hi: collect_steps(steps, keys, lo, hi)  # noqa: E731
    for budget in (slopes.size + 1, slopes.size + int(costs.sum()) // 3, slopes.size + int(costs.sum()) - 1):
        found = histogram_search(hist, coll, budget, collect_limit=100)
        assert found.lam == closed_form_lambda(slopes, costs, budget)
        assert found.passes <= 3
    assert histogram_search(hist, coll, slopes.size + int(costs.sum())).lam == 0.0
    with pytest.raises(InfeasibleBudgetError):
        histogram_search(hist, coll, slopes.size - 1)
