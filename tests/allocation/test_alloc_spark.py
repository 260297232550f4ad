"""The Spark passes give exactly the NumPy solver's λ* and allocation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acq_spark.allocation.estimate import REFINE_POINTS, REFINE_SPAN, estimate_lambda
from acq_spark.allocation.solver import solve, solve_numpy
from acq_spark.errors import InfeasibleBudgetError

LEVELS = [1, 2, 3, 5, 8, 13, 20, 50, 100]
SCHEMA = "account_id long, photo_id long, r array<double>, cost_7d double"


def make_scores(seed: int, n: int = 3000):
    rng = np.random.default_rng(seed)
    gains = rng.exponential(size=(n, len(LEVELS))) * np.exp(-0.35 * np.arange(len(LEVELS)))
    r = np.cumsum(gains, axis=1) * rng.lognormal(0, 1, (n, 1))
    r[: n // 10] = rng.normal(size=(n // 10, len(LEVELS)))  # some non-monotone, non-concave pairs
    account = rng.integers(0, n // 8, n)
    photo = np.arange(n) * 31 + 7
    cost_7d = np.where(rng.random(n) < 0.3, 0.0, rng.lognormal(2, 1, n))
    return r, account, photo, cost_7d


def to_df(spark, r, account, photo, cost_7d, partitions=4):
    pdf = pd.DataFrame({"account_id": account, "photo_id": photo, "r": list(r), "cost_7d": cost_7d})
    return spark.createDataFrame(pdf, SCHEMA).repartition(partitions).cache()


def levels_by_photo(alloc_df, photo):
    return alloc_df.toPandas().set_index("photo_id").loc[photo]


@pytest.fixture(scope="module")
def scores(spark):
    """3000 pairs in 4 partitions, cached once for the module (each Spark pass costs about a second)."""
    r, account, photo, cost_7d = make_scores(1)
    df = to_df(spark, r, account, photo, cost_7d)
    yield df, r, account, photo, cost_7d
    df.unpersist()


def test_spark_fast_path_equals_numpy(scores):
    df, r, account, photo, _ = scores
    budget = 12 * len(photo)
    level, rec = solve_numpy(r, LEVELS, budget, keys=(account, photo))
    alloc, srec = solve(df, LEVELS, budget, solver="fast")
    out = levels_by_photo(alloc, photo)
    assert srec.lam == rec.lam > 0
    np.testing.assert_array_equal(out["level"].to_numpy(), level)
    assert srec.passes <= 3 and srec.search_passes <= 3
    assert int(out["n_creatives"].sum()) == srec.budget_used == rec.budget_used <= budget
    assert out["r"].sum() == pytest.approx(srec.objective, rel=1e-9)
    assert srec.dual_bound == pytest.approx(rec.dual_bound, rel=1e-9)
    assert 0 <= srec.unused < srec.cut_gap


def test_spark_bisection_equals_numpy(scores):
    df, r, account, photo, _ = scores
    budget = 7 * len(photo)
    level, rec = solve_numpy(r, LEVELS, budget, keys=(account, photo))
    alloc, srec = solve(df, LEVELS, budget, solver="bisection", lambdas_per_pass=16)
    assert srec.lam == rec.lam and srec.converged
    np.testing.assert_array_equal(levels_by_photo(alloc, photo)["level"].to_numpy(), level)


def test_spark_all_equal_ties_fill_by_hash_bucket(spark):
    n = 1500
    account, photo = np.arange(n) % 97, np.arange(n)
    flat = np.ones((n, len(LEVELS)))
    df = to_df(spark, flat, account, photo, np.zeros(n), partitions=3)
    budget = 9 * n + 5
    level, rec = solve_numpy(flat, LEVELS, budget, keys=(account, photo), tie_limit=50)
    alloc, srec = solve(df, LEVELS, budget, tie_limit=50)
    assert srec.lam == rec.lam == 0.0 and srec.fill_passes == 2
    out = levels_by_photo(alloc, photo)
    np.testing.assert_array_equal(out["level"].to_numpy(), level)
    assert 0 <= budget - int(out["n_creatives"].sum()) < srec.cut_gap
    with pytest.raises(InfeasibleBudgetError):
        solve(df, LEVELS, n - 1)
    df.unpersist()


def test_spark_rule_based_equals_numpy(scores):
    df, r, account, photo, cost_7d = scores
    budget = 10 * len(photo)
    level, rec = solve_numpy(r, LEVELS, budget, keys=(account, photo), method="rule_based",
                             columns={"cost_7d": cost_7d})
    alloc, srec = solve(df, LEVELS, budget, method="rule_based")
    assert srec.lam == rec.lam
    np.testing.assert_array_equal(levels_by_photo(alloc, photo)["level"].to_numpy(), level)


@pytest.mark.parametrize(("fraction", "partitions", "sampled"), [(0.5, 4, 2), (0.1, 100, 10)])
def test_lambda_estimated_on_a_sample_of_partitions(scores, fraction, partitions, sampled):
    df, r, account, photo, _ = scores
    budget = 10 * len(photo)
    exact = solve_numpy(r, LEVELS, budget, keys=(account, photo))[1]
    est = estimate_lambda(df, LEVELS, budget, fraction=fraction, seed=1, partitions=partitions)
    assert est.sampled_partitions == sampled and est.partitions == partitions
    assert est.sample_pairs == pytest.approx(fraction * est.n_pairs, rel=0.5)
    assert est.lam == pytest.approx(exact.lam, rel=0.3)
    assert abs(est.budget_error) < 0.15
    assert est.budget_error == pytest.approx((est.used - budget) / budget)
    # the pass over all pairs refines the sample's λ on its grid: the smallest grid λ that fits C, next to λ*
    assert abs(est.budget_error) <= abs(est.sample_budget_error)
    step = est.sample_lam * REFINE_SPAN / REFINE_POINTS
    if abs(exact.lam / est.sample_lam - 1) < REFINE_SPAN:
        assert est.used <= budget and exact.lam <= est.lam < exact.lam + step * 1.001


def test_sampled_pairs_do_not_depend_on_the_layout(spark, scores):
    from acq_spark.allocation.estimate import sample_partitions

    df = scores[0]
    first = sample_partitions(df, 0.1, seed=3)[0].select("photo_id").toPandas()["photo_id"]
    again = sample_partitions(df.repartition(7), 0.1, seed=3)[0].select("photo_id").toPandas()["photo_id"]
    assert len(first) > 0 and sorted(first) == sorted(again)


def test_spark_tied_pairs_reach_the_driver_only_within_the_limit_in_all(spark):
    from acq_spark.allocation.solver import step_source
    from acq_spark.allocation.spark_passes import SparkPasses

    n = 1200
    account, photo = np.arange(n) % 97, np.arange(n)
    flat = np.ones((n, len(LEVELS)))
    df = to_df(spark, flat, account, photo, np.zeros(n), partitions=3)  # about 400 tied pairs per partition
    passes = SparkPasses(df, step_source("acq", LEVELS))
    shipped = passes.tie_stats_by_partition(0.0, 2 * n)  # a share of 2n / 3 each: every partition ships its pairs
    assert len(shipped) == 3 and all(p.tied is not None and p.limit == 2 * n for p in shipped)
    assert sum(len(p.tied) for p in shipped) == sum(p.n_tied for p in shipped) == n
    assert len(passes.tie_stats(0.0, 2 * n).tied) == n
    held = passes.tie_stats_by_partition(0.0, n // 2)  # a share of n / 6 each: no partition ships its ~n / 3
    assert all(p.tied is None for p in held) and sum(p.n_tied for p in held) == n
    combined = passes.tie_stats(0.0, n // 2)
    assert combined.tied is None and combined.bucket_count.sum() == n
    budget = 9 * n + 5
    level, rec = solve_numpy(flat, LEVELS, budget, keys=(account, photo), tie_limit=n // 2)
    alloc, srec = solve(df, LEVELS, budget, tie_limit=n // 2)
    assert srec.fill_passes == rec.fill_passes == 2  # the cut pair's hash bucket is fetched in a pass of its own
    np.testing.assert_array_equal(levels_by_photo(alloc, photo)["level"].to_numpy(), level)
    df.unpersist()
