"""Layer 3, on the driver: a solve is search λ*, fill the ties, record what was done; and its two entry points.

:func:`solve` (a Spark DataFrame) and :func:`solve_numpy` (in-memory arrays) build a back-end of
:mod:`.passes` and run the same :func:`run_solver`, so they give the same λ* and allocation. The method
picks the step source: the hull of the values (``acq`` on r, ``oracle`` on the truth's) or the
rule-based baseline's steps.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from acq_spark.allocation.fill import fill
from acq_spark.allocation.kernels.hull import HULL_RTOL, HullSource, StepSource
from acq_spark.allocation.kernels.keys import PairKeys
from acq_spark.allocation.kernels.rule_based import RuleSource
from acq_spark.allocation.kernels.ties import TIE_LIMIT, FillPlan
from acq_spark.allocation.passes import InMemoryPasses, Passes
from acq_spark.allocation.search import PassTrace, bisect, check_feasible, histogram_search

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

SolverName = Literal["fast", "bisection"]
Method = Literal["acq", "oracle", "rule_based"]

#: The most hull steps the fast path collects to the driver in its last pass.
COLLECT_LIMIT = 200_000


@dataclass(frozen=True)
class SolveRecord:
    """What a solve did and found: λ*, passes and their trace, budget use, objective, bound, timings.

    ``used_lo`` / ``used_hi``: Σ c with every pair at its cheapest / most expensive argmax at λ*
    (used_lo ≤ C < used_hi when the budget binds); ``cut_gap``: the next tied step of the last pair
    upgraded, which the unused budget is smaller than; ``dual_bound`` D(λ*) bounds the LP optimum.
    """

    method: str
    solver: str
    lam: float
    budget: int
    budget_used: int
    unused: int
    used_lo: int
    used_hi: int
    n_pairs: int
    min_budget: int
    objective: float
    dual_bound: float | None
    gap: float | None
    relative_gap: float | None
    search_passes: int
    fill_passes: int
    converged: bool
    n_tied: int
    n_upgraded: int
    cut_gap: int
    trace: tuple[PassTrace, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def passes(self) -> int:
        """Passes over the data before the allocation is written (search + tie-break)."""
        return self.search_passes + self.fill_passes

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (infinities become None)."""
        out = asdict(self)
        out["passes"] = self.passes
        return _finite(out)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SolveRecord:
        """The record :meth:`to_dict` wrote (a run record's ``solve``): ``to_dict`` of it gives ``d`` again.

        A None λ* is an infinite one; records written before ``relative_gap`` existed read with None.
        """
        names = {f.name for f in fields(cls)} - {"lam", "trace", "relative_gap"}
        return cls(
            **{name: d[name] for name in names},
            lam=math.inf if d["lam"] is None else float(d["lam"]),
            relative_gap=d.get("relative_gap"),
            trace=tuple(PassTrace.from_dict(t) for t in d.get("trace", ())),
        )


def step_source(
    method: Method, levels: Sequence[int], tolerance: float = HULL_RTOL, value_column: str = "r"
) -> StepSource:
    """The steps ``method`` solves over: the rule-based baseline's, or the hull of the values (``acq``, ``oracle``);
    the values are read from ``value_column``."""
    costs = tuple(int(c) for c in levels)
    if method == "rule_based":
        return RuleSource(costs, value_column=value_column)
    return HullSource(costs, rtol=tolerance, value_column=value_column)


def run_solver(
    passes: Passes,
    budget: int,
    *,
    solver: SolverName = "fast",
    method: Method = "acq",
    max_passes: int = 100,
    lambdas_per_pass: int = 1,
    collect_limit: int = COLLECT_LIMIT,
    tie_limit: int = TIE_LIMIT,
) -> tuple[FillPlan, SolveRecord]:
    """Find λ* and the tie-break plan with ``passes``: the :class:`FillPlan` and the :class:`SolveRecord`.

    Args:
        passes: the passes over the pairs (in memory or on Spark).
        budget: C, the most creatives in total.
        solver: ``fast`` (slope histograms, ~2 passes) or ``bisection`` (on g(λ)).
        method: recorded; ``rule_based`` reports no dual bound (meaningless for its steps).
        max_passes: the most search passes.
        lambdas_per_pass: λ values per bisection pass.
        collect_limit: the most steps the fast path collects to the driver.
        tie_limit: the most tied pairs returned to the driver as they are.

    Raises:
        InfeasibleBudgetError: C is below Σ c at the cheapest level (before any allocation exists).
    """
    budget = int(budget)
    start = time.perf_counter()
    if solver == "fast":
        found = histogram_search(passes.histogram, passes.collect, budget, collect_limit=collect_limit,
                                 max_passes=max_passes)
    elif solver == "bisection":
        found = bisect(passes.evaluate, budget, per_pass=lambdas_per_pass, max_passes=max_passes)
    else:
        raise ValueError(f"solver must be 'fast' or 'bisection', got {solver!r}")
    searched = time.perf_counter()
    plan, stats, fill_passes = fill(passes, found, budget, tie_limit)
    done = time.perf_counter()
    used_lo, used_hi, r_lo = stats.totals
    # D(λ*) = λ*C + Σ_i max_k (r_ik − λ* c_k), the max taken at the cheapest argmax: r_lo − λ* used_lo.
    bound = r_lo + found.lam * (budget - used_lo) if method != "rule_based" else None
    gap = None if bound is None else bound - plan.value
    record = SolveRecord(
        method=method, solver=solver, lam=found.lam, budget=budget, budget_used=plan.used,
        unused=budget - plan.used, used_lo=used_lo, used_hi=used_hi, n_pairs=found.n, min_budget=found.base_cost,
        objective=plan.value, dual_bound=bound, gap=gap,
        relative_gap=None if bound is None or gap is None else gap / max(abs(bound), 1e-300),
        search_passes=found.passes, fill_passes=fill_passes, converged=found.converged, n_tied=stats.n_tied,
        n_upgraded=plan.n_upgraded, cut_gap=plan.cut_gap, trace=found.trace,
        timings={"search_s": round(searched - start, 4), "fill_s": round(done - searched, 4)},
    )
    return plan, record


def solve_numpy(
    r: np.ndarray,
    levels: Sequence[int],
    budget: int,
    *,
    keys: tuple[np.ndarray, np.ndarray] | None = None,
    solver: SolverName = "fast",
    method: Method = "acq",
    columns: dict[str, np.ndarray] | None = None,
    tolerance: float = HULL_RTOL,
    **options: Any,
) -> tuple[np.ndarray, SolveRecord]:
    """Solve the MCKP in memory: each pair one level, max Σ r subject to Σ c ≤ budget.

    Args:
        r: (n, K) values of each pair at each level.
        levels: the K strictly increasing costs c_k (numbers of creatives).
        budget: C.
        keys: (account_ids, photo_ids) of the pairs, for the tie-break order; default (0, row number).
        solver: ``fast`` or ``bisection``.
        method: ``acq`` / ``oracle`` (the hull of ``r``) or ``rule_based`` (``columns`` then holds ``cost_7d``).
        columns: extra named (n,) columns the method's step source reads.
        tolerance: relative tolerance (of a pair's max |r|) under which its levels count as collinear or
            equal, i.e. tied (ties between pairs are exact equalities of the resulting hull slopes).
        **options: passed to :func:`run_solver`.

    Returns:
        (n,) level index of every pair, and the :class:`SolveRecord`.

    Raises:
        InfeasibleBudgetError: budget < n · c_min.
    """
    r = np.asarray(r, dtype=np.float64)
    n = r.shape[0]
    account, photo = keys if keys is not None else (np.zeros(n, np.int64), np.arange(n, dtype=np.int64))
    check_feasible(n, n * int(levels[0]), int(budget))
    cols = {"r": r, **{k: np.asarray(v) for k, v in (columns or {}).items()}}
    passes = InMemoryPasses(step_source(method, levels, tolerance), cols, PairKeys.of(account, photo))
    plan, record = run_solver(passes, budget, solver=solver, method=method, **options)
    return passes.assign(plan), record


def solve(
    scores_df: DataFrame,
    levels: Sequence[int],
    budget: int,
    *,
    solver: SolverName = "fast",
    method: Method = "acq",
    tolerance: float = HULL_RTOL,
    value_column: str = "r",
    carry: Sequence[str] = (),
    **options: Any,
) -> tuple[DataFrame, SolveRecord]:
    """Solve the MCKP over a Spark DataFrame of scores (``account_id``, ``photo_id``, ``r`` array<double>).

    The allocation (account_id, photo_id, level, n_creatives, r, then the ``carry`` columns) is returned
    lazily, computed from ``scores_df`` when it is written, so cache ``scores_df``: the solve makes 2–4
    passes (an uncached input has its projection cached for the passes and released before returning).

    Args:
        scores_df: one row per pair with the columns the step source reads (``r``; ``cost_7d`` for ``rule_based``).
        value_column: the array column solved on (the allocation's ``r`` is its value at the chosen level).
        carry: columns of ``scores_df`` the allocation keeps as they are.
        levels, budget, solver, method, tolerance, options: as in :func:`solve_numpy`.

    Raises:
        InfeasibleBudgetError: budget < n · c_min, found in the first pass.
    """
    from acq_spark.allocation.spark_passes import SparkPasses
    from acq_spark.platform.caching import cached

    passes = SparkPasses(scores_df, step_source(method, levels, tolerance, value_column), carry)
    with nullcontext() if scores_df.is_cached else cached(passes.df):
        plan, record = run_solver(passes, budget, solver=solver, method=method, **options)
    return passes.assign(plan, levels), record


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _finite(value.item())
    return value
