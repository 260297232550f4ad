"""The rule-based baseline: proportional to the 7-day cost, snapped to the levels, scaled to the budget."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from acq_spark.allocation.kernels.rule_based import alpha_of
from acq_spark.allocation.solver import solve_numpy

LEVELS = np.array([1, 2, 3, 5, 8, 13, 20, 50, 100])


def make_pairs(seed: int, n: int = 300):
    rng = np.random.default_rng(seed)
    history = rng.lognormal(3, 1.5, n)
    history[rng.random(n) < 0.3] = 0.0
    history[:5] = np.nan  # no row in the 7-day window at all
    history[5:40] = 17.0  # a block of equal histories: tied at the same α
    r = np.cumsum(rng.exponential(size=(n, LEVELS.size)), axis=1)
    return history, r


@pytest.mark.parametrize("share", [0.0, 0.15, 0.5, 1.0])
def test_rule_is_proportional_snapped_and_within_budget(share):
    history, r = make_pairs(1)
    n = history.size
    has = np.isfinite(history) & (history > 0)
    budget = n + int(share * int((LEVELS[-1] - 1) * has.sum()))
    level, rec = solve_numpy(r, LEVELS, budget, method="rule_based", columns={"cost_7d": history})
    n_creatives = LEVELS[level]
    assert n_creatives.sum() == rec.budget_used <= budget
    assert (level[~has] == 0).all(), "pairs without history get the smallest level"
    if rec.used_hi > budget:
        assert 0 <= rec.unused < rec.cut_gap
    alpha = alpha_of(rec.lam)
    target = alpha * history[has]
    got = n_creatives[has]
    assert (got <= np.maximum(target * (1 + 1e-12), LEVELS[0])).all(), "never above the proportional target"
    nxt = LEVELS[np.minimum(level[has] + 1, LEVELS.size - 1)]
    at_top = level[has] == LEVELS.size - 1
    assert (at_top | (nxt >= target * (1 - 1e-12))).all(), "the largest level not above the target"
    groups = [got[history[has] == v] for v in np.unique(history[has])]
    assert all(a.max() <= b.min() for a, b in pairwise(groups)), "more history, never fewer creatives"
    assert rec.objective == pytest.approx(float(r[np.arange(n), level].sum()))
    assert rec.dual_bound is None and rec.method == "rule_based"


def test_equal_histories_are_filled_to_the_budget():
    n = 50
    history, r = np.full(n, 5.0), np.zeros((n, LEVELS.size))
    budget = 8 * n + 37
    level, rec = solve_numpy(r, LEVELS, budget, method="rule_based", columns={"cost_7d": history})
    assert LEVELS[level].sum() == rec.budget_used and 0 <= rec.unused < rec.cut_gap
    assert set(LEVELS[level]) <= {8, 13}


def test_pairs_without_history_share_the_rest_evenly_after_the_others_are_full():
    n = 20
    history = np.r_[np.zeros(n), [5.0, 0.5]]
    budget = 2 * LEVELS[-1] + n * 5
    level, rec = solve_numpy(np.ones((n + 2, LEVELS.size)), LEVELS, budget, method="rule_based",
                             columns={"cost_7d": history})
    assert (level[n:] == LEVELS.size - 1).all(), "pairs with history reach the largest level first"
    assert set(LEVELS[level[:n]]) <= {3, 5}, "the rest is spread evenly over the pairs without history"
    assert rec.budget_used <= budget and budget - rec.budget_used < 2

    level, rec = solve_numpy(np.ones((n + 2, LEVELS.size)), LEVELS, n + 2 * LEVELS[-1], method="rule_based",
                             columns={"cost_7d": history})
    assert (level[:n] == 0).all() and (LEVELS[level[n:]].sum() == 2 * LEVELS[-1])
