"""The paper's Table 4 on the simulated world: creatives and true expected cost per allocation method.

ACQ (solved on the model's r), the rule-based baseline and the oracle (solved on the truth itself)
allocate the same budget; each allocation is then valued with the truth table's expected cost at
the level it chose.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from acq_spark.allocation.job import allocate, day_and_budget
from acq_spark.allocation.publish import read_versions
from acq_spark.allocation.tables import with_truth_values
from acq_spark.config import Config
from acq_spark.errors import InputNotFoundError
from acq_spark.ingest.run_calendar import RunCalendar
from acq_spark.ingest.schemas import KEYS
from acq_spark.platform.caching import INPUT_SIZED_CACHE, cached
from acq_spark.platform.catalog import report_dir
from acq_spark.platform.delta_tables import read_table, replace_days, table_exists
from acq_spark.platform.fs import write_json, write_text
from acq_spark.platform.run_log import StageTimer

METHODS = ("rule_based", "acq", "oracle")


def true_value(alloc: DataFrame, truth: DataFrame) -> DataFrame:
    """Each allocated pair with the truth's expected cost at its level (``true_cost``)."""
    joined = alloc.join(truth.select(*KEYS, "expected_cost"), on=list(KEYS), how="inner")
    return joined.withColumn("true_cost", F.element_at("expected_cost", F.col("level") + 1)).drop("expected_cost")


def summarise(valued: DataFrame, levels: Sequence[int]) -> dict[str, Any]:
    """Creatives, true expected cost, predicted objective and the number of pairs at each level."""
    row = valued.agg(
        F.count("*").alias("pairs"),
        F.sum("n_creatives").alias("creatives"),
        F.sum("true_cost").alias("true_cost"),
        F.sum("r").alias("objective"),
    ).first()
    per_level = {int(r["level"]): int(r["n"]) for r in valued.groupBy("level").agg(F.count("*").alias("n")).collect()}
    return {
        "pairs": int(row["pairs"]),
        "creatives": int(row["creatives"]),
        "true_cost": float(row["true_cost"]),
        "objective": float(row["objective"]),
        "pairs_per_level": [per_level.get(k, 0) for k in range(len(levels))],
    }


def table4_markdown(day: dt.date, budget: int, results: dict[str, dict[str, Any]]) -> str:
    """A Markdown table like the paper's Table 4 (changes relative to the rule-based baseline)."""
    base = results["rule_based"]
    oracle = results.get("oracle", {}).get("true_cost")
    lines = [
        f"Decision day {day}, budget {budget:,} creatives.",
        "",
        "| Framework | Creatives | True expected cost | vs rule-based | share of oracle |",
        "|---|---|---|---|---|",
    ]
    for method, res in results.items():
        d_creatives = (res["creatives"] / base["creatives"] - 1) if base["creatives"] else 0.0
        d_cost = (res["true_cost"] / base["true_cost"] - 1) if base["true_cost"] else 0.0
        share = f"{res['true_cost'] / oracle:.2%}" if oracle else "-"
        creatives = f"{res['creatives']:,} ({d_creatives:+.2%})"
        lines.append(f"| {method} | {creatives} | {res['true_cost']:,.1f} | {d_cost:+.2%} | {share} |")
    return "\n".join(lines) + "\n"


def has_day(truth: DataFrame, day: dt.date | str) -> bool:
    """Whether ``truth`` has a row for ``day`` (one short job)."""
    return bool(truth.where(F.col("dt") == F.lit(str(day)).cast("date")).limit(1).count())


NO_TRUTH = "there is no truth table"


def truth_gap(spark: SparkSession, cfg: Config, day: dt.date | str) -> str | None:
    """Why Table 4 cannot be computed for ``day`` (:data:`NO_TRUTH`, or no truth rows of ``day``); None when it can.

    The one check of the truth's coverage: the nightly decides with it whether to run Table 4, the report what to say.
    """
    if not table_exists(spark, cfg.table("truth")):
        return NO_TRUTH
    if not has_day(spark.read.format("delta").load(cfg.table("truth")), day):
        return f"the truth does not cover {day}"
    return None


def run_table4(
    spark: SparkSession,
    cfg: Config,
    timer: StageTimer | None = None,
    calendar: RunCalendar | None = None,
    allocation: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Allocate the decision day with every method at the same budget and value each on the truth.

    Args:
        spark: the session.
        cfg: the configuration (levels, allocation, warehouse).
        timer: collects the stage timings; a new one when None.
        calendar: the run calendar (None: computed as :func:`day_and_budget` does).
        allocation: the allocation stage's run record (the nightly's): its day and budget are used, and
            its published rows stand for its method instead of solving that method again (unless a holdout
            split them between two methods).

    Raises:
        InputNotFoundError: no ``truth`` table, or one without rows for the decision day.
    """
    timer = timer or StageTimer()
    if allocation is not None:
        day, budget = dt.date.fromisoformat(allocation["dt"]), int(allocation["budget"]["value"])
        budget_info = {k: v for k, v in allocation["budget"].items() if k != "value"}
    else:
        day, budget, budget_info = day_and_budget(spark, cfg, calendar)
    truth = read_table(spark, cfg.table("truth"), what="truth (simulated world only)")
    if not has_day(truth, day):
        span = truth.agg(F.min("dt"), F.max("dt")).first()
        raise InputNotFoundError(
            f"truth: no rows for {day} (it covers {span[0]} to {span[1]}); Table 4 needs the truth of the decision day"
        )
    scores = read_table(spark, cfg.table("scores"), what="scores").where(F.col("dt") == F.lit(day))
    truth = truth.where(F.col("dt") == F.lit(day)).select(*KEYS, "expected_cost")
    results: dict[str, dict[str, Any]] = {}
    # three pair-sized frames held through three solves: on local disk, not in the JVM heap (see caching)
    on_disk = INPUT_SIZED_CACHE
    with (
        cached(scores, on_disk) as scores,
        cached(truth, on_disk) as truth,
        cached(with_truth_values(scores, truth), on_disk) as on_truth,
    ):
        for method in METHODS:
            with timer.stage(f"table 4: {method}") as rec:
                # a holdout's published rows mix two methods: then every method is solved at the whole budget
                if allocation is not None and allocation["method"] == method and "experiment" not in allocation:
                    alloc = read_versions(spark, cfg.warehouse, day, allocation["published"])[0]
                    lam = allocation["solve"]["lam"]
                else:
                    alloc, record = allocate(on_truth if method == "oracle" else scores, cfg.levels, budget, method,
                                             cfg.allocation)  # fmt: skip
                    lam = record.lam
                results[method] = {**summarise(true_value(alloc, truth), cfg.levels), "lambda": lam}
                rec.figures.update(creatives=results[method]["creatives"], true_cost=results[method]["true_cost"])
    base, oracle = results["rule_based"]["true_cost"], results["oracle"]["true_cost"]
    summary = {
        "dt": str(day),
        "budget": budget,
        "budget_source": budget_info,
        "levels": list(cfg.levels),
        "methods": results,
        "acq_vs_rule_based": results["acq"]["true_cost"] / base - 1 if base else None,
        "acq_share_of_oracle": results["acq"]["true_cost"] / oracle if oracle else None,
    }
    rows = [
        {
            "method": m,
            "creatives": r["creatives"],
            "true_cost": r["true_cost"],
            "objective": r["objective"],
            "pairs": r["pairs"],
        }
        for m, r in results.items()
    ]
    frame = spark.createDataFrame(rows).withColumn("dt", F.lit(day)).withColumn("budget", F.lit(budget))
    replace_days(frame, cfg.table("allocation_eval"), [day])
    folder = report_dir(cfg.warehouse, day)
    write_text(f"{folder}/table4.md", table4_markdown(day, budget, results))
    write_json(f"{folder}/table4.json", summary)
    return summary

