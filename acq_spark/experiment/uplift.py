"""The arms' outcomes and the relative uplift of treatment over control, with a confidence interval over accounts.

Pure NumPy. The account is the unit of randomisation, so each arm's cost per pair is a ratio of account
sums, R = Σ cost / Σ pairs, whose variance is the delta method's over accounts:
Var(R) ≈ Σ_a (y_a − R n_a)² / ((k − 1) k n̄²) for k accounts with n̄ pairs on average, i.e. w / k for the
relative variance per account w = k Var(R) / R². The arms being independent, log(R_t / R_c) has
se s = sqrt(w_t / k_t + w_c / k_c); the interval of the uplift u = R_t / R_c − 1 is that of the log ratio,
(R_t / R_c) · exp(±z s) − 1, which stays above −100% and is skewed as a ratio of heavy-tailed costs is.

Each arm's w is at least the arms' pooled w (weighted by k − 1). A day's costs are few large draws among
many zeros, and a small control arm usually draws none of the rarest: its cost and its own variance are
then both low, so an interval from its own variance alone was narrowest exactly when the estimate lay
furthest above the truth (85% coverage on the default world, ``benchmarks/holdout_coverage.py``). The arms
are accounts of one population in one world, so the pooled w, mostly the larger arm's, is a steadier
floor; an arm that did draw the tail keeps its own larger w. ``se`` is the delta method's (R_t / R_c) · s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile

#: Below this many accounts with a cost in an arm, the interval is flagged: the delta method's variance
#: comes from the accounts that spent, and a handful of them (mostly zero-cost days) understates it.
MIN_PAYING_ACCOUNTS = 30


@dataclass(frozen=True)
class ArmTotals:
    """One arm on one day: its accounts (and those with a positive cost), pairs, creatives run and realised cost."""

    accounts: int
    pairs: int
    creatives: int
    cost: float
    paying_accounts: int = 0

    @property
    def cost_per_pair(self) -> float:
        return self.cost / self.pairs if self.pairs else math.nan

    @property
    def cost_per_creative(self) -> float:
        return self.cost / self.creatives if self.creatives else math.nan


@dataclass(frozen=True)
class Uplift:
    """A relative uplift, its standard error and its confidence interval (nan when it cannot be estimated)."""

    estimate: float
    se: float
    low: float
    high: float

    def covers(self, value: float) -> bool:
        return self.low <= value <= self.high


def ratio_and_variance(y: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """R = Σy / Σn over accounts and the delta method's Var(R) (nan with fewer than two accounts).

    Args:
        y: (k,) each account's outcome (cost).
        n: (k,) each account's units (pairs).
    """
    y, n = np.asarray(y, dtype=np.float64), np.asarray(n, dtype=np.float64)
    k = y.size
    if k == 0 or n.sum() <= 0:
        return math.nan, math.nan
    ratio = float(y.sum() / n.sum())
    if k < 2:
        return ratio, math.nan
    residual = y - ratio * n
    variance = float((residual**2).sum() / ((k - 1) * k * n.mean() ** 2))
    return ratio, variance


def relative_uplift(
    y_treatment: np.ndarray,
    n_treatment: np.ndarray,
    y_control: np.ndarray,
    n_control: np.ndarray,
    z: float = Z95,
) -> Uplift:
    """The relative uplift R_t / R_c − 1 of the ratio Σy / Σn, with its interval over accounts (the log ratio's ±z·s,
    each arm's relative variance at least the pooled one).

    Args:
        y_treatment, n_treatment: (k_t,) each treatment account's outcome and units.
        y_control, n_control: (k_c,) the same for the control accounts.
        z: the interval's normal quantile (1.96: 95%).
    """
    r_t, v_t = ratio_and_variance(y_treatment, n_treatment)
    r_c, v_c = ratio_and_variance(y_control, n_control)
    if not (r_c > 0) or math.isnan(r_t):
        return Uplift(math.nan, math.nan, math.nan, math.nan)
    ratio = r_t / r_c
    # no log ratio, or an arm of one account (no variance over accounts): the estimate without an interval
    if not r_t > 0 or math.isnan(v_t) or math.isnan(v_c):
        return Uplift(ratio - 1, math.nan, math.nan, math.nan)
    k_t, k_c = np.size(y_treatment), np.size(y_control)
    w_t, w_c = k_t * v_t / r_t**2, k_c * v_c / r_c**2
    pooled = ((k_t - 1) * w_t + (k_c - 1) * w_c) / (k_t + k_c - 2)
    s = math.sqrt(max(w_t, pooled) / k_t + max(w_c, pooled) / k_c)
    return Uplift(ratio - 1, ratio * s, ratio * math.exp(-z * s) - 1, ratio * math.exp(z * s) - 1)
