"""Pair keys and the order tied pairs are upgraded in: a splitmix64 mix of (account_id, photo_id), then the keys.

The order is the same on every partitioning and run, and spreads accounts evenly, so the pairs that
get a budget's last creatives are not always the same accounts' smallest ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The order's coarse buckets (top bits of the hash) used to find the cut of the budget in one pass.
BUCKET_BITS = 16

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def pair_hash(account: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """(m,) uint64 splitmix64 hash of (account_id, photo_id) (int64 arrays; wraps on overflow)."""
    a = np.ascontiguousarray(account, dtype=np.int64).view(np.uint64)
    p = np.ascontiguousarray(photo, dtype=np.int64).view(np.uint64)
    with np.errstate(over="ignore"):
        z = a * _GOLDEN + p + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


def bucket_of(h: np.ndarray) -> np.ndarray:
    """(m,) int64 bucket (top :data:`BUCKET_BITS` bits) of each hash."""
    return (h >> np.uint64(64 - BUCKET_BITS)).astype(np.int64)


@dataclass(frozen=True)
class PairKeys:
    """The keys of a block of pairs and their hash."""

    account: np.ndarray
    photo: np.ndarray
    h: np.ndarray

    @classmethod
    def of(cls, account: np.ndarray, photo: np.ndarray) -> PairKeys:
        """Keys from int64 arrays of account and photo ids."""
        account = np.asarray(account, dtype=np.int64)
        photo = np.asarray(photo, dtype=np.int64)
        return cls(account, photo, pair_hash(account, photo))


def key_order(h: np.ndarray, account: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """Indices that sort pairs by (hash, account_id, photo_id)."""
    return np.lexsort((photo, account, h))


def before(h: np.ndarray, account: np.ndarray, photo: np.ndarray, cut: tuple[int, int, int]) -> np.ndarray:
    """(m,) whether each pair comes strictly before the pair ``cut`` = (hash, account, photo)."""
    ch, ca, cp = np.uint64(cut[0]), cut[1], cut[2]
    return (h < ch) | ((h == ch) & ((account < ca) | ((account == ca) & (photo < cp))))
