"""The input summary ``make run`` prints: rows, pairs, days, zero-cost share and cost moments."""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from acq_spark.platform.frames import one_row


def input_summary(df: DataFrame) -> dict[str, Any]:
    """Rows, pairs, days, zero-cost share, mean/std/max of cost and creatives on the last day (one pass + one)."""
    row = one_row(df.agg(
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct("account_id", "photo_id").alias("pairs"),
        F.countDistinct("dt").alias("days"),
        F.min("dt").alias("first_day"),
        F.max("dt").alias("last_day"),
        F.avg((F.col("cost") == 0).cast("double")).alias("zero_cost_share"),
        F.avg("cost").alias("mean"),
        F.stddev_samp("cost").alias("std"),
        F.max("cost").alias("max"),
        F.avg("n_creatives").alias("mean_creatives"),
    ))
    out = row.asDict()
    last = one_row(df.where(F.col("dt") == F.lit(out["last_day"])).agg(F.sum("n_creatives")))[0]
    out["creatives_last_day"] = int(last or 0)
    out["first_day"], out["last_day"] = str(out["first_day"]), str(out["last_day"])
    return out


def format_summary(summary: dict[str, Any]) -> str:
    """A small aligned text table of :func:`input_summary`."""
    lines = ["input summary (creative_daily, clean rows)"]
    for key, value in summary.items():
        shown = f"{value:,.4f}" if isinstance(value, float) else (f"{value:,}" if isinstance(value, int) else value)
        lines.append(f"  {key:<20} {shown}")
    return "\n".join(lines)
