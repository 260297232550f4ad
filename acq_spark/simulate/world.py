"""Pairs, their latent response curves, the logging policy, and the daily logs they produce.

Each pair i has a latent rate curve ``lam_i(n) = a_i * season(day) * (1 - exp(-n / s_i))``: spend
events grow with the number of creatives n with diminishing returns that differ by pair (s_i is
the pair's saturation scale). A day's cost is zero with probability ``exp(-lam)``; otherwise it is
log-normal with a pair-specific mean, so that ``E[cost | n] = lam_i(n) * mu_i`` — non-decreasing
and concave in n. ``a_i`` and ``mu_i`` carry effects of the account, product and industry, so the
sparse features and the pair's history both predict them. The logging policy keeps a habitual
level per pair and explores other levels on a share of days. Defaults give ≈98% zero-cost rows,
mean ≈0.8, std ≈40, and a cap of 20000 (the paper's Table 1).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from acq_spark.config import SimulateConfig
from acq_spark.simulate.randomness import normal, uniform


@dataclass(frozen=True, kw_only=True)
class WorldParams(SimulateConfig):
    """Everything that defines a simulated world; stored beside its tables.

    The ``simulate.*`` settings (:class:`~acq_spark.config.SimulateConfig`, defined once there), the
    levels and the seed, and the constants of the world's model below.
    """

    levels: tuple[int, ...]
    seed: int
    rate_median: float = 0.026          # median of a_i, the spend-event rate at saturation
    rate_sigma: float = 0.45            # pair-level log-sd of a_i (on top of group effects)
    group_sigma: float = 0.4            # log-sd of account, product and industry effects
    mean_cost_median: float = 26.0      # median of mu_i, the mean cost of one spend event
    mean_cost_sigma: float = 1.0        # log-sd of mu_i across pairs
    within_sigma: float = 1.8           # log-sd of a positive day's cost around its mean
    saturation_min: float = 2.0         # s_i is log-uniform in [saturation_min, saturation_max]
    saturation_max: float = 60.0
    season_amplitude: float = 0.1       # weekly seasonality of all rates
    explore_share: float = 0.3          # share of days the logging policy explores a random level
    off_level_share: float = 0.1        # share of days with a count between two levels
    paused_share: float = 0.02          # share of days with zero creatives (cost 0)
    new_pair_share: float = 0.45        # pairs that start inside the window (the rest exist before it)
    max_cost: float = 20000.0

    @property
    def decision_date(self) -> dt.date:
        """The day after the last simulated day: the day the truth is for."""
        return self.start_date + dt.timedelta(days=self.n_days)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["start_date"] = self.start_date.isoformat()
        d["levels"] = list(self.levels)
        d["decision_date"] = self.decision_date.isoformat()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> WorldParams:
        """The world :meth:`to_dict` stored (``artifacts/simulation.json``)."""
        values = {k: v for k, v in d.items() if k != "decision_date"}
        return cls(**{**values, "start_date": dt.date.fromisoformat(values["start_date"]),
                      "levels": tuple(values["levels"])})  # fmt: skip

    def day_of(self, day: dt.date) -> int:
        """World day index of the date ``day`` (days since ``start_date``)."""
        return (day - self.start_date).days


def _level_at(levels: tuple[int, ...], index: Column) -> Column:
    return F.element_at(F.array(*[F.lit(v) for v in levels]), index.cast("int") + 1)


def arrivals_per_day(p: WorldParams) -> int:
    """Pairs that start on each day after the world's window: the rate at which late pairs start inside it."""
    return round(p.n_pairs * p.new_pair_share / max(1, p.n_days - 1))


def simulate_pairs(spark: SparkSession, p: WorldParams, through_day: int | None = None) -> DataFrame:
    """One row per pair with its keys, sparse attributes and latent parameters (a_i, mu_i, s_i, habit).

    The world's ``n_pairs``; with ``through_day`` past the window (a day the closed loop logs), also the
    pairs that arrive on each day from ``n_days`` to it, :func:`arrivals_per_day` a day, drawn as the others
    (ids after ``n_pairs``, in the same accounts).
    """
    s = p.seed
    n_accounts = max(1, math.ceil(p.n_pairs / p.pairs_per_account))
    pid = F.col("pair_id")
    per_day = arrivals_per_day(p)
    later = max(0, through_day - p.n_days + 1) * per_day if through_day is not None else 0
    pairs = spark.range(0, p.n_pairs + later, numPartitions=p.partitions).withColumnRenamed("id", "pair_id")
    pairs = pairs.withColumn("account_id", (uniform(s, "account", pid) * n_accounts).cast("long") + 100_000)
    acc = F.col("account_id")
    pairs = (
        pairs.withColumn("photo_id", pid * 7 + 5_000_000_000 + (uniform(s, "photo", pid) * 7).cast("long"))
        .withColumn("product", (uniform(s, "product", acc) * p.n_products).cast("int"))
        .withColumn("l2", (uniform(s, "l2", F.col("product")) * p.n_industries_l2).cast("int"))
        .withColumn("l1", F.col("l2") % p.n_industries_l1)
        .withColumn("product_name", F.format_string("product_%04d", F.col("product")))
        .withColumn("industry_l2", F.format_string("industry2_%03d", F.col("l2")))
        .withColumn("industry_l1", F.format_string("industry1_%02d", F.col("l1")))
    )
    g = p.group_sigma
    log_a = (
        F.lit(math.log(p.rate_median))
        + g * normal(s, "eff_account", acc)
        + g * normal(s, "eff_product", F.col("product"))
        + g * normal(s, "eff_l2", F.col("l2"))
        + p.rate_sigma * normal(s, "eff_pair", pid)
    )
    log_mu = F.lit(math.log(p.mean_cost_median)) + 0.5 * g * normal(s, "mu_l1", F.col("l1")) + (
        p.mean_cost_sigma * normal(s, "mu_pair", pid)
    )
    log_s = math.log(p.saturation_min) + uniform(s, "saturation", pid) * math.log(p.saturation_max / p.saturation_min)
    # The habitual level leans to more creatives for pairs whose rate is high (a sensible, imperfect policy).
    habit = F.least(
        F.lit(len(p.levels) - 1),
        F.greatest(F.lit(0), F.round((log_a - math.log(p.rate_median)) * 2 + 3 + 2 * normal(s, "habit", pid))),
    ).cast("int")
    starts_late = uniform(s, "new", pid) < p.new_pair_share
    start_day = F.when(starts_late, 1 + (uniform(s, "start", pid) * (p.n_days - 1)).cast("int")).otherwise(0)
    if later:
        arrival = F.lit(p.n_days) + ((pid - p.n_pairs) / F.lit(max(1, per_day))).cast("int")
        start_day = F.when(pid >= p.n_pairs, arrival).otherwise(start_day)
    return pairs.select(
        "pair_id", "account_id", "photo_id", "product_name", "industry_l1", "industry_l2",
        F.exp(log_a).alias("a"),
        F.exp(log_mu).alias("mu"),
        F.exp(log_s).alias("sat"),
        habit.alias("habit"),
        start_day.alias("start_day"),
    )  # fmt: skip


def _season(p: WorldParams, day: Column) -> Column:
    return F.lit(1.0) + p.season_amplitude * F.sin(day.cast("double") * (2 * math.pi / 7))


def expected_cost(p: WorldParams, a: Column, mu: Column, sat: Column, day: Column, n: Column) -> Column:
    """The true expected cost of a pair on ``day`` with ``n`` creatives: a·season·(1−e^{−n/s})·mu."""
    return a * _season(p, day) * (F.lit(1.0) - F.exp(-n.cast("double") / sat)) * mu


def policy_creatives(p: WorldParams) -> Column:
    """The logging policy's creatives for the row's (``pair_id``, ``day``): the habit, explored on a share of days.

    Some days land between two levels (the job maps them down to the largest level <= n), some are paused.
    """
    s = p.seed
    keys = (F.col("pair_id"), F.col("day"))
    k_max = len(p.levels) - 1
    explore = uniform(s, "explore", *keys) < p.explore_share
    idx = F.when(explore, (uniform(s, "explore_level", *keys) * (k_max + 1)).cast("int")).otherwise(F.col("habit"))
    base_n = _level_at(p.levels, idx)
    next_n = _level_at(p.levels, F.least(idx + 1, F.lit(k_max)))
    off = (uniform(s, "off_level", *keys) < p.off_level_share) & (next_n > base_n + 1)
    n = F.when(off, base_n + 1 + (uniform(s, "off_n", *keys) * (next_n - base_n - 1)).cast("int")).otherwise(base_n)
    return F.when(uniform(s, "paused", *keys) < p.paused_share, F.lit(0)).otherwise(n).cast("int")


def simulate_daily(pairs: DataFrame, p: WorldParams) -> DataFrame:
    """The ``creative_daily`` log of spec §2 for days 0..n_days-1, from the pairs' latent parameters."""
    spark = pairs.sparkSession
    days = spark.range(0, p.n_days).withColumnRenamed("id", "day").withColumn("day", F.col("day").cast("int"))
    rows = pairs.crossJoin(F.broadcast(days)).where(F.col("day") >= F.col("start_day"))
    return logged(rows.withColumn("n_creatives", policy_creatives(p)), p)


def simulate_day(pairs: DataFrame, p: WorldParams, day: int, creatives: DataFrame | None = None) -> DataFrame:
    """The ``creative_daily`` log of world day ``day`` (any day, the decision day and later too).

    Args:
        pairs: :func:`simulate_pairs`' rows; those started by ``day`` log it, as on the world's own days.
        p: the world.
        day: days since ``start_date``.
        creatives: (``account_id``, ``photo_id``, ``n_creatives``) the pairs run that day, exactly (a
            published allocation); a pair without a row runs what the logging policy gives it. None: every
            pair runs the policy's, the row of :func:`simulate_daily` for that day.
    """
    rows = pairs.where(F.col("start_day") <= day).withColumn("day", F.lit(day).cast("int"))
    n = policy_creatives(p)
    if creatives is not None:
        given = creatives.select("account_id", "photo_id", F.col("n_creatives").cast("int").alias("_given"))
        rows = rows.join(given, on=["account_id", "photo_id"], how="left")
        n = F.coalesce(F.col("_given"), n)
    return logged(rows.withColumn("n_creatives", n), p)


def logged(rows: DataFrame, p: WorldParams) -> DataFrame:
    """The log rows of (pair, ``day``, ``n_creatives``): cost, conversions and impressions drawn by the world.

    Every draw is keyed by (seed, pair, day), so a day's noise is the same whatever the creatives, and the
    cost is non-decreasing in them pair by pair (a larger rate is positive on more draws, by more).
    """
    s = p.seed
    keys = (F.col("pair_id"), F.col("day"))
    lam = F.col("a") * _season(p, F.col("day")) * (F.lit(1.0) - F.exp(-F.col("n_creatives") / F.col("sat")))
    positive = uniform(s, "positive", *keys) > F.exp(-lam)
    # Given a positive day, the cost's mean is lam*mu / P(positive) so that E[cost] = lam * mu.
    cond_mean = lam * F.col("mu") / (F.lit(1.0) - F.exp(-lam))
    w = p.within_sigma
    draw = cond_mean * F.exp(w * normal(s, "cost", *keys) - w * w / 2)
    cost = F.when(positive & (F.col("n_creatives") > 0), F.least(draw, F.lit(p.max_cost))).otherwise(F.lit(0.0))
    rows = rows.withColumn("cost", F.round(cost, 4))
    cpa = F.col("mu") * 3 * F.exp(0.3 * normal(s, "cpa", F.col("pair_id")))
    conversions = F.floor(F.col("cost") / cpa + uniform(s, "conv", *keys)).cast("long")
    impressions = F.floor(
        F.col("cost") * 40 * uniform(s, "imp_cost", *keys) + F.col("n_creatives") * 30 * uniform(s, "imp_n", *keys)
    ).cast("long")
    target = F.when(F.col("n_creatives") > 0, F.round(cpa * (0.8 + 0.4 * uniform(s, "target", *keys)), 2))
    return rows.select(
        F.date_add(F.lit(p.start_date), F.col("day")).alias("dt"),
        "account_id",
        "photo_id",
        "product_name",
        "industry_l1",
        "industry_l2",
        "n_creatives",
        "cost",
        F.coalesce(target, F.lit(0.0)).alias("target_cost"),
        conversions.alias("conversions"),
        impressions.alias("impressions"),
    )


def simulate_truth(pairs: DataFrame, p: WorldParams, day: int | None = None) -> DataFrame:
    """The true expected cost of every pair at every level on world day ``day`` (``expected_cost`` array).

    None: the decision day (``n_days``). Every pair of the world has a row, as every pair is scored.
    """
    day = p.n_days if day is None else day
    curve = F.array(
        *[expected_cost(p, F.col("a"), F.col("mu"), F.col("sat"), F.lit(day), F.lit(n)) for n in p.levels]
    )
    return pairs.select(
        F.lit(p.start_date + dt.timedelta(days=day)).alias("dt"),
        "account_id",
        "photo_id",
        curve.alias("expected_cost"),
        F.array(*[F.lit(n) for n in p.levels]).alias("levels"),
    )
