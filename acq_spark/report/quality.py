"""The report's data-quality and change sections: bad rows by reason, input drift, allocation churn.

* **Quarantine**: the rows validation set aside for the day, by reason.
* **Input drift**: the last input day against the day before it (rows, pairs, zero-cost share, mean cost,
  creatives), with the relative change.
* **Churn**: the day's published allocation against the previous published day's: pairs whose level
  changed (new and dropped pairs included), creatives moved, the accounts that gained and lost most,
  and ``churn.png``, pairs by (previous level, today's level).

Each returns Markdown lines (empty when its inputs are missing); figures are formatted for people.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from acq_spark.allocation.publish import latest_pointer_before, read_pointer, read_versions
from acq_spark.config import Config
from acq_spark.errors import AcqError
from acq_spark.ingest.days import read_input
from acq_spark.ingest.schemas import KEYS
from acq_spark.platform.catalog import QUARANTINE
from acq_spark.platform.delta_tables import read_table, table_exists
from acq_spark.platform.frames import one_row

TOP_ACCOUNTS = 5


def quarantine_lines(spark: SparkSession, cfg: Config, day: dt.date) -> list[str]:
    """The day's quarantined rows by reason (validation writes them under ``run_date`` = the decision day)."""
    from acq_spark.ingest.validation import REASON

    path = cfg.table(QUARANTINE)
    if not table_exists(spark, path):
        return []
    rows = read_table(spark, path, what="quarantine").where(F.col("run_date") == F.lit(day))
    counts = rows.groupBy(REASON).count().orderBy(F.desc("count"), REASON).collect()
    out = ["## Data quality", ""]
    if not counts:
        return [*out, f"- no row quarantined for {day}", ""]
    out += ["| reason | rows |", "|---|---|"]
    out += [f"| {r[REASON]} | {r['count']:,} |" for r in counts]
    return [*out, "", f"Every quarantined row is in `{path}` (run_date = {day}).", ""]


def day_figures(rows: DataFrame) -> dict[str, float]:
    """Rows, pairs, zero-cost share, mean cost and creatives of one day's input rows."""
    row = one_row(rows.agg(
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct(*KEYS).alias("pairs"),
        F.avg(F.when(F.col("cost") == 0, 1.0).otherwise(0.0)).alias("zero_cost_share"),
        F.avg("cost").alias("mean_cost"),
        F.sum("n_creatives").alias("creatives"),
    ))
    return {k: (float(row[k]) if row[k] is not None else float("nan")) for k in row.asDict()}


def drift_lines(spark: SparkSession, cfg: Config, day: dt.date) -> list[str]:
    """The last input day before ``day`` against the input day before it."""
    try:
        rows = read_input(spark, cfg)
    except AcqError:
        return []
    days = [r["dt"] for r in rows.where(F.col("dt") < F.lit(day)).select("dt").distinct().orderBy(F.desc("dt"))
            .limit(2).collect()]  # fmt: skip
    if len(days) < 2:
        return []
    last, previous = (day_figures(rows.where(F.col("dt") == F.lit(d))) for d in days)
    out = ["## Input drift", "", f"| figure | {days[0]} | {days[1]} | change |", "|---|---|---|---|"]
    for key, fmt in (("rows", ",.0f"), ("pairs", ",.0f"), ("zero_cost_share", ".2%"), ("mean_cost", ",.4g"),
                     ("creatives", ",.0f")):  # fmt: skip
        now, before = last[key], previous[key]
        change = f"{(now - before) / before:+.1%}" if before else "n/a"
        out.append(f"| {key.replace('_', ' ')} | {now:{fmt}} | {before:{fmt}} | {change} |")
    return [*out, ""]


def churn(spark: SparkSession, cfg: Config, day: dt.date) -> dict[str, Any] | None:
    """The day's published allocation against the previous published day's; None when either is missing."""
    pointer, before = read_pointer(cfg.warehouse, day), latest_pointer_before(cfg.warehouse, day)
    if pointer is None or before is None:
        return None
    today = read_versions(spark, cfg.warehouse, day, pointer["versions"])[0]
    earlier = read_versions(spark, cfg.warehouse, before["dt"], before["versions"])[0]
    joined = today.select(*KEYS, F.col("level").alias("now"), F.col("n_creatives").alias("n_now")).join(
        earlier.select(*KEYS, F.col("level").alias("before"), F.col("n_creatives").alias("n_before")),
        on=list(KEYS),
        how="full_outer",
    )
    delta = F.coalesce(F.col("n_now"), F.lit(0)) - F.coalesce(F.col("n_before"), F.lit(0))
    joined = joined.withColumn("delta", delta).cache()
    try:
        totals = one_row(joined.agg(
            F.count(F.lit(1)).alias("pairs"),
            F.count(F.when(~F.col("now").eqNullSafe(F.col("before")), 1)).alias("changed"),
            F.count(F.when(F.col("before").isNull(), 1)).alias("new"),
            F.count(F.when(F.col("now").isNull(), 1)).alias("dropped"),
            F.sum(F.abs("delta")).alias("moved"),
            F.sum(F.coalesce(F.col("n_now"), F.lit(0))).alias("creatives"),
        ))
        accounts = joined.groupBy("account_id").agg(F.sum("delta").alias("delta"))
        gained = [(r["account_id"], int(r["delta"])) for r in
                  accounts.where("delta > 0").orderBy(F.desc("delta"), "account_id").limit(TOP_ACCOUNTS).collect()]
        lost = [(r["account_id"], int(r["delta"])) for r in
                accounts.where("delta < 0").orderBy("delta", "account_id").limit(TOP_ACCOUNTS).collect()]
        cells = joined.groupBy("before", "now").count().collect()
    finally:
        joined.unpersist()
    return {
        "previous_day": before["dt"],
        "pairs": int(totals["pairs"]),
        "changed": int(totals["changed"]),
        "new": int(totals["new"]),
        "dropped": int(totals["dropped"]),
        "moved": int(totals["moved"] or 0),
        "creatives": int(totals["creatives"] or 0),
        "gained": gained,
        "lost": lost,
        "transitions": {(r["before"], r["now"]): int(r["count"]) for r in cells},
    }


def churn_lines(spark: SparkSession, cfg: Config, day: dt.date, out: Path) -> list[str]:
    """The churn section, with ``churn.png`` written into ``out``."""
    from acq_spark.report.plots import plot_churn

    found = churn(spark, cfg, day)
    if found is None:
        return ["## Allocation churn", "", "No earlier published day to compare with.", ""]
    moved_share = found["moved"] / found["creatives"] if found["creatives"] else float("nan")
    lines = [
        "## Allocation churn",
        "",
        f"Against {found['previous_day']}, the previous published day:",
        "",
        f"- {found['changed']:,} of {found['pairs']:,} pairs changed level "
        f"({found['changed'] / max(found['pairs'], 1):.1%}; {found['new']:,} new, {found['dropped']:,} dropped)",
        f"- creatives moved (Σ|Δ|): {found['moved']:,}, {moved_share:.1%} of today's {found['creatives']:,}",
        "",
        "| accounts gaining most | creatives | accounts losing most | creatives |",
        "|---|---|---|---|",
    ]
    for i in range(max(len(found["gained"]), len(found["lost"]))):
        gain = found["gained"][i] if i < len(found["gained"]) else ("", None)
        loss = found["lost"][i] if i < len(found["lost"]) else ("", None)
        cells = [str(gain[0]), "" if gain[1] is None else f"{gain[1]:+,}", str(loss[0]),
                 "" if loss[1] is None else f"{loss[1]:+,}"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    plot_churn(cfg.levels, found["transitions"], found["previous_day"], str(day), out / "churn.png")
    return [*lines, "", "![churn](churn.png)", ""]
