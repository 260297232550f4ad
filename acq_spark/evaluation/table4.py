"""The paper's Table 4 on the simulated world: creatives and true expected cost per allocation method.

ACQ (solved on the model's r), the rule-based baseline and the oracle (solved on the truth itself)
allocate the same budget; each allocation is then valued with the truth table's expected cost at
the level it chose.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from acq_spark.allocation.job import allocate, day_and_budget
from acq_spark.allocation.publish import read_versions
from acq_spark.allocation.record import AllocationRecord
from acq_spark.config import Config
from acq_spark.errors import InputNotFoundError
from acq_spark.ingest.run_calendar import RunCalendar
from acq_spark.ingest.schemas import KEYS
from acq_spark.platform.caching import INPUT_SIZED_CACHE, cached
from acq_spark.platform.catalog import ALLOCATION_EVAL, SCORES, TRUTH, report_dir
from acq_spark.platform.delta_tables import read_table, replace_days, table_exists
from acq_spark.platform.frames import one_row
from acq_spark.platform.fs import write_json, write_text
from acq_spark.platform.run_log import StageTimer

METHODS = ("rule_based", "acq", "oracle")
# The truth's column of expected costs per level: the oracle solves on it and every allocation is valued with it.
TRUE_VALUES = "expected_cost"
# The row of what the day published when it mixes methods (a holdout, exploration): its value on the truth.
PUBLISHED = "published"


@dataclass(frozen=True)
class MethodValue:
    """One method's allocation valued on the truth: its pairs, creatives, true expected cost, predicted
    objective Σr, pairs at each level index, and the λ* it was solved at (None: infinite, as run records hold it).
    """

    pairs: int
    creatives: int
    true_cost: float
    objective: float
    pairs_per_level: tuple[int, ...]
    lam: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs,
            "creatives": self.creatives,
            "true_cost": self.true_cost,
            "objective": self.objective,
            "pairs_per_level": list(self.pairs_per_level),
            "lambda": self.lam,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> MethodValue:
        return cls(pairs=int(d["pairs"]), creatives=int(d["creatives"]), true_cost=float(d["true_cost"]),
                   objective=float(d["objective"]), pairs_per_level=tuple(int(n) for n in d["pairs_per_level"]),
                   lam=d["lambda"])  # fmt: skip


@dataclass(frozen=True)
class Table4:
    """What the Table 4 stage hands on, and ``reports/<dt>/table4.json`` holds (:meth:`to_dict`).

    Attributes:
        day: the decision day.
        budget: the budget every method allocated.
        budget_source: where it came from (the allocation record's ``budget_source``).
        levels: the creative levels.
        methods: each method's :class:`MethodValue`, in :data:`METHODS` order.
    """

    day: dt.date
    budget: int
    budget_source: Mapping[str, Any]
    levels: tuple[int, ...]
    methods: Mapping[str, MethodValue]

    @property
    def acq_vs_rule_based(self) -> float | None:
        """ACQ's true cost relative to the rule-based baseline's, minus 1 (None when the baseline's is 0)."""
        base = self.methods["rule_based"].true_cost
        return self.methods["acq"].true_cost / base - 1 if base else None

    @property
    def acq_share_of_oracle(self) -> float | None:
        """ACQ's true cost as a share of the oracle's (None when the oracle's is 0)."""
        return self.share_of_oracle("acq")

    def share_of_oracle(self, method: str) -> float | None:
        """``method``'s true cost as a share of the oracle's (None when either is missing or the oracle's is 0)."""
        oracle = self.methods.get("oracle")
        if oracle is None or not oracle.true_cost or method not in self.methods:
            return None
        return self.methods[method].true_cost / oracle.true_cost

    def to_dict(self) -> dict[str, Any]:
        return {
            "dt": self.day.isoformat(),
            "budget": self.budget,
            "budget_source": dict(self.budget_source),
            "levels": list(self.levels),
            "methods": {m: v.to_dict() for m, v in self.methods.items()},
            "acq_vs_rule_based": self.acq_vs_rule_based,
            "acq_share_of_oracle": self.acq_share_of_oracle,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Table4:
        """The summary :meth:`to_dict` wrote (``reports/<dt>/table4.json``)."""
        return cls(
            day=dt.date.fromisoformat(d["dt"]),
            budget=int(d["budget"]),
            budget_source=dict(d.get("budget_source", {})),
            levels=tuple(int(k) for k in d["levels"]),
            methods={m: MethodValue.from_dict(v) for m, v in d["methods"].items()},
        )


def true_value(alloc: DataFrame, truth: DataFrame) -> DataFrame:
    """Each allocated pair with the truth's expected cost at its level (``true_cost``): a join on the keys."""
    return with_true_cost(alloc.join(truth.select(*KEYS, TRUE_VALUES), on=list(KEYS), how="inner"))


def with_true_cost(alloc: DataFrame) -> DataFrame:
    """An allocation carrying the truth's values (``expected_cost``), with the value at its level (``true_cost``)."""
    return alloc.withColumn("true_cost", F.element_at(TRUE_VALUES, F.col("level") + 1)).drop(TRUE_VALUES)


def summarise(valued: DataFrame, levels: Sequence[int], lam: float | None) -> MethodValue:
    """Creatives, true expected cost, predicted objective and the number of pairs at each level, solved at ``lam``.

    One job: a row per level, added up here.
    """
    rows = valued.groupBy("level").agg(
        F.count("*").alias("pairs"),
        F.sum("n_creatives").alias("creatives"),
        F.sum("true_cost").alias("true_cost"),
        F.sum("r").alias("objective"),
    ).collect()
    per_level = {int(r["level"]): int(r["pairs"]) for r in rows}
    return MethodValue(
        pairs=sum(per_level.values()),
        creatives=sum(int(r["creatives"] or 0) for r in rows),
        true_cost=math.fsum(float(r["true_cost"] or 0.0) for r in rows),
        objective=math.fsum(float(r["objective"] or 0.0) for r in rows),
        pairs_per_level=tuple(per_level.get(k, 0) for k in range(len(levels))),
        lam=lam,
    )


def table4_markdown(table: Table4) -> str:
    """A Markdown table like the paper's Table 4 (changes relative to the rule-based baseline)."""
    base = table.methods["rule_based"]
    lines = [
        f"Decision day {table.day}, budget {table.budget:,} creatives.",
        "",
        "| Framework | Creatives | True expected cost | vs rule-based | share of oracle |",
        "|---|---|---|---|---|",
    ]
    for method, res in table.methods.items():
        d_creatives = (res.creatives / base.creatives - 1) if base.creatives else 0.0
        d_cost = (res.true_cost / base.true_cost - 1) if base.true_cost else 0.0
        share = table.share_of_oracle(method)
        share_text = f"{share:.2%}" if share is not None else "-"
        creatives = f"{res.creatives:,} ({d_creatives:+.2%})"
        lines.append(f"| {method} | {creatives} | {res.true_cost:,.1f} | {d_cost:+.2%} | {share_text} |")
    return "\n".join(lines) + "\n"


def has_day(truth: DataFrame, day: dt.date | str) -> bool:
    """Whether ``truth`` has a row for ``day`` (one short job)."""
    return bool(truth.where(F.col("dt") == F.lit(str(day)).cast("date")).limit(1).count())


NO_TRUTH = "there is no truth table"


def truth_gap(spark: SparkSession, cfg: Config, day: dt.date | str) -> str | None:
    """Why Table 4 cannot be computed for ``day`` (:data:`NO_TRUTH`, or no truth rows of ``day``); None when it can.

    The one check of the truth's coverage: the nightly decides with it whether to run Table 4, the report what to say.
    """
    if not table_exists(spark, cfg.table(TRUTH)):
        return NO_TRUTH
    if not has_day(spark.read.format("delta").load(cfg.table(TRUTH)), day):
        return f"the truth does not cover {day}"
    return None


def run_table4(
    spark: SparkSession,
    cfg: Config,
    timer: StageTimer | None = None,
    calendar: RunCalendar | None = None,
    allocation: AllocationRecord | None = None,
) -> Table4:
    """Allocate the decision day with every method at the same budget and value each on the truth.

    Args:
        spark: the session.
        cfg: the configuration (levels, allocation, warehouse).
        timer: collects the stage timings; a new one when None.
        calendar: the run calendar (None: computed as :func:`day_and_budget` does).
        allocation: the allocation stage's record (the nightly's): its day and budget are used, and
            its published rows stand for its method instead of solving that method again (unless a holdout
            split them between two methods).

    Raises:
        InputNotFoundError: no ``truth`` table, or one without rows for the decision day.
    """
    timer = timer or StageTimer()
    if allocation is not None:
        day, budget, budget_info = allocation.day, allocation.budget, allocation.budget_source
    else:
        day, budget, budget_info = day_and_budget(spark, cfg, calendar)
    truth = _day_truth(spark, cfg, day)
    scores = read_table(spark, cfg.table(SCORES), what="scores").where(F.col("dt") == F.lit(day))
    results = _value_methods(spark, cfg, timer, day, budget, scores, truth, allocation)
    table = Table4(day, budget, budget_info, tuple(cfg.levels), results)
    _write_table4(spark, cfg, table)
    return table


def _day_truth(spark: SparkSession, cfg: Config, day: dt.date) -> DataFrame:
    """The truth's expected cost of ``day``'s pairs (the keys and ``expected_cost``).

    Raises:
        InputNotFoundError: no ``truth`` table, or one without rows for ``day``.
    """
    truth = read_table(spark, cfg.table(TRUTH), what="truth (simulated world only)")
    if not has_day(truth, day):
        span = one_row(truth.agg(F.min("dt"), F.max("dt")))
        raise InputNotFoundError(
            f"truth: no rows for {day} (it covers {span[0]} to {span[1]}); Table 4 needs the truth of the decision day"
        )
    return truth.where(F.col("dt") == F.lit(day)).select(*KEYS, TRUE_VALUES)


def _value_methods(
    spark: SparkSession,
    cfg: Config,
    timer: StageTimer,
    day: dt.date,
    budget: int,
    scores: DataFrame,
    truth: DataFrame,
    allocation: AllocationRecord | None,
) -> dict[str, MethodValue]:
    """Each method's allocation of ``day`` at ``budget`` valued on ``truth``, in :data:`METHODS` order, one stage a
    method; ``allocation``'s published rows stand for its method (see :func:`run_table4`)."""
    results: dict[str, MethodValue] = {}
    # the published rows stand for the configured method unless they mix methods (a holdout's two arms, the
    # exploring pairs): then every method is solved at the whole budget and the rows are valued as `published`
    published = None
    if allocation is not None:
        published = read_versions(spark, cfg.warehouse, day, dict(allocation.published))[0]
    # One pair-sized frame, the scores beside the truth, joined once and held through three solves (on local disk,
    # not in the JVM heap: see caching). Each solved allocation carries the truth's values, so it is valued in the
    # same pass that assigns its levels; only the published rows are joined to it.
    day_values = scores.select(*KEYS, "r", "cost_7d").join(truth, on=list(KEYS), how="left")
    with cached(day_values, INPUT_SIZED_CACHE) as day_values:
        for method in METHODS:
            with timer.stage(f"table 4: {method}") as rec:
                lam: float | None
                if allocation is not None and published is not None and allocation.method == method \
                        and not allocation.mixes_methods:  # fmt: skip
                    valued = true_value(published, day_values)
                    lam = allocation.solve.lam if math.isfinite(allocation.solve.lam) else None  # as its record
                else:
                    alloc, record = allocate(day_values, cfg.levels, budget, method, cfg.allocation,
                                             value_column=TRUE_VALUES if method == "oracle" else "r",
                                             carry=(TRUE_VALUES,))  # fmt: skip
                    valued, lam = with_true_cost(alloc), record.lam
                results[method] = summarise(valued, cfg.levels, lam)
                rec.figures.update(creatives=results[method].creatives, true_cost=results[method].true_cost)
        if allocation is not None and published is not None and allocation.mixes_methods:
            with timer.stage(f"table 4: {PUBLISHED}") as rec:
                results[PUBLISHED] = summarise(true_value(published, day_values), cfg.levels, None)
                rec.figures.update(creatives=results[PUBLISHED].creatives, true_cost=results[PUBLISHED].true_cost)
    return results


def _write_table4(spark: SparkSession, cfg: Config, table: Table4) -> None:
    """Replace the day in ``allocation_eval`` with ``table``'s methods; write it as ``table4.md`` and ``table4.json``
    into the day's report folder."""
    rows = [
        {"method": m, "creatives": r.creatives, "true_cost": r.true_cost, "objective": r.objective, "pairs": r.pairs}
        for m, r in table.methods.items()
    ]
    frame = spark.createDataFrame(rows).withColumn("dt", F.lit(table.day)).withColumn("budget", F.lit(table.budget))
    replace_days(frame, cfg.table(ALLOCATION_EVAL), [table.day])
    folder = report_dir(cfg.warehouse, table.day)
    write_text(f"{folder}/table4.md", table4_markdown(table))
    write_json(f"{folder}/table4.json", table.to_dict())
