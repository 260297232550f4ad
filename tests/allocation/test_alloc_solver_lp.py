"""The in-memory solver against an exact LP (HiGHS) on small random instances."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from acq_spark.allocation.kernels.dual import evaluate_steps
from acq_spark.allocation.kernels.hull import hull_steps
from acq_spark.allocation.solver import solve_numpy
from acq_spark.errors import InfeasibleBudgetError

KINDS = ("normal", "monotone", "integers", "all_equal", "concave")


def make_instance(seed: int, kind: str):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(5, 61)), int(rng.integers(3, 10))
    levels = np.sort(rng.choice(np.arange(1, 120), k, replace=False))
    if kind == "normal":
        r = rng.normal(size=(n, k)) * 3
    elif kind == "monotone":
        r = np.sort(rng.exponential(size=(n, k)), axis=1)
    elif kind == "integers":
        r = rng.integers(0, 4, size=(n, k)).astype(float)
    elif kind == "all_equal":
        r = np.full((n, k), float(rng.integers(-2, 3)))
    else:
        r = np.cumsum(np.sort(rng.exponential(size=(n, k)), axis=1)[:, ::-1], axis=1)
    return r, [int(c) for c in levels]


def lp_optimum(r: np.ndarray, levels, budget: int) -> tuple[float, float]:
    """The LP relaxation's optimum and the dual value of the budget constraint (HiGHS)."""
    n, k = r.shape
    res = linprog(
        -r.ravel(),
        A_ub=np.tile(np.asarray(levels, float), n)[None, :],
        b_ub=[budget],
        A_eq=np.kron(np.eye(n), np.ones(k)),
        b_eq=np.ones(n),
        bounds=(0, 1),
        method="highs",
    )
    assert res.status == 0
    return -res.fun, -res.ineqlin.marginals[0]


def budgets_for(r, levels, seed):
    rng = np.random.default_rng(seed + 1000)
    n = r.shape[0]
    top = int(evaluate_steps(hull_steps(r, levels), [0.0]).used_hi[0])
    return sorted({n * levels[0], int(rng.integers(n * levels[0], top + 1)), int(rng.integers(n * levels[0], top + 1)),
                   top + 3})


CASES = [(seed, kind) for kind in KINDS for seed in range(8)]


@pytest.mark.parametrize(("seed", "kind"), CASES)
def test_solver_matches_the_lp_optimum(seed, kind):
    r, levels = make_instance(seed, kind)
    n = r.shape[0]
    c = np.asarray(levels)
    steps = hull_steps(r, levels)
    max_step_value = float(np.abs(steps.dr).max()) if steps.dr.size else 0.0
    for budget in budgets_for(r, levels, seed):
        level, rec = solve_numpy(r, levels, budget)
        used = int(c[level].sum())
        objective = float(r[np.arange(n), level].sum())
        lp, lp_lam = lp_optimum(r, levels, budget)
        tol = 1e-7 * max(1.0, abs(lp))
        assert used == rec.budget_used <= budget
        assert objective == pytest.approx(rec.objective, rel=1e-9, abs=1e-9)
        assert objective <= lp + tol
        assert objective >= lp - max_step_value - tol
        assert rec.dual_bound == pytest.approx(lp, rel=1e-7, abs=1e-7), "D(λ*) is the LP optimum (strong duality)"
        assert rec.gap >= -tol
        if rec.used_hi > budget:  # the budget binds: ties were broken to fill it
            assert 0 <= rec.unused < rec.cut_gap
            assert rec.cut_gap <= int(steps.dc.max())
        above = float(evaluate_steps(steps, [rec.lam]).above[0])
        assert rec.lam - 1e-9 <= lp_lam <= min(above, 1e300) + 1e-9 * max(1.0, above if np.isfinite(above) else 1)
        if rec.used_lo < budget:  # the LP dual is unique: it is λ*
            assert lp_lam == pytest.approx(rec.lam, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize(("seed", "kind"), CASES[::3])
def test_bisection_and_fast_path_give_the_same_lambda_and_allocation(seed, kind):
    r, levels = make_instance(seed, kind)
    for budget in budgets_for(r, levels, seed):
        fast_level, fast = solve_numpy(r, levels, budget, solver="fast")
        refined_level, refined = solve_numpy(r, levels, budget, solver="fast", collect_limit=2)  # finer histograms
        assert refined.lam == fast.lam
        np.testing.assert_array_equal(refined_level, fast_level)
        for per_pass in (1, 3):
            bis_level, bis = solve_numpy(r, levels, budget, solver="bisection", lambdas_per_pass=per_pass)
            assert bis.lam == fast.lam
            np.testing.assert_array_equal(bis_level, fast_level)
            assert bis.converged and fast.converged
        assert fast.search_passes <= 3


def test_budget_at_the_minimum_gives_every_pair_its_smallest_level():
    r, levels = make_instance(4, "monotone")
    level, rec = solve_numpy(r, levels, r.shape[0] * levels[0])
    assert (level == 0).all() and rec.unused == 0


def test_budget_below_the_minimum_is_infeasible():
    r, levels = make_instance(4, "normal")
    n = r.shape[0]
    with pytest.raises(InfeasibleBudgetError, match=f"below the minimum {n * levels[0]:,}"):
        solve_numpy(r, levels, n * levels[0] - 1)


def test_all_equal_values_fill_the_budget_in_hash_order_whatever_the_row_order():
    n, levels = 40, [1, 2, 3, 5, 8]
    r = np.zeros((n, len(levels)))
    account, photo = np.arange(n) % 7, np.arange(n) * 13
    budget = 3 * n + 2
    level, rec = solve_numpy(r, levels, budget, keys=(account, photo), tie_limit=5)  # bucket path: few returned
    assert rec.lam == 0.0 and rec.fill_passes == 2
    assert budget - rec.unused == int(np.asarray(levels)[level].sum()) and 0 <= rec.unused < rec.cut_gap
    perm = np.random.default_rng(0).permutation(n)
    level2, rec2 = solve_numpy(r[perm], levels, budget, keys=(account[perm], photo[perm]))
    assert rec2.fill_passes == 1
    np.testing.assert_array_equal(level2, level[perm])
