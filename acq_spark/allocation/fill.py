"""Layer 3, on the driver: breaking the ties at λ* so the allocation uses the budget (never above C).

Taking every tied step (slope exactly λ*) costs U_hi > C when λ* > 0. Tied pairs are upgraded in the
fixed pair-hash order: pairs before the cut pair take all their tied steps, the cut pair as many as
fit, the rest none, so C − used is below the cut pair's next tied step. The upgrade cost per hash
bucket finds the cut bucket without collecting every tied pair; the tie statistics come from the
search's collected steps when it has them, else from a pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from acq_spark.allocation.kernels.histogram import StepSample
from acq_spark.allocation.kernels.keys import key_order
from acq_spark.allocation.kernels.ties import FillPlan, TiedPairs, TieStats
from acq_spark.allocation.search import SearchResult

if TYPE_CHECKING:
    from acq_spark.allocation.passes import Passes


def fill(passes: Passes, found: SearchResult, budget: int, tie_limit: int) -> tuple[FillPlan, TieStats, int]:
    """The tie-break plan at the λ* the search ``found``, the tie statistics and the passes it took (0–2)."""
    lam = found.lam
    if found.sample is not None and found.totals is not None:
        tied = tied_from_sample(found.sample, lam)
        stats = TieStats.of(lam, found.n, found.totals, tied.h, tied.dc.sum(axis=1), tied.dr.sum(axis=1), tied)
        passes_taken = 0
    else:
        stats, passes_taken = passes.tie_stats(lam, tie_limit), 1
    plan, extra = plan_fill(stats, budget, lambda b: passes.tied_in_bucket(lam, b))
    return plan, stats, passes_taken + extra


def plan_fill(stats: TieStats, budget: int, fetch_bucket: Callable[[int], TiedPairs]) -> tuple[FillPlan, int]:
    """Decide which tied pairs are upgraded to fill ``budget`` (≥ ``stats.totals.used_lo``).

    ``fetch_bucket`` is one pass: the tied pairs of a hash bucket (only when ``stats.tied`` is None).

    Returns:
        The :class:`FillPlan` and the number of extra passes it took (0 or 1).
    """
    used_lo, used_hi, r_lo = stats.totals
    room = budget - used_lo
    if room < 0:
        raise ValueError(f"λ={stats.lam!r} is below λ*: the cheapest levels use {used_lo:,} > {budget:,}")
    if used_hi <= budget:
        value = r_lo + float(stats.bucket_dr.sum())
        return FillPlan(stats.lam, None, 0, used_hi, value, stats.n_tied, 0), 0
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
    used = used_lo + done_cost + (int(partial[take - 1]) if take else 0)
    value = r_lo + prior_dr + float(pairs.dr[order[:q]].sum()) + float(pairs.dr[row, :take].sum())
    cut = (int(pairs.h[row]), int(pairs.account[row]), int(pairs.photo[row]))
    return FillPlan(stats.lam, cut, take, used, value, prior_n + q + (take > 0), int(pairs.dc[row, take])), passes


def tied_from_sample(sample: StepSample, lam: float) -> TiedPairs:
    """The pairs tied at λ, from collected steps that include every step of slope λ."""
    pick = sample.slope == lam
    h, acc, pho, step, dc, dr = (x[pick] for x in (sample.h, sample.account, sample.photo, sample.step, sample.dc,
                                                   sample.dr))
    order = np.lexsort((step, pho, acc, h))
    h, acc, pho, dc, dr = h[order], acc[order], pho[order], dc[order], dr[order]
    first = np.ones(h.size, bool)
    first[1:] = (h[1:] != h[:-1]) | (acc[1:] != acc[:-1]) | (pho[1:] != pho[:-1])
    group = np.cumsum(first) - 1
    starts = np.nonzero(first)[0]
    pos = np.arange(h.size) - starts[group]
    width = int(pos.max()) + 1 if h.size else 0
    out_dc = np.zeros((starts.size, width), np.int64)
    out_dr = np.zeros((starts.size, width))
    out_dc[group, pos] = dc
    out_dr[group, pos] = dr
    return TiedPairs(h[starts], acc[starts], pho[starts], out_dc, out_dr)
