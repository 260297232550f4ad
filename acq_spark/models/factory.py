"""Build any cost model by name, compiled and ready for :func:`acq_spark.models.fitting.fit`."""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from acq_spark.config.hparams import ModelHParams
from acq_spark.errors import ConfigError
from acq_spark.models.base import CostModel
from acq_spark.models.baselines import CREAD, DNN, ZILN
from acq_spark.models.ubtm import UBTM
from acq_spark.tree.cost_tree import CostTree

KINDS = ("ubtm", "dnn", "ziln", "cread")


def cread_thresholds_from_tree(tree: CostTree) -> tuple[float, ...]:
    """CREAD thresholds: the tree's quantile edges and its positive leaf means, merged.

    The leaf means refine the grid inside each bin, and the last leaf's mean covers the
    heavy tail beyond the last edge, which a grid of edges alone would cut off.
    """
    points = {float(e) for e in tree.edges} | {float(m) for m in tree.leaf_means[1:] if m > 0}
    return tuple(sorted(points))


def numeric_mask(names: Sequence[str], patterns: Sequence[str]) -> tuple[float, ...] | None:
    """1 for each numeric feature the model reads, 0 for one ``patterns`` (``fnmatch``) exclude; None: none excluded.

    Raises:
        ConfigError: a pattern names no feature.
    """
    if not patterns:
        return None
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(n, p) for n in names)]
    if unmatched:
        raise ConfigError(f"train.exclude_features: {unmatched} match no numeric feature (they are {list(names)})")
    return tuple(0.0 if any(fnmatch.fnmatchcase(n, p) for p in patterns) else 1.0 for n in names)


def build_model(
    kind: str,
    variant: str,
    *,
    levels: Sequence[int],
    n_numeric: int,
    vocab_sizes: Sequence[int],
    tree: CostTree | None,
    hparams: ModelHParams,
    seed: int | None = None,
    numeric_mask: Sequence[float] | None = None,
) -> keras.Model:
    """Build and compile a cost model (Adam with ``hparams.learning_rate``, ``clipnorm`` and ``ema_momentum``).

    Args:
        kind: ``ubtm``, ``dnn``, ``ziln`` or ``cread``.
        variant: ``control``/``mon``/``sub``/``smo`` for ``ubtm`` and ``dnn``; ``control`` for the others.
        levels: the numbers of creatives of the K levels, increasing.
        n_numeric: number of numeric features D.
        vocab_sizes: vocabulary size of each sparse feature (indices ``0..size-1``, 0 = OOV).
        tree: the cost-bin tree; required for ``ubtm``, and for ``cread`` without
            ``hparams.cread_thresholds``.
        hparams: model hyper-parameters.
        seed: seeds Keras (Python, NumPy, TF) before the weights are initialised.
        numeric_mask: one value per numeric feature, 0 for a column the model does not read
            (:func:`numeric_mask` of ``hparams.exclude_features``); None reads them all.

    Returns:
        A built, compiled :class:`CostModel`; call :func:`adapt_normalization` before training.

    Raises:
        ValueError: an unknown kind or variant, or a missing tree.
    """
    if kind not in KINDS:
        raise ValueError(f"kind: must be one of {list(KINDS)}, got {kind!r}")
    if seed is not None:
        keras.utils.set_random_seed(seed)
    common: dict[str, Any] = {"levels": levels, "n_numeric": n_numeric, "vocab_sizes": vocab_sizes, "variant": variant,
                              "numeric_mask": numeric_mask}
    if kind == "ubtm":
        if tree is None:
            raise ValueError("kind 'ubtm' needs the cost tree")
        model: CostModel = UBTM(tree_json=tree.to_json(), hparams=hparams, **common)
    elif kind == "dnn":
        model = DNN(hparams=hparams, **common)
    elif kind == "ziln":
        model = ZILN(hparams=hparams, **common)
    else:
        if not hparams.cread_thresholds:
            if tree is None:
                raise ValueError("kind 'cread' needs the cost tree or hparams.cread_thresholds")
            hparams = dataclasses.replace(hparams, cread_thresholds=cread_thresholds_from_tree(tree))
        model = CREAD(hparams=hparams, **common)
    ema = hparams.ema_momentum
    optimizer = keras.optimizers.Adam(
        learning_rate=hparams.learning_rate, clipnorm=hparams.clipnorm, use_ema=ema > 0, ema_momentum=ema
    )
    model.compile(optimizer=optimizer)
    return model


def adapt_normalization(model: CostModel, numeric_train: np.ndarray, cost_train: np.ndarray | None = None) -> None:
    """Adapt the model's log1p standardisation (and, given costs, its cost scale) to training data.

    Args:
        model: a model from :func:`build_model`.
        numeric_train: float ``[N, D]`` raw numeric features of the training rows.
        cost_train: optional ``[N]`` training costs; their RMS becomes the cost scale.
    """
    model.adapt(numeric_train, cost_train)
