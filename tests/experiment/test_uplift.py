"""The uplift's estimate and interval on a small world with a known effect (NumPy only)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from acq_spark.experiment.uplift import Z95, ratio_and_variance, relative_uplift

EFFECT = 0.25  # treatment multiplies every pair's expected cost by 1.25


def small_world(rng: np.random.Generator, accounts: int = 2_000, holdout: float = 0.1):
    """Accounts with 1-15 pairs and an account-level rate; each pair's cost is zero-inflated log-normal.

    Returns (cost, pairs, is_control) per account, with treatment's expected cost per pair (1 + EFFECT) times.
    """
    pairs = rng.integers(1, 16, accounts)
    rate = rng.lognormal(0.0, 0.8, accounts)  # accounts differ: the unit of randomisation carries the variance
    control = rng.random(accounts) < holdout
    lift = np.where(control, 1.0, 1.0 + EFFECT)
    owner = np.repeat(np.arange(accounts), pairs)
    positive = rng.random(owner.size) < 0.3
    draws = rng.lognormal(0.0, 1.0, owner.size) * math.exp(-0.5)  # mean 1
    cost = np.bincount(owner, weights=positive * draws, minlength=accounts) * rate * lift / 0.3
    return cost, pairs, control


def test_the_interval_covers_a_known_effect():
    rng = np.random.default_rng(7)
    cost, pairs, control = small_world(rng)
    u = relative_uplift(cost[~control], pairs[~control], cost[control], pairs[control])
    assert u.covers(EFFECT), u
    assert 0 < u.se < 0.2 and u.low < u.estimate < u.high
    # the log ratio's interval: symmetric in log(1 + u), close to the delta method's ±z·se when se is small
    up, down = math.log(1 + u.high) - math.log(1 + u.estimate), math.log(1 + u.estimate) - math.log(1 + u.low)
    assert up == pytest.approx(down)
    assert u.high - u.low == pytest.approx(2 * Z95 * u.se, rel=0.05)
    # over many worlds the 95% interval covers the effect about 95% of the time (binomial sd at 300: 1.3 points)
    hits = []
    for _ in range(300):
        cost, pairs, control = small_world(rng)
        hits.append(relative_uplift(cost[~control], pairs[~control], cost[control], pairs[control]).covers(EFFECT))
    assert 0.90 <= np.mean(hits) <= 0.99


def test_the_ratio_variance_matches_an_independent_bootstrap():
    rng = np.random.default_rng(3)
    cost, pairs, _ = small_world(rng, accounts=400)
    ratio, variance = ratio_and_variance(cost, pairs)
    assert ratio == cost.sum() / pairs.sum()
    picks = rng.integers(0, 400, (2_000, 400))
    boot = cost[picks].sum(axis=1) / pairs[picks].sum(axis=1)
    assert math.sqrt(variance) == pytest.approx(boot.std(), rel=0.1)


def test_an_arm_without_accounts_gives_no_estimate():
    u = relative_uplift(np.array([1.0, 2.0]), np.array([1, 1]), np.array([]), np.array([]))
    assert math.isnan(u.estimate) and math.isnan(u.low) and not u.covers(0.0)
    # a few control accounts with heavy-tailed costs: the interval stays above -100%
    rng = np.random.default_rng(1)
    u = relative_uplift(rng.lognormal(0, 2, 300), np.ones(300), rng.lognormal(0, 2, 5), np.ones(5))
    assert -1 < u.low < u.estimate < u.high
    assert math.isnan(ratio_and_variance(np.array([3.0]), np.array([2]))[1])


def heavy_tailed_day(rng: np.random.Generator, accounts: int = 4_000, holdout: float = 0.1):
    """One logged day shaped like the simulated world's: few positive pair-days, each log-normal with σ 1.8.

    Returns (cost, pairs, is_control, true uplift) per account; the truth is conditional on the day's pairs,
    as ``experiment_results`` has it: each arm's expected cost per pair.
    """
    pairs = rng.integers(1, 16, accounts)
    control = rng.random(accounts) < holdout
    owner = np.repeat(np.arange(accounts), pairs)
    expected = rng.lognormal(0.0, 1.0, owner.size) * np.where(control[owner], 1.0, 1.0 + EFFECT)
    p, sigma = 0.03, 1.8
    positive = rng.random(owner.size) < p
    draws = expected / p * rng.lognormal(-sigma**2 / 2, sigma, owner.size)
    cost = np.bincount(owner, weights=positive * draws, minlength=accounts)
    per_pair = [expected[arm[owner]].sum() / pairs[arm].sum() for arm in (~control, control)]
    return cost, pairs, control, per_pair[0] / per_pair[1] - 1


def test_the_interval_covers_the_days_truth_when_the_control_arm_misses_the_rare_large_costs():
    # A small control arm usually draws none of the rare large costs: its cost and its own variance are both
    # low on those days, so an interval from its own variance alone is narrowest where the estimate is
    # furthest above the truth (about 85% coverage here); each arm's variance is at least the pooled one.
    rng = np.random.default_rng(11)
    hits, above = [], 0
    for _ in range(300):
        cost, pairs, control, truth = heavy_tailed_day(rng)
        u = relative_uplift(cost[~control], pairs[~control], cost[control], pairs[control])
        hits.append(u.covers(truth))
        above += u.low > truth
    assert np.mean(hits) >= 0.92, (np.mean(hits), above)
