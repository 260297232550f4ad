"""The UCB-style exploration bonus and r = pvalue + β·explore (paper Eq. 2). Pure NumPy."""

from __future__ import annotations

import numpy as np


def ucb_explore(std: np.ndarray, obs_per_level: np.ndarray) -> np.ndarray:
    """explore_k = std_k · sqrt(2 ln(1 + Σ_j n_j) / (1 + n_k)).

    Grows with the predicted uncertainty ``std`` and shrinks with how often the pair was observed at
    level k (``n_k``) relative to its observations overall, as in UCB1.

    Args:
        std: [N, K] predictive standard deviation of the cost at each level.
        obs_per_level: [N, K] days the pair was observed at each level in the feature window.

    Returns:
        [N, K] non-negative bonuses.
    """
    obs = np.asarray(obs_per_level, dtype=np.float64)
    total = obs.sum(axis=1, keepdims=True)
    return np.asarray(std, dtype=np.float64) * np.sqrt(2.0 * np.log1p(total) / (1.0 + obs))


def reward(pvalue: np.ndarray, explore: np.ndarray, beta: float) -> np.ndarray:
    """r = pvalue + β · explore; β = 0 switches exploration off."""
    return np.asarray(pvalue, dtype=np.float64) + beta * np.asarray(explore, dtype=np.float64)
