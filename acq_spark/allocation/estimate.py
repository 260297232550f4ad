"""Ad-hoc λ estimation (paper §5.2.2): solve on a sample of hash partitions, apply λ to all pairs, measure.

The sample's budget is C scaled by its share of the pairs. Its λ is applied to every pair in one pass
(the cheapest argmax, no tie-break); the relative budget error (used − C) / C says how far that is
from the exact solve.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from acq_spark.allocation.kernels.hull import HULL_RTOL
from acq_spark.allocation.search import check_feasible
from acq_spark.allocation.solver import SolverName, solve, step_source
from acq_spark.allocation.spark_passes import SparkPasses


@dataclass(frozen=True)
class LambdaEstimate:
    """λ from a sample and what it does to the whole day."""

    lam: float
    partitions: int
    sampled_partitions: int
    n_pairs: int
    sample_pairs: int
    budget: int
    sample_budget: int
    used: int
    used_hi: int
    budget_error: float
    objective: float
    sample_passes: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sample_partitions(
    df: DataFrame, fraction: float, seed: int, partitions: int = 100
) -> tuple[DataFrame, list[int], int]:
    """A seeded random subset (at least one) of ``partitions`` hash partitions: the rows, their ids, ``partitions``.

    A pair's partition is a hash of its keys, so the sample does not depend on how the scores are laid
    out in files (a day of 100k pairs is only a couple of Spark partitions) nor on the cluster.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"sample fraction must be in (0, 1], got {fraction}")
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, got {partitions}")
    ids = sorted(random.Random(seed).sample(range(partitions), max(1, round(fraction * partitions))))
    return df.where(_partition_of(partitions).isin(ids)), ids, partitions


def _partition_of(partitions: int) -> Column:
    return F.pmod(F.xxhash64("account_id", "photo_id"), F.lit(partitions))


def estimate_lambda(
    scores: DataFrame,
    levels: Sequence[int],
    budget: int,
    *,
    fraction: float = 0.1,
    seed: int = 42,
    partitions: int = 100,
    solver: SolverName = "fast",
    tolerance: float = HULL_RTOL,
    **options: Any,
) -> LambdaEstimate:
    """Estimate λ on a sample of ``scores``' partitions and measure its budget error on all pairs.

    Args:
        scores: one row per pair (account_id, photo_id, r); cache it (it is read three times).
        levels, budget, solver, tolerance, options: as in :func:`~acq_spark.allocation.solver.solve_numpy`.
        fraction, seed, partitions: the sample, as in :func:`sample_partitions`.

    Raises:
        InfeasibleBudgetError: C is below n · c_min.
    """
    start = time.perf_counter()
    sample, ids, total = sample_partitions(scores, fraction, seed, partitions)
    counts = {
        bool(row["s"]): int(row["n"])
        for row in scores.groupBy(_partition_of(partitions).isin(ids).alias("s")).agg(F.count("*").alias("n")).collect()
    }
    n_sample, n_all = counts.get(True, 0), counts.get(True, 0) + counts.get(False, 0)
    check_feasible(n_all, n_all * int(levels[0]), budget)
    sample_budget = budget * n_sample // n_all if n_all else 0
    _, record = solve(sample, levels, sample_budget, solver=solver, tolerance=tolerance, **options)
    full = SparkPasses(scores, step_source("acq", levels, tolerance)).evaluate([record.lam])
    used = int(full.used_lo[0])
    return LambdaEstimate(
        lam=record.lam,
        partitions=total,
        sampled_partitions=len(ids),
        n_pairs=n_all,
        sample_pairs=n_sample,
        budget=budget,
        sample_budget=sample_budget,
        used=used,
        used_hi=int(full.used_hi[0]),
        budget_error=(used - budget) / budget if budget else 0.0,
        objective=float(full.r_lo[0]),
        sample_passes=record.passes,
        seconds=round(time.perf_counter() - start, 3),
    )
