"""Metrics against independent references: SciPy's Mann-Whitney U and O(n^2) brute force."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import mannwhitneyu

from acq_spark.training.metrics import _count_inversions, auc, gauc, mse, pauc

TOL = 1e-12
# few distinct values, so that ties in labels, costs and scores are common
small_values = st.lists(st.integers(0, 4), min_size=1, max_size=40)


def brute_auc(label: np.ndarray, score: np.ndarray) -> float:
    pos, neg = score[label > 0], score[label <= 0]
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


def brute_pauc(cost: np.ndarray, pred: np.ndarray) -> float:
    c, p = cost[cost > 0], pred[cost > 0]
    num = den = 0.0
    for i in range(c.size):
        for j in range(c.size):
            if c[i] > c[j]:
                den += 1
                num += 1.0 if p[i] > p[j] else 0.5 if p[i] == p[j] else 0.0
    return num / den if den else float("nan")


@settings(max_examples=100)
@given(st.data())
def test_auc_matches_mann_whitney_and_brute_force(data):
    label = np.array(data.draw(st.lists(st.integers(0, 1), min_size=2, max_size=40)))
    score = np.array(data.draw(st.lists(st.integers(0, 4), min_size=label.size, max_size=label.size)), dtype=float)

    expected = brute_auc(label, score)
    if np.isnan(expected):
        assert np.isnan(auc(label, score))
        return
    u = mannwhitneyu(score[label == 1], score[label == 0], alternative="two-sided").statistic
    assert auc(label, score) == pytest.approx(expected, abs=TOL)
    assert auc(label, score) == pytest.approx(u / ((label == 1).sum() * (label == 0).sum()), abs=TOL)


def test_auc_known_values():
    assert auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    assert auc(np.array([0, 1]), np.array([0.3, 0.3])) == 0.5
    assert np.isnan(auc(np.array([1, 1]), np.array([0.1, 0.2])))


def test_mse():
    assert mse(np.array([0.0, 1.0, 3.0]), np.array([1.0, 1.0, 1.0])) == pytest.approx(5.0 / 3.0)


@settings(max_examples=100)
@given(small_values)
def test_count_inversions_matches_brute_force(values):
    values = np.array(values)
    ranks = np.unique(values, return_inverse=True)[1]
    expected = sum(int(values[i] > values[j]) for i in range(values.size) for j in range(i + 1, values.size))
    assert _count_inversions(ranks) == expected


@settings(max_examples=100)
@given(st.data())
def test_pauc_matches_brute_force(data):
    cost = np.array(data.draw(st.lists(st.integers(0, 5), min_size=1, max_size=30)), dtype=float)
    pred = np.array(data.draw(st.lists(st.integers(0, 3), min_size=cost.size, max_size=cost.size)), dtype=float)

    expected = brute_pauc(cost, pred)
    actual = pauc(cost, pred)
    assert (np.isnan(actual) and np.isnan(expected)) or actual == pytest.approx(expected, abs=TOL)


@settings(max_examples=100)
@given(st.data())
def test_gauc_matches_per_account_brute_force(data):
    n = data.draw(st.integers(1, 40))
    account = np.array(data.draw(st.lists(st.sampled_from([7, 11, 1_000_000_000_003]), min_size=n, max_size=n)))
    cost = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.0, 1.5, 20.0]), min_size=n, max_size=n)))
    pred = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=float)

    num = den = 0.0
    for a in np.unique(account):
        rows = account == a
        value = brute_auc(cost[rows] > 0, pred[rows])
        if not np.isnan(value):
            num, den = num + value * cost[rows].sum(), den + cost[rows].sum()
    actual = gauc(account, cost, pred)
    assert (np.isnan(actual) and den == 0) or actual == pytest.approx(num / den, abs=TOL)


def test_metrics_scale_to_a_million_rows():
    rng = np.random.default_rng(0)
    n = 1_000_000
    cost = np.where(rng.random(n) < 0.05, rng.lognormal(0, 2, n), 0.0)
    pred = cost + rng.normal(0, 1, n)
    account = rng.integers(0, 50_000, n)

    start = time.perf_counter()
    values = auc(cost > 0, pred), pauc(cost, pred), gauc(account, cost, pred)
    elapsed = time.perf_counter() - start

    assert all(0.5 < v <= 1.0 for v in values)
    assert elapsed < 20.0, f"metrics on 1M rows took {elapsed:.1f}s"
