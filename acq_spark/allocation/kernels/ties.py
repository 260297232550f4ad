"""The pairs tied at λ* (steps of slope exactly λ*): their totals, upgrade cost per hash bucket, the pairs.

One pass (:func:`tie_stats`) sums U_lo, U_hi and the tied pairs' upgrade cost per bucket of the pair
hash, with the tied pairs themselves when they are few; else :func:`tied_in_bucket` fetches one bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acq_spark.allocation.kernels.dual import Totals
from acq_spark.allocation.kernels.histogram import reduce_by
from acq_spark.allocation.kernels.hull import Steps
from acq_spark.allocation.kernels.keys import PairKeys, before, bucket_of

#: The most tied pairs shipped to the driver as they are; beyond, the budget cut goes by hash bucket.
TIE_LIMIT = 100_000


@dataclass(frozen=True)
class TiedPairs:
    """Tied pairs: keys, hash, and their tied steps' costs and values, left-aligned, in step order."""

    h: np.ndarray
    account: np.ndarray
    photo: np.ndarray
    dc: np.ndarray
    dr: np.ndarray

    def __len__(self) -> int:
        return int(self.h.shape[0])

    def __add__(self, other: TiedPairs) -> TiedPairs:
        width = max(self.dc.shape[1], other.dc.shape[1])

        def padded(a: np.ndarray) -> np.ndarray:  # the (m, width) step columns; keys and hash as they are
            return np.pad(a, ((0, 0), (0, width - a.shape[1]))) if a.ndim == 2 else a

        pairs = zip(vars(self).values(), vars(other).values(), strict=True)
        return TiedPairs(*(np.concatenate([padded(a), padded(b)]) for a, b in pairs))


@dataclass(frozen=True)
class TieStats:
    """Totals at λ and the tied pairs' upgrade costs per hash bucket; ``tied`` when few enough."""

    lam: float
    n: int
    totals: Totals
    n_tied: int
    buckets: np.ndarray
    bucket_count: np.ndarray
    bucket_cost: np.ndarray
    bucket_dr: np.ndarray
    tied: TiedPairs | None
    limit: int = TIE_LIMIT

    def __add__(self, other: TieStats) -> TieStats:
        ids, inv = np.unique(np.concatenate([self.buckets, other.buckets]), return_inverse=True)

        def merged(name: str) -> np.ndarray:
            return reduce_by(inv, ids.size, np.concatenate([getattr(self, name), getattr(other, name)]))

        tied = None if self.tied is None or other.tied is None else self.tied + other.tied
        if tied is not None and len(tied) > self.limit:
            tied = None  # too many to ship to the driver: the cut goes by hash bucket
        return TieStats(
            self.lam, self.n + other.n, self.totals + other.totals, self.n_tied + other.n_tied, ids,
            merged("bucket_count"), merged("bucket_cost"), merged("bucket_dr"), tied, self.limit,
        )

    @classmethod
    def of(cls, lam: float, n: int, totals: Totals, h: np.ndarray, dc: np.ndarray, dr: np.ndarray,
           tied: TiedPairs | None, limit: int = TIE_LIMIT) -> TieStats:
        """The statistics of tied pairs with hashes ``h`` and full upgrade costs ``dc`` and values ``dr``."""
        ids, inv = np.unique(bucket_of(h), return_inverse=True)
        return cls(
            lam, n, totals, int(h.size), ids, np.bincount(inv, minlength=ids.size).astype(np.int64),
            np.bincount(inv, weights=dc, minlength=ids.size).astype(np.int64),
            np.bincount(inv, weights=dr, minlength=ids.size), tied, limit,
        )


def _tied_rows(steps: Steps, lam: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    gt = steps.slope > lam
    eq = steps.slope == lam
    return gt, eq, np.nonzero(eq.any(axis=1))[0]


def _tied_pairs(steps: Steps, keys: PairKeys, gt: np.ndarray, eq: np.ndarray, rows: np.ndarray) -> TiedPairs:
    n_eq = eq[rows].sum(axis=1)
    width = int(n_eq.max()) if rows.size else 0
    start = gt[rows].sum(axis=1)
    cols = np.minimum(start[:, None] + np.arange(width)[None, :], steps.slope.shape[1] - 1)
    inside = np.arange(width)[None, :] < n_eq[:, None]
    dc = np.where(inside, np.take_along_axis(steps.dc[rows], cols, axis=1), 0).astype(np.int64)
    dr = np.where(inside, np.take_along_axis(steps.dr[rows], cols, axis=1), 0.0)
    return TiedPairs(keys.h[rows], keys.account[rows], keys.photo[rows], dc, dr)


def tie_stats(steps: Steps, keys: PairKeys, lam: float, limit: int) -> TieStats:
    """One block's :class:`TieStats` at λ, with its tied pairs themselves when at most ``limit``."""
    gt, eq, rows = _tied_rows(steps, lam)
    totals = Totals.split(int(steps.base_cost.sum()), float(steps.base_r.sum()), steps.dc, steps.dr, gt, eq)
    full_dc = (steps.dc * eq).sum(axis=1)[rows]
    full_dr = (steps.dr * eq).sum(axis=1)[rows]
    tied = _tied_pairs(steps, keys, gt, eq, rows) if rows.size <= limit else None
    return TieStats.of(lam, steps.n, totals, keys.h[rows], full_dc, full_dr, tied, limit)


def tied_in_bucket(steps: Steps, keys: PairKeys, lam: float, bucket: int) -> TiedPairs:
    """The block's pairs tied at λ whose hash falls in ``bucket``."""
    gt, eq, rows = _tied_rows(steps, lam)
    rows = rows[bucket_of(keys.h[rows]) == bucket]
    return _tied_pairs(steps, keys, gt, eq, rows)


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
    n_upgraded: int
    cut_gap: int


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

