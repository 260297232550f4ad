"""The names of the feature columns, in the one order every consumer (trainer, scorer) uses.

Per window ``w`` (days ``[t - w, t - 1]`` of a target day ``t``):

* ``<metric>_sum_<w>d`` and ``<metric>_mean_<w>d`` for each of :data:`METRICS`; the mean is the
  sum over ``w`` calendar days: days without a row count as zero;
* ``days_active_<w>d``: days with a row with ``n_creatives > 0``;
* ``cost_per_creative_<w>d``: cost sum / n_creatives sum (0 when the pair had no creatives);
* ``acct_<metric>_sum_<w>d`` for each of :data:`ACCOUNT_METRICS`: the same sums over all the account's photos.

:data:`METRICS` are the logged columns and ``cost_level_adj``, a day's cost over ``log(1 + n_creatives)``
(the cost itself on a day without creatives).

Then ``pair_age_days``: days from the pair's first row before t to t (0 when it has none).
Every numeric feature is a ``double``.
"""

from __future__ import annotations

from collections.abc import Sequence

from acq_spark.config.schema import TRAILING_COST_DAYS as TRAILING_COST_DAYS  # the features name it here too

LOGGED_METRICS = ("cost", "target_cost", "conversions", "impressions", "n_creatives")
# A day's cost over log(1 + n_creatives): what the pair paid per unit of a concave response to its creatives.
# The sums of the logged cost mostly say how many creatives the pair was given (ACQ's own choice from the
# second night of a closed loop on); this one says more of what the pair is worth at any level.
LEVEL_ADJUSTED_COST = "cost_level_adj"
METRICS = (*LOGGED_METRICS, LEVEL_ADJUSTED_COST)
SPARSE = ("product_name", "industry_l1", "industry_l2")
ACCOUNT_METRICS = ("cost", "n_creatives", LEVEL_ADJUSTED_COST)
DAY = "day"
PROBE = "is_probe"
LEVEL = "level_idx"
OBS = "obs_per_level"
TRAILING_COST = "cost_7d"
PAIR_AGE = "pair_age_days"
# scoring_rows also carries the numeric features packed in this one array<float> column, in
# numeric_feature_columns' order (named in the field's metadata): the scorer's fast input.
NUMERIC_PACKED = "numeric_features"


def sum_col(metric: str, window: int) -> str:
    return f"{metric}_sum_{window}d"


def mean_col(metric: str, window: int) -> str:
    return f"{metric}_mean_{window}d"


def days_active_col(window: int) -> str:
    return f"days_active_{window}d"


def cost_per_creative_col(window: int) -> str:
    return f"cost_per_creative_{window}d"


def account_col(metric: str, window: int) -> str:
    return f"acct_{metric}_sum_{window}d"


def asof_col(sparse: str) -> str:
    """The pair's latest value of a sparse column from days < t."""
    return f"{sparse}_asof"


def idx_col(sparse: str) -> str:
    return f"{sparse}_idx"


def numeric_feature_columns(windows: Sequence[int]) -> list[str]:
    """The ordered numeric feature columns for ``windows`` (the order of the feature spec)."""
    names: list[str] = []
    for w in windows:
        names += [sum_col(m, w) for m in METRICS]
        names += [mean_col(m, w) for m in METRICS]
        names += [days_active_col(w), cost_per_creative_col(w)]
        names += [account_col(m, w) for m in ACCOUNT_METRICS]
    names.append(PAIR_AGE)
    return names

