"""Account-level totals over the windows and the pair's cost per creative (point in time)."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from acq_spark.features.columns import ACCOUNT_METRICS, DAY, account_col, cost_per_creative_col, sum_col
from acq_spark.features.windows import metric_value, window_sum

# Daily account sums go through an exact decimal so that they do not depend on the order in which
# partial sums meet (re-runs give bit-identical doubles); 10 decimals are far below a cost's precision.
_EXACT = "decimal(38,10)"


def with_account_totals(df: DataFrame, windows: Sequence[int]) -> DataFrame:
    """Add ``acct_<metric>_sum_<w>d``: the account's cost and n_creatives over all its photos in ``[t - w, t - 1]``.

    Args:
        df: rows with ``account_id``, ``day``, ``cost`` and ``n_creatives`` (null values count as zero).
        windows: window lengths in days.
    """
    return df.join(account_totals(df, windows), on=["account_id", DAY], how="left")


def account_totals(df: DataFrame, windows: Sequence[int]) -> DataFrame:
    """Per account and day of ``df``: ``acct_<metric>_sum_<w>d`` over the account's rows of ``[t - w, t - 1]``."""
    daily = df.groupBy("account_id", DAY).agg(
        *[F.sum(metric_value(m).cast(_EXACT)).cast("double").alias(m) for m in ACCOUNT_METRICS]
    )
    totals = {}
    for w in windows:
        frame = Window.partitionBy("account_id").orderBy(DAY).rangeBetween(-w, -1)
        for metric in ACCOUNT_METRICS:
            totals[account_col(metric, w)] = window_sum(F.col(metric), frame)
    return daily.withColumns(totals).drop(*ACCOUNT_METRICS)


def with_cost_per_creative(df: DataFrame, windows: Sequence[int]) -> DataFrame:
    """Add ``cost_per_creative_<w>d`` = cost sum / n_creatives sum over the window, 0 when there were none.

    Needs the window sums of :func:`acq_spark.features.windows.window_stats_columns`.
    """
    columns = {}
    for w in windows:
        cost, creatives = F.col(sum_col("cost", w)), F.col(sum_col("n_creatives", w))
        columns[cost_per_creative_col(w)] = F.when(creatives > 0, cost / creatives).otherwise(F.lit(0.0))
    return df.withColumns(columns)
