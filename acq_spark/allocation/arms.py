"""The allocation of a holdout's two arms: each arm solved at its own share of the budget.

Treatment gets the configured method (ACQ), control the baseline: the rule at its budget, or each
pair's creatives of the last input day (``yesterday``). A solved arm is :func:`~acq_spark.allocation.job.allocate`
on that arm's scores alone (passed in as ``solve_one``), so λ* is searched per arm by the same search as one
budget's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from acq_spark.allocation.solver import SolveRecord
from acq_spark.allocation.tables import at_levels, pairs_and_creatives
from acq_spark.config import Config
from acq_spark.experiment.assignment import ARMS, CONTROL, TREATMENT, ArmBudgets, arm_column
from acq_spark.features.columns import LEVEL
from acq_spark.features.windows import with_level_idx
from acq_spark.ingest.days import read_input
from acq_spark.ingest.levels import level_creatives
from acq_spark.ingest.schemas import KEYS
from acq_spark.ingest.validation import REASON, flag_rows
from acq_spark.platform.caching import cached

YESTERDAY = "yesterday"


@dataclass(frozen=True)
class ArmSolve:
    """One arm's allocation: its method, budget, creatives used and solve (None for ``yesterday``: nothing solved)."""

    arm: str | None  # None: no holdout, one allocation for every pair
    method: str
    budget: int
    used: int
    pairs: int
    record: SolveRecord | None

    @property
    def lam(self) -> float | None:
        return None if self.record is None or self.method == "rule_based" else self.record.lam

    def to_dict(self) -> dict[str, Any]:
        return {"arm": self.arm, "method": self.method, "budget": self.budget, "used": self.used, "pairs": self.pairs,
                "lam": self.lam, "solve": None if self.record is None else self.record.to_dict()}  # fmt: skip


def last_day_arms(spark: SparkSession, cfg: Config, last_input_day: dt.date) -> DataFrame:
    """The contract-clean rows of the last input day: keys, ``arm``, the level index and level-mapped ``creatives``.

    The creatives are counted as the run calendar counts them (mapped down to a level, 0 below the smallest).
    """
    rows = flag_rows(read_input(spark, cfg).where(F.col("dt") == F.lit(last_input_day))).where(F.col(REASON).isNull())
    return with_level_idx(rows, cfg.levels).select(
        *KEYS,
        arm_column(cfg.experiment).alias("arm"),
        LEVEL,
        level_creatives(F.col("n_creatives"), cfg.levels).alias("creatives"),
    )


def arm_creatives(last_day: DataFrame) -> dict[str, int]:
    """Each arm's creatives on the last input day (:func:`last_day_arms`' rows)."""
    found = {r["arm"]: int(r["c"] or 0) for r in last_day.groupBy("arm").agg(F.sum("creatives").alias("c")).collect()}
    return {arm: found.get(arm, 0) for arm in ARMS}


def yesterday_allocation(scores: DataFrame, last_day: DataFrame, levels: Sequence[int]) -> DataFrame:
    """Each pair of ``scores`` at its level of the last input day (the smallest when it had none, or no row).

    Columns as a solve's allocation: account_id, photo_id, level, n_creatives, r.
    """
    joined = scores.join(last_day.select(*KEYS, LEVEL), on=list(KEYS), how="left")
    return at_levels(joined, F.coalesce(F.col(LEVEL), F.lit(0)), levels)


#: Solves one arm: (its scores, its budget, the method) → the lazy allocation and the record.
SolveOne = Callable[[DataFrame, int, str], tuple[DataFrame, SolveRecord]]


def solve_arms(
    scores: DataFrame,
    last_day: DataFrame,
    split: ArmBudgets,
    levels: Sequence[int],
    methods: dict[str, str],
    solve_one: SolveOne,
    held: ExitStack,
) -> list[tuple[DataFrame, ArmSolve]]:
    """Allocate each arm of ``scores`` (which carry ``arm``) with ``methods[arm]`` at ``split.budgets[arm]``.

    ``solve_one`` is the allocation job's one-budget solve. Each arm's scores are cached in ``held`` while
    its (lazy) allocation is in use.

    Returns:
        Per arm (treatment first): its allocation (account_id, photo_id, level, n_creatives, r) and its solve.
    """
    out = []
    for arm in (TREATMENT, CONTROL):
        part = held.enter_context(cached(scores.where(F.col("arm") == arm).drop("arm")))
        budget, method = split.budgets[arm], methods[arm]
        if method == YESTERDAY:
            table = held.enter_context(cached(yesterday_allocation(part, last_day, levels)))
            pairs, used = pairs_and_creatives(table)
            out.append((table, ArmSolve(arm, method, budget, used, pairs, None)))
            continue
        table, record = solve_one(part, budget, method)
        out.append((table, ArmSolve(arm, method, budget, record.budget_used, record.n_pairs, record)))
    return out
