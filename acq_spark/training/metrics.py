"""Offline metrics of the paper's Table 2 (AUC, MSE, PAUC, GAUC), NumPy only, O(n log n).

Ties count half everywhere: a pair whose scores are equal contributes 0.5. A metric
that is undefined on its input (one label class only, fewer than two distinct costs,
no eligible account) is NaN.
"""

from __future__ import annotations

import numpy as np


def _average_ranks(groups: np.ndarray, score: np.ndarray) -> np.ndarray:
    """1-based ranks of ``score`` within each group, tied scores sharing their average rank.

    Args:
        groups: int64 ``[N]`` group codes.
        score: float64 ``[N]``.

    Returns:
        float64 ``[N]`` ranks, aligned with the input rows.
    """
    n = score.size
    order = np.lexsort((score, groups))
    g, s = groups[order], score[order]
    new_group = np.r_[True, g[1:] != g[:-1]]
    new_run = new_group | np.r_[True, s[1:] != s[:-1]]
    position = np.arange(n) - np.maximum.accumulate(np.where(new_group, np.arange(n), 0))  # 0-based within group
    run_id = np.cumsum(new_run) - 1
    run_start = position[new_run]
    run_len = np.bincount(run_id)
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = run_start[run_id] + (run_len[run_id] + 1) / 2.0
    return ranks


def _grouped_auc(groups: np.ndarray, label: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mann-Whitney AUC per group; returns ``(auc [G], defined [G])`` for codes ``0..G-1``."""
    n_groups = int(groups.max()) + 1 if groups.size else 0
    ranks = _average_ranks(groups, score)
    n_pos = np.bincount(groups, weights=label, minlength=n_groups)
    n_all = np.bincount(groups, minlength=n_groups).astype(np.float64)
    n_neg = n_all - n_pos
    rank_sum = np.bincount(groups, weights=ranks * label, minlength=n_groups)
    defined = (n_pos > 0) & (n_neg > 0)
    denom = np.where(defined, n_pos * n_neg, 1.0)
    return np.where(defined, (rank_sum - n_pos * (n_pos + 1) / 2.0) / denom, np.nan), defined


def auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC: P(score of a random positive > score of a random negative), ties half.

    Args:
        y_true: ``[N]`` binary labels (nonzero = positive).
        score: ``[N]`` scores.

    Returns:
        The AUC, or NaN when one class is missing.
    """
    label = (np.asarray(y_true) != 0).astype(np.float64)
    value, _ = _grouped_auc(np.zeros(label.size, dtype=np.int64), label, np.asarray(score, dtype=np.float64))
    return float(value[0]) if value.size else float("nan")


def mse(y_true: np.ndarray, pred: np.ndarray) -> float:
    """Mean squared error of ``pred`` against ``y_true`` (both ``[N]``), in float64."""
    diff = np.asarray(pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    return float(np.mean(diff * diff))


def _count_inversions(values: np.ndarray) -> int:
    """Pairs ``i < j`` with ``values[i] > values[j]``: a vectorised bottom-up merge sort.

    Args:
        values: int64 ``[N]`` dense ranks in ``[0, N)``.
    """
    n = values.size
    a = values.astype(np.int64)
    index = np.arange(n, dtype=np.int64)
    inversions = 0
    width = 1
    while width < n:
        block = index // (2 * width)
        key = block * n + a  # each width-run of ``a`` is sorted, so keys of left halves are sorted globally
        right = (index // width) % 2 == 1
        left_keys = key[~right]
        block_end = np.searchsorted(left_keys, block[right] * n + (n - 1), side="right")
        not_greater = np.searchsorted(left_keys, key[right], side="right")
        inversions += int((block_end - not_greater).sum())
        a = np.sort(key, kind="stable") - block * n  # merge: two sorted runs per block
        width *= 2
    return inversions


def _dense_rank(x: np.ndarray) -> np.ndarray:
    return np.unique(x, return_inverse=True)[1].astype(np.int64)


def _tied_pairs(*keys: np.ndarray) -> int:
    _, counts = np.unique(np.stack(keys, axis=1), axis=0, return_counts=True)
    return int((counts * (counts - 1) // 2).sum())


def pauc(cost: np.ndarray, pred: np.ndarray) -> float:
    """Positive AUC: concordance of ``pred`` with ``cost`` over pairs of positive-cost rows.

    Among rows with ``cost > 0``, every pair with different costs counts 1 when the
    higher cost has the higher prediction, 0.5 when the predictions tie, 0 otherwise
    (Harrell's C). Pairs of equal cost are not ordered and do not count.

    Args:
        cost: ``[N]`` true costs.
        pred: ``[N]`` predicted costs.

    Returns:
        The concordance in [0, 1], or NaN with fewer than two distinct positive costs.
    """
    cost, pred = np.asarray(cost, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    keep = cost > 0
    x, y = _dense_rank(cost[keep]), _dense_rank(pred[keep])
    n = x.size
    if n < 2:
        return float("nan")
    pairs = n * (n - 1) // 2 - _tied_pairs(x)
    if pairs == 0:
        return float("nan")
    tied_pred = _tied_pairs(y) - _tied_pairs(x, y)  # pred tied, cost not
    order = np.lexsort((y, x))
    discordant = _count_inversions(y[order])
    concordant = pairs - tied_pred - discordant
    return (concordant + 0.5 * tied_pred) / pairs


def gauc(account_ids: np.ndarray, cost: np.ndarray, pred: np.ndarray) -> float:
    """Cost-weighted group AUC: per-account AUC of ``cost > 0``, weighted by the account's total cost.

    Accounts whose rows all have one label class are skipped.

    Args:
        account_ids: ``[N]`` account keys (any sortable dtype).
        cost: ``[N]`` true costs (label = ``cost > 0``; weight = the account's sum).
        pred: ``[N]`` predicted costs.

    Returns:
        The weighted mean AUC, or NaN when no account has both classes.
    """
    cost = np.asarray(cost, dtype=np.float64)
    groups = _dense_rank(np.asarray(account_ids))
    values, defined = _grouped_auc(groups, (cost > 0).astype(np.float64), np.asarray(pred, dtype=np.float64))
    weights = np.bincount(groups, weights=cost, minlength=values.size)[defined]
    if not defined.any() or weights.sum() <= 0:
        return float("nan")
    return float(np.sum(values[defined] * weights) / weights.sum())
