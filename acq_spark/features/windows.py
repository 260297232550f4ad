"""Per-pair point-in-time window transforms over an integer day number.

Each transform is a range window over ``day`` partitioned by the pair, with frames that end at
``-1``: the statistics of a row on day t read days ``[t - w, t - 1]`` of the same pair and never t
itself. Gaps in the days and pairs that start inside a window need no special care: days
without a row simply contribute nothing (zero) to the sums. Input rows must be unique per
(pair, day) — the input contract guarantees it.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window, WindowSpec
from pyspark.sql import functions as F

from acq_spark.features.columns import (
    DAY,
    LEVEL,
    LEVEL_ADJUSTED_COST,
    METRICS,
    OBS,
    PAIR_AGE,
    SPARSE,
    TRAILING_COST,
    TRAILING_COST_DAYS,
    asof_col,
    days_active_col,
    mean_col,
    sum_col,
)
from acq_spark.ingest.schemas import KEYS

EPOCH = "1970-01-01"


def pair_window(lower: int, upper: int = -1) -> WindowSpec:
    """Rows of the same pair whose day lies in ``[t + lower, t + upper]``."""
    return Window.partitionBy(*KEYS).orderBy(DAY).rangeBetween(lower, upper)


def window_sum(value: Column, window: WindowSpec) -> Column:
    """The sum of ``value`` over the frame as a double, 0 when the frame is empty."""
    return F.coalesce(F.sum(value.cast("double")).over(window), F.lit(0.0))


def with_day_number(df: DataFrame) -> DataFrame:
    """Add ``day``: days since 1970-01-01 of ``dt`` (an int the range windows order by)."""
    return df.withColumn(DAY, F.datediff(F.col("dt"), F.to_date(F.lit(EPOCH))))


def with_level_idx(df: DataFrame, levels: Sequence[int]) -> DataFrame:
    """Add ``level_idx``: the index of the largest of ``levels`` ≤ ``n_creatives`` (null below the smallest)."""
    level = F.lit(None).cast("int")
    for i, n in enumerate(levels):
        level = F.when(F.col("n_creatives") >= n, F.lit(i)).otherwise(level)
    return df.withColumn(LEVEL, level)


def metric_value(metric: str) -> Column:
    """A row's value of one of :data:`METRICS`: its column; ``cost_level_adj``: cost over log(1 + n_creatives)."""
    if metric != LEVEL_ADJUSTED_COST:
        return F.col(metric)
    n = F.col("n_creatives").cast("double")
    return F.when(n > 0, F.col("cost") / F.log1p(n)).otherwise(F.col("cost"))


def window_stats_columns(windows: Sequence[int]) -> dict[str, Column]:
    """Per window w, the sums and means (sum / w calendar days) of :data:`METRICS` and ``days_active``.

    The columns need ``account_id``, ``photo_id``, ``day`` and the metric columns.
    """
    columns: dict[str, Column] = {}
    for w in windows:
        frame = pair_window(-w)
        for metric in METRICS:
            total = window_sum(metric_value(metric), frame)
            columns[sum_col(metric, w)] = total
            columns[mean_col(metric, w)] = total / F.lit(float(w))
        columns[days_active_col(w)] = window_sum(F.when(F.col("n_creatives") > 0, 1).otherwise(0), frame)
    return columns


HISTORY = "_is_history"  # a row standing for the pair's days before the rows read (see with_history)


def with_history(df: DataFrame, history: DataFrame | None) -> DataFrame:
    """Add one row per pair of ``history`` (:func:`acq_spark.features.history.history_rows`) to ``df``.

    Such a row is dated the pair's first day and holds its latest sparse values, with no metrics, so
    the pair windows give the age and the as-of values of every day as if ``df`` held all earlier days,
    and the metric windows, which end later, see nothing. :func:`without_history` drops the rows.
    None: ``df`` holds every earlier day; nothing added.
    """
    if history is None:
        return df
    return df.withColumn(HISTORY, F.lit(False)).unionByName(history, allowMissingColumns=True)


def without_history(df: DataFrame) -> DataFrame:
    """``df`` without the rows :func:`with_history` added."""
    return df.where(~F.col(HISTORY)).drop(HISTORY) if HISTORY in df.columns else df


def pair_history_columns() -> dict[str, Column]:
    """``pair_age_days`` and the pair's latest sparse values (``<name>_asof``), both from days < t.

    The age is t minus the day of the pair's first earlier row, 0 for a pair without one.
    """
    before = pair_window(Window.unboundedPreceding)
    first_day = F.min(F.col(DAY)).over(before)
    columns = {PAIR_AGE: F.coalesce((F.col(DAY) - first_day).cast("double"), F.lit(0.0))}
    for name in SPARSE:
        columns[asof_col(name)] = F.last(F.col(name), ignorenulls=True).over(before)
    return columns


def obs_per_level_columns(n_levels: int, window: int) -> dict[str, Column]:
    """``obs_per_level`` (array<int>, ``n_levels`` entries): days in ``[t - window, t - 1]`` at each level.

    Needs ``level_idx`` (see :func:`with_level_idx`); rows without a level count at no level.
    """
    frame = pair_window(-window)
    counts = [
        F.coalesce(F.sum(F.when(F.col(LEVEL) == k, 1).otherwise(0)).over(frame), F.lit(0)).cast("int")
        for k in range(n_levels)
    ]
    return {OBS: F.array(*counts)}


def trailing_cost_columns(days: int = TRAILING_COST_DAYS, name: str = TRAILING_COST) -> dict[str, Column]:
    """``cost_7d``: the pair's cost summed over ``[t - days, t - 1]`` (the rule-based baseline's input)."""
    return {name: window_sum(F.col("cost"), pair_window(-days))}


def with_pair_windows(df: DataFrame, windows: Sequence[int], n_levels: int) -> DataFrame:
    """Add every per-pair window feature: :func:`window_stats_columns`, :func:`pair_history_columns`,
    :func:`obs_per_level_columns` (over the largest window) and :func:`trailing_cost_columns`.

    All in one projection, so that Spark computes them in one window operator over one sort of the
    rows (one operator per feature group would carry every wider row through each buffer; BENCHMARKS.md).
    """
    return df.withColumns(
        {
            **window_stats_columns(windows),
            **pair_history_columns(),
            **obs_per_level_columns(n_levels, max(windows)),
            **trailing_cost_columns(),
        }
    )
