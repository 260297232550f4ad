"""Hull steps and the Lagrangian evaluation against the direct argmax definition."""

from __future__ import annotations

import numpy as np
from alloc_reference import evaluate_dense
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from acq_spark.allocation.kernels.dual import evaluate_steps
from acq_spark.allocation.kernels.hull import hull_steps

LEVELS = (1, 2, 3, 5, 8, 13, 20, 50, 100)


@st.composite
def instances(draw):
    """Small random value matrices: any real, non-monotone, non-concave, with ties (few distinct values)."""
    k = draw(st.integers(2, 9))
    n = draw(st.integers(1, 12))
    values = st.one_of(st.sampled_from([0.0, 1.0, 2.0, -1.0]), st.floats(-50, 50, allow_nan=False))
    r = draw(arrays(np.float64, (n, k), elements=values))
    return r, LEVELS[:k]


def brute_value(r: np.ndarray, costs, lam: float) -> np.ndarray:
    return (r - lam * np.asarray(costs, float)[None, :]).max(axis=1)


@settings(max_examples=150, deadline=None)
@given(instances(), st.floats(0, 30))
def test_hull_choice_is_an_argmax(inst, lam):
    r, costs = inst
    steps = hull_steps(r, costs)
    for strict in (True, False):
        level = steps.levels_after(steps.count_above(lam, strict=strict))
        chosen = r[np.arange(r.shape[0]), level] - lam * np.asarray(costs, float)[level]
        np.testing.assert_allclose(chosen, brute_value(r, costs, lam), rtol=1e-9, atol=1e-9)


@settings(max_examples=150, deadline=None)
@given(instances())
def test_steps_are_a_concave_walk(inst):
    r, costs = inst
    steps = hull_steps(r, costs)
    s = steps.slope
    finite = np.isfinite(s)
    assert (s[finite] >= 0).all()
    assert (np.diff(np.where(finite, s, -1.0), axis=1) <= 0).all(), "slopes must not increase along a row"
    assert (finite[:, 1:] <= finite[:, :-1]).all(), "steps are left-aligned"
    level = steps.levels_after(finite.sum(axis=1))
    np.testing.assert_allclose(r[np.arange(r.shape[0]), level], r.max(axis=1), rtol=1e-9, atol=1e-9)
    spent = np.asarray(costs)[level] - costs[0]
    np.testing.assert_array_equal(steps.dc.sum(axis=1), spent)


@settings(max_examples=100, deadline=None)
@given(instances(), st.lists(st.floats(0, 40), min_size=2, max_size=6))
def test_g_is_non_increasing(inst, lams):
    r, costs = inst
    lams = sorted(lams)
    for ev in (evaluate_dense(r, costs, lams), evaluate_steps(hull_steps(r, costs), lams)):
        assert (np.diff(ev.used_lo) <= 0).all()
        assert (np.diff(ev.used_hi) <= 0).all()
        assert (ev.used_lo <= ev.used_hi).all()


def test_steps_and_dense_agree_away_from_breakpoints():
    rng = np.random.default_rng(3)
    r = rng.normal(size=(200, 9)).cumsum(axis=1)
    steps = hull_steps(r, LEVELS)
    lams = [0.0, 0.013, 0.1, 0.77, 3.0]
    a, b = evaluate_steps(steps, lams), evaluate_dense(r, LEVELS, lams, rtol=0.0)
    np.testing.assert_array_equal(a.used_lo, b.used_lo)
    np.testing.assert_allclose(a.r_lo, b.r_lo)
    for i, lam in enumerate(lams):
        assert np.isclose(a.lagrangian()[i], brute_value(r, LEVELS, lam).sum())
        assert a.below[i] < lam < a.above[i] or a.below[i] < lam == 0.0


def test_all_equal_values_give_zero_slope_steps_at_every_level():
    steps = hull_steps(np.full((2, 4), 7.0), (1, 2, 5, 9))
    np.testing.assert_array_equal(steps.slope, np.zeros((2, 3)))
    np.testing.assert_array_equal(steps.dc, [[1, 3, 4], [1, 3, 4]])


def test_evaluations_add_across_blocks():
    rng = np.random.default_rng(5)
    r = rng.normal(size=(60, 5))
    costs = LEVELS[:5]
    lams = [0.0, 0.2, 1.0]
    whole = evaluate_steps(hull_steps(r, costs), lams)
    parts = evaluate_steps(hull_steps(r[:25], costs), lams) + evaluate_steps(hull_steps(r[25:], costs), lams)
    np.testing.assert_array_equal(whole.used_lo, parts.used_lo)
    np.testing.assert_array_equal(whole.used_hi, parts.used_hi)
    np.testing.assert_array_equal(whole.below, parts.below)
    np.testing.assert_array_equal(whole.above, parts.above)
    np.testing.assert_allclose(whole.r_lo, parts.r_lo)
    assert parts.n == 60 and parts.top == whole.top
