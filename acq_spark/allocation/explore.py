"""Exploration in the published allocation: a share of the pairs at a random level, the method on the rest.

From the second night on, the model learns from the logs of its own allocations, and a pair the
allocation gives one creative is never seen at fifty: the logs narrow night after night (BENCHMARKS.md,
the closed loop's control arm). ``allocation.explore_share`` of the pairs, drawn by a hash of the seed,
the decision day and the pair (other pairs every night), run a level drawn uniformly from the levels,
as the simulated world's logging policy explores, or, with ``allocation.explore_steps`` > 0, a level a
few steps above or below the one the method gives them (a solve of every pair first), so that the logs
show each explored pair beside its own level rather than anywhere. Their creatives come out of the budget
first and the configured method allocates the other pairs with the rest. Their rows carry the method
``explore`` and no λ, so the logs say which of a pair's days were explored. With a holdout only treatment
pairs explore: the control arm stays the baseline it stands for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from acq_spark.allocation.tables import KEYS, at_levels, pairs_and_creatives
from acq_spark.platform.caching import cached
from acq_spark.simulate.randomness import uniform

EXPLORE = "explore"


def explored(seed: int, day: dt.date, share: float) -> Column:
    """Whether a pair (``account_id``, ``photo_id``) explores on ``day``: a hash of the seed, the day and the pair."""
    return uniform(seed, f"explore/{day.isoformat()}", *[F.col(k) for k in KEYS]) < F.lit(share)


def explore_level(seed: int, day: dt.date, n_levels: int) -> Column:
    """The level index an exploring pair runs on ``day``: uniform over ``0 .. n_levels - 1``."""
    u = uniform(seed, f"explore_level/{day.isoformat()}", *[F.col(k) for k in KEYS])
    return F.least((u * F.lit(n_levels)).cast("int"), F.lit(n_levels - 1))


def level_near(seed: int, day: dt.date, n_levels: int, steps: int, reference: Column) -> Column:
    """The level index an exploring pair runs on ``day`` near ``reference`` (the level the method gives it).

    ``reference`` moved by 1 to ``steps`` levels, up or down, each of the ``2 * steps`` moves equally likely;
    a move past the first or the last level goes the other way (a pair at the smallest level goes up).
    """
    u = uniform(seed, f"explore_level/{day.isoformat()}", *[F.col(k) for k in KEYS])
    k = F.least((u * F.lit(2 * steps)).cast("int"), F.lit(2 * steps - 1))
    move = F.when(k < steps, k - F.lit(steps)).otherwise(k - F.lit(steps - 1))  # -steps..-1, 1..steps
    moved = reference + move
    inside = (moved >= 0) & (moved <= n_levels - 1)
    return F.least(F.greatest(F.when(inside, moved).otherwise(reference - move), F.lit(0)), F.lit(n_levels - 1))


def explore_allocation(
    scores: DataFrame, levels: Sequence[int], seed: int, day: dt.date, reference: DataFrame | None = None,
    steps: int = 0,
) -> DataFrame:
    """Each pair of ``scores`` at its drawn level: account_id, photo_id, level, n_creatives, r (a solve's columns).

    ``reference``: (account_id, photo_id, level) the method's own solve; with ``steps`` > 0 the level is drawn
    :func:`level_near` it, otherwise uniformly.
    """
    if reference is not None and steps > 0:
        ref = reference.select(*KEYS, F.col("level").alias("_reference"))
        near = level_near(seed, day, len(levels), steps, F.col("_reference"))
        drawn = scores.join(ref, on=list(KEYS), how="inner").select(*KEYS, near.alias("level"), "r")
    else:
        drawn = scores.select(*KEYS, explore_level(seed, day, len(levels)).alias("level"), "r")  # the hash once a row
    return at_levels(drawn, F.col("level"), levels)


@dataclass(frozen=True)
class Exploration:
    """A day's exploration: the configured share, the pairs that explored, the creatives they took and the
    configured steps (0: uniform levels)."""

    share: float
    pairs: int
    creatives: int
    steps: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def split_explored(
    scores: DataFrame, levels: Sequence[int], share: float, seed: int, day: dt.date, eligible: Column, held: ExitStack,
    reference: DataFrame | None = None, steps: int = 0,
) -> tuple[DataFrame, DataFrame, Exploration]:
    """Split ``scores`` into the exploring pairs' allocation (cached in ``held``) and the other pairs' scores.

    ``eligible``: the pairs that may explore (every pair, or a holdout's treatment arm); ``reference`` and
    ``steps``: as :func:`explore_allocation`.
    """
    flag = explored(seed, day, share) & eligible
    table = held.enter_context(cached(explore_allocation(scores.where(flag), levels, seed, day, reference, steps)))
    return table, scores.where(~flag), Exploration(share, *pairs_and_creatives(table), steps)
