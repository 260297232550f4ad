"""Fit and predict on NumPy arrays (no Spark): early stopping, determinism, batched prediction.

Arrays are dicts: ``numeric`` ``[N, D]``, ``sparse`` ``[N, S]``, and for training
``level`` ``[N]`` (level index) and ``cost`` ``[N]`` (the target).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from acq_spark.models.base import CostModel

INPUT_KEYS = ("numeric", "sparse")


def _inputs(arrays: Mapping[str, np.ndarray], with_level: bool) -> dict[str, np.ndarray]:
    missing = [k for k in (*INPUT_KEYS, *(("level", "cost") if with_level else ())) if k not in arrays]
    if missing:
        raise KeyError(f"arrays are missing {missing}; got {sorted(arrays)}")
    x = {"numeric": np.asarray(arrays["numeric"], dtype=np.float32), "sparse": np.asarray(arrays["sparse"], np.int32)}
    if with_level:
        x["level"] = np.asarray(arrays["level"], dtype=np.int32)
    return x


def _check_training_arrays(model: CostModel, arrays: Mapping[str, np.ndarray], name: str) -> None:
    level, cost = np.asarray(arrays["level"]), np.asarray(arrays["cost"], dtype=np.float64)
    if level.size and (level.min() < 0 or level.max() >= model.n_levels):
        raise ValueError(f"{name}: level indices must be in [0, {model.n_levels}), got [{level.min()}, {level.max()}]")
    if not np.isfinite(cost).all() or (cost < 0).any():
        raise ValueError(f"{name}: costs must be finite and >= 0")


def fit(
    model: CostModel,
    train: Mapping[str, np.ndarray],
    val: Mapping[str, np.ndarray],
    *,
    epochs: int,
    batch_size: int,
    patience: int,
    seed: int,
    deterministic: bool = True,
    adapt: bool = True,
    verbose: int = 2,
) -> keras.callbacks.History:
    """Train with early stopping on the validation loss, restoring the best weights.

    With the optimiser's moving average of the weights on (``ema_momentum`` > 0), every epoch is validated
    with the averaged weights and the model ends with the best epoch's averaged weights.

    Args:
        model: a compiled model from :func:`models.factory.build_model`.
        train: training arrays (``numeric``, ``sparse``, ``level``, ``cost``).
        val: validation arrays, same keys.
        epochs: maximum number of epochs.
        batch_size: rows per step.
        patience: epochs without a lower ``val_loss`` before stopping.
        seed: seeds Python, NumPy and TensorFlow (batch shuffling).
        deterministic: also enable TensorFlow op determinism (same data + seed -> same weights).
        adapt: first adapt the standardisation and cost scale to ``train``.
        verbose: Keras progress output (2 = one line per epoch, 1 = progress bar).

    Returns:
        The Keras ``History`` (per-epoch loss terms and their ``val_`` counterparts).
    """
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    for name, arrays in (("train", train), ("val", val)):
        _inputs(arrays, with_level=True)
        _check_training_arrays(model, arrays, name)
    if adapt:
        model.adapt(np.asarray(train["numeric"]), np.asarray(train["cost"]))
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    callbacks: list[keras.callbacks.Callback] = [stop]
    if getattr(model.optimizer, "use_ema", False):
        # The averaged weights go into the model at each epoch's end, before the early stopping sees the
        # epoch: the validation loss is theirs, and the best epoch's averaged weights are the ones restored.
        callbacks.insert(0, keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    return model.fit(
        _inputs(train, with_level=True),
        np.asarray(train["cost"], dtype=np.float32),
        validation_data=(_inputs(val, with_level=True), np.asarray(val["cost"], dtype=np.float32)),
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        callbacks=callbacks,
        verbose=verbose,
    )


def predict(model: CostModel, arrays: Mapping[str, np.ndarray], batch_size: int = 65_536) -> dict[str, Any]:
    """Expected cost and its std at every level, float32 ``[N, K]`` each.

    Args:
        model: a trained (or loaded) model.
        arrays: ``numeric`` and ``sparse`` (other keys are ignored).
        batch_size: rows per forward pass.

    Returns:
        ``{"y": [N, K], "std": [N, K]}`` as NumPy arrays.
    """
    x = _inputs(arrays, with_level=False)
    if not len(x["numeric"]):
        return {key: np.zeros((0, model.n_levels), dtype=np.float32) for key in ("y", "std")}
    out = model.predict(x, batch_size=batch_size, verbose=0)
    return {key: np.asarray(out[key], dtype=np.float32) for key in ("y", "std")}
