"""The pairs tied at λ*: their totals, their upgrade cost per hash bucket, and the pairs themselves.

At λ* every pair takes its steps of slope > λ* (cost U_lo); its steps of slope exactly λ* are ties.
One pass (:func:`tie_stats`) sums U_lo, U_hi and the tied pairs' full upgrade cost per bucket of
:func:`~acq_spark.allocation.keys.pair_hash` and returns the tied pairs themselves when they are
few; with many ties (e.g. all-equal r) a second pass (:func:`tied_in_bucket`) fetches one bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acq_spark.allocation.histogram import StepSample
from acq_spark.allocation.hull import Steps
from acq_spark.allocation.keys import PairKeys, bucket_of

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
        return TiedPairs(
            np.concatenate([self.h, other.h]),
            np.concatenate([self.account, other.account]),
            np.concatenate([self.photo, other.photo]),
            np.concatenate([_pad(self.dc, width), _pad(other.dc, width)]),
            np.concatenate([_pad(self.dr, width), _pad(other.dr, width)]),
        )


def no_tied_pairs() -> TiedPairs:
    """The empty set of tied pairs."""
    i = np.empty(0, np.int64)
    return TiedPairs(np.empty(0, np.uint64), i, i, np.empty((0, 0), np.int64), np.empty((0, 0)))


@dataclass(frozen=True)
class TieStats:
    """Totals at λ and the tied pairs' upgrade costs per hash bucket; ``tied`` when few enough."""

    lam: float
    n: int
    used_lo: int
    used_hi: int
    r_lo: float
    n_tied: int
    buckets: np.ndarray
    bucket_count: np.ndarray
    bucket_cost: np.ndarray
    bucket_dr: np.ndarray
    tied: TiedPairs | None
    limit: int = TIE_LIMIT

    def __add__(self, other: TieStats) -> TieStats:
        ids, inv = np.unique(np.concatenate([self.buckets, other.buckets]), return_inverse=True)

        def merged(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            out = np.zeros(ids.size, a.dtype)
            np.add.at(out, inv, np.concatenate([a, b]))
            return out

        tied = None if self.tied is None or other.tied is None else self.tied + other.tied
        if tied is not None and len(tied) > self.limit:
            tied = None  # too many to ship to the driver: the cut goes by hash bucket
        return TieStats(
            self.lam, self.n + other.n, self.used_lo + other.used_lo, self.used_hi + other.used_hi,
            self.r_lo + other.r_lo, self.n_tied + other.n_tied, ids,
            merged(self.bucket_count, other.bucket_count), merged(self.bucket_cost, other.bucket_cost),
            merged(self.bucket_dr, other.bucket_dr), tied, self.limit,
        )


def empty_tie_stats(lam: float, limit: int = TIE_LIMIT) -> TieStats:
    """The statistics of no pairs."""
    i = np.empty(0, np.int64)
    return TieStats(lam, 0, 0, 0, 0.0, 0, i, i, i, np.empty(0), no_tied_pairs(), limit)


def stats_from_tied(lam: float, n: int, totals: tuple[int, int, float], tied: TiedPairs) -> TieStats:
    """:class:`TieStats` from totals at λ and the complete set of tied pairs (no pass needed)."""
    ids, inv = np.unique(bucket_of(tied.h), return_inverse=True)
    used_lo, used_hi, r_lo = totals
    return TieStats(
        lam, n, used_lo, used_hi, r_lo, len(tied), ids,
        np.bincount(inv, minlength=ids.size).astype(np.int64),
        np.bincount(inv, weights=tied.dc.sum(axis=1), minlength=ids.size).astype(np.int64),
        np.bincount(inv, weights=tied.dr.sum(axis=1), minlength=ids.size), tied,
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
    """One block's totals at λ and its tied pairs' upgrade cost per hash bucket.

    Args:
        steps: the block's hull steps.
        keys: the block's pair keys.
        lam: λ*.
        limit: return the tied pairs themselves when the block has at most this many.

    Returns:
        The block's :class:`TieStats`.
    """
    gt, eq, rows = _tied_rows(steps, lam)
    base_c, base_r = int(steps.base_cost.sum()), float(steps.base_r.sum())
    full_dc = (steps.dc * eq).sum(axis=1)[rows]
    full_dr = (steps.dr * eq).sum(axis=1)[rows]
    ids, inv = np.unique(bucket_of(keys.h[rows]), return_inverse=True)
    return TieStats(
        lam=lam,
        n=steps.n,
        used_lo=base_c + int(steps.dc[gt].sum()),
        used_hi=base_c + int(steps.dc[gt].sum()) + int(full_dc.sum()),
        r_lo=base_r + float(steps.dr[gt].sum()),
        n_tied=int(rows.size),
        buckets=ids,
        bucket_count=np.bincount(inv, minlength=ids.size).astype(np.int64),
        bucket_cost=np.bincount(inv, weights=full_dc, minlength=ids.size).astype(np.int64),
        bucket_dr=np.bincount(inv, weights=full_dr, minlength=ids.size),
        tied=_tied_pairs(steps, keys, gt, eq, rows) if rows.size <= limit else None,
        limit=limit,
    )


def tied_in_bucket(steps: Steps, keys: PairKeys, lam: float, bucket: int) -> TiedPairs:
    """The block's pairs tied at λ whose hash falls in ``bucket``."""
    gt, eq, rows = _tied_rows(steps, lam)
    rows = rows[bucket_of(keys.h[rows]) == bucket]
    return _tied_pairs(steps, keys, gt, eq, rows)


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


def _pad(a: np.ndarray, width: int) -> np.ndarray:
    if a.shape[1] == width:
        return a
    out = np.zeros((a.shape[0], width), a.dtype)
    out[:, : a.shape[1]] = a
    return out
