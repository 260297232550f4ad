"""Breaking the ties at λ* so the allocation uses the budget: never above C, short by less than one step.

Tied steps (slope exactly λ*) are equally good in the Lagrangian; when λ* > 0 taking all of them
costs U_hi > C. Tied pairs are upgraded in a fixed order, by
:func:`~acq_spark.allocation.keys.pair_hash` then keys: every pair before the cut pair takes all its
tied steps, the cut pair as many as still fit, the rest none. So C − used is smaller than the cut
pair's next tied step. The cumulative upgrade cost per hash bucket (:mod:`.ties`) finds the cut
bucket without collecting all tied pairs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from acq_spark.allocation.hull import Steps
from acq_spark.allocation.keys import PairKeys, before, key_order
from acq_spark.allocation.ties import TiedPairs, TieStats


@dataclass(frozen=True)
class FillPlan:
    """How tied pairs are upgraded at λ, and what the allocation then uses and is worth.

    Pairs before ``cut`` (hash, account_id, photo_id) take all their tied steps, the cut pair takes
    ``cut_steps`` of them, later pairs none; ``cut`` None means every tied pair takes all.
    ``cut_gap`` is the cut pair's next tied step: the unused budget is smaller than it.
    """

    lam: float
    cut: tuple[int, int, int] | None
    cut_steps: int
    used: int
    value: float
    used_lo: int
    used_hi: int
    r_lo: float
    n_tied: int
    n_upgraded: int
    cut_gap: int


def plan_fill(
    stats: TieStats, budget: int, fetch_bucket: Callable[[int], TiedPairs]
) -> tuple[FillPlan, int]:
    """Decide which tied pairs are upgraded to fill the budget.

    Args:
        stats: the :class:`TieStats` of all pairs at λ*.
        budget: C (≥ ``stats.used_lo``).
        fetch_bucket: one pass: all tied pairs of a hash bucket (used only when ``stats.tied`` is None).

    Returns:
        The :class:`FillPlan` and the number of extra passes it took (0 or 1).
    """
    room = budget - stats.used_lo
    if room < 0:
        raise ValueError(f"λ={stats.lam!r} is below λ*: the cheapest levels use {stats.used_lo:,} > {budget:,}")
    common = {"lam": stats.lam, "used_lo": stats.used_lo, "used_hi": stats.used_hi, "r_lo": stats.r_lo,
              "n_tied": stats.n_tied}
    if stats.used_hi <= budget:
        value = stats.r_lo + float(stats.bucket_dr.sum())
        return FillPlan(cut=None, cut_steps=0, used=stats.used_hi, value=value, n_upgraded=stats.n_tied, cut_gap=0,
                        **common), 0
    passes = 0
    prior_cost, prior_dr, prior_n = 0, 0.0, 0
    pairs = stats.tied
    if pairs is None:
        cum = np.cumsum(stats.bucket_cost)
        b = int(np.nonzero(cum > room)[0][0])
        prior_cost = int(cum[b] - stats.bucket_cost[b])
        prior_dr = float(stats.bucket_dr[:b].sum())
        prior_n = int(stats.bucket_count[:b].sum())
        pairs = fetch_bucket(int(stats.buckets[b]))
        passes = 1
    order = key_order(pairs.h, pairs.account, pairs.photo)
    full = pairs.dc.sum(axis=1)[order]
    cum = prior_cost + np.cumsum(full)
    q = int(np.nonzero(cum > room)[0][0])
    done_cost = int(cum[q] - full[q])
    row = order[q]
    partial = np.cumsum(pairs.dc[row])
    take = int(np.searchsorted(partial, room - done_cost, side="right"))
    used = stats.used_lo + done_cost + (int(partial[take - 1]) if take else 0)
    value = stats.r_lo + prior_dr + float(pairs.dr[order[:q]].sum()) + float(pairs.dr[row, :take].sum())
    cut = (int(pairs.h[row]), int(pairs.account[row]), int(pairs.photo[row]))
    plan = FillPlan(cut=cut, cut_steps=take, used=used, value=value, n_upgraded=prior_n + q + (take > 0),
                    cut_gap=int(pairs.dc[row, take]), **common)
    return plan, passes


def assign_levels(steps: Steps, keys: PairKeys, plan: FillPlan) -> np.ndarray:
    """(m,) the level index of every pair of a block under ``plan``."""
    n_gt = steps.count_above(plan.lam, strict=True)
    n_eq = steps.count_above(plan.lam, strict=False) - n_gt
    if plan.cut is None:
        take = n_gt + n_eq
    else:
        pre = before(keys.h, keys.account, keys.photo, plan.cut)
        at = (keys.h == np.uint64(plan.cut[0])) & (keys.account == plan.cut[1]) & (keys.photo == plan.cut[2])
        take = n_gt + np.where(pre, n_eq, np.where(at, np.minimum(plan.cut_steps, n_eq), 0))
    return steps.levels_after(take)
