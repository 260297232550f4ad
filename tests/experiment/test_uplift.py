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
