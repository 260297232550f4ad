"""Shared fixtures of the model tests: tiny synthetic data, its cost tree, and built models (cached)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from acq_spark.tree.cost_tree import CostTree

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

LEVELS = (1, 2, 3, 5, 8, 13, 20, 50, 100)
N_NUMERIC = 4
VOCAB_SIZES = (6, 3)
KIND_VARIANTS = [(k, v) for k in ("ubtm", "dnn") for v in ("control", "mon", "sub", "smo")] + [
    ("ziln", "control"),
    ("cread", "control"),
]


def synthetic(n: int, seed: int) -> dict[str, np.ndarray]:
    """Rows whose cost grows (concavely) with the level and with the first numeric feature; ~70% zeros."""
    rng = np.random.default_rng(seed)
    numeric = rng.lognormal(0.0, 1.0, size=(n, N_NUMERIC)).astype(np.float32)
    sparse = np.stack([rng.integers(0, v, n) for v in VOCAB_SIZES], axis=1).astype(np.int32)
    level = rng.integers(0, len(LEVELS), n).astype(np.int32)
    scale = numeric[:, 0] * np.log1p(np.asarray(LEVELS, dtype=np.float32)[level])
    active = rng.random(n) < 0.3 * (1 + sparse[:, 1]) / 3
    cost = np.where(active, rng.exponential(5.0 * scale), 0.0).astype(np.float32)
    return {"numeric": numeric, "sparse": sparse, "level": level, "cost": cost}


@pytest.fixture(scope="session")
def data() -> dict[str, np.ndarray]:
    return synthetic(300, seed=0)


@pytest.fixture(scope="session")
def tree(data) -> CostTree:
    return CostTree.fit(data["cost"], n_positive_leaves=6)


@pytest.fixture(scope="session")
def hparams():
    from acq_spark.config.hparams import ModelHParams

    return ModelHParams(hidden_units=(16, 8), embedding_dim=3)


@pytest.fixture(scope="session")
def make_model(data, tree, hparams):
    """``make_model(kind, variant)``: a built, adapted model, cached per (kind, variant) for the session.

    Tests that change the weights must build their own model (``fresh=True``).
    """
    from acq_spark.models.factory import adapt_normalization, build_model

    cache = {}

    def make(kind: str, variant: str, fresh: bool = False, seed: int = 0):
        if fresh or (kind, variant) not in cache:
            model = build_model(kind, variant, levels=LEVELS, n_numeric=N_NUMERIC, vocab_sizes=VOCAB_SIZES,
                                tree=tree, hparams=hparams, seed=seed)
            adapt_normalization(model, data["numeric"], data["cost"])
            if fresh:
                return model
            cache[(kind, variant)] = model
        return cache[(kind, variant)]

    return make
