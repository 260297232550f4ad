"""Shared layers: numeric standardisation, the level tower and the structured cost heads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from acq_spark.config.hparams import VARIANTS

_CLIP = 10.0  # standardised features are clipped to +-10: a guard against extreme raw values at scoring


@keras.saving.register_keras_serializable(package="acq")
class LogStandardize(keras.layers.Layer):
    """``clip((log1p(max(x, 0)) - mean) / std)`` with mean/std adapted from training data and saved."""

    def __init__(self, n_features: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_features = int(n_features)

    def build(self, input_shape: Any = None) -> None:
        self.mean = self.add_weight(shape=(self.n_features,), initializer="zeros", trainable=False, name="mean")
        self.std = self.add_weight(shape=(self.n_features,), initializer="ones", trainable=False, name="std")
        self.built = True

    def adapt(self, numeric: np.ndarray) -> None:
        """Set mean/std from raw training values ``[N, D]`` (constant features get std 1)."""
        logged = np.log1p(np.maximum(np.nan_to_num(np.asarray(numeric, dtype=np.float64), posinf=0.0), 0.0))
        std = logged.std(axis=0)
        self.mean.assign(logged.mean(axis=0).astype(np.float32))
        self.std.assign(np.where(std > 1e-6, std, 1.0).astype(np.float32))

    def call(self, numeric: tf.Tensor) -> tf.Tensor:
        x = tf.cast(numeric, self.compute_dtype)
        x = tf.maximum(tf.where(tf.math.is_finite(x), x, tf.zeros_like(x)), 0.0)
        return tf.clip_by_value((tf.math.log1p(x) - self.mean) / self.std, -_CLIP, _CLIP)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_features": self.n_features}


@keras.saving.register_keras_serializable(package="acq")
class LevelTower(keras.layers.Layer):
    """Condition the trunk output on every level at once: ``relu(W h + b + e_k)`` -> ``[N, K, units]``."""

    def __init__(self, n_levels: int, units: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.n_levels, self.units = int(n_levels), int(units)
        self.dense = keras.layers.Dense(self.units, name="dense")

    def build(self, input_shape: Any) -> None:
        self.dense.build(input_shape)
        init = keras.initializers.RandomNormal(stddev=0.1)
        self.level_embedding = self.add_weight(shape=(self.n_levels, self.units), initializer=init, name="level_emb")
        self.built = True

    def call(self, h: tf.Tensor) -> tf.Tensor:
        return tf.nn.relu(self.dense(h)[:, None, :] + self.level_embedding[None, :, :])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_levels": self.n_levels, "units": self.units}


@keras.saving.register_keras_serializable(package="acq")
class CostHeads(keras.layers.Layer):
    """Expected cost at all K levels, in units of the cost scale, with the variant's structure.

    One shared output unit reads the tower at each level, giving ``u_k``:

    - ``control``: ``y_k = softplus(u_k)``, K free heads;
    - ``mon``: ``y_1 = softplus(u_1)``, ``y_k = y_{k-1} + u_k^2`` (non-decreasing);
    - ``sub``/``smo``: ``y_1 = softplus(u_1)``, slopes ``s_k = Σ_{j>=k} softplus(u_j)`` for
      ``k = 2..K`` (so ``s_2 >= ... >= s_K >= 0``) and ``y_k = y_{k-1} + s_k (n_k - n_{k-1})``:
      non-decreasing and concave in the number of creatives ``n``.
    """

    def __init__(self, levels: Sequence[int], variant: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if variant not in VARIANTS:
            raise ValueError(f"variant: must be one of {list(VARIANTS)}, got {variant!r}")
        self.levels, self.variant = tuple(int(n) for n in levels), variant
        self.out = keras.layers.Dense(1, kernel_initializer=keras.initializers.RandomNormal(stddev=0.01), name="out")

    def build(self, input_shape: Any) -> None:
        self.out.build(input_shape)
        self.built = True

    def call(self, tower: tf.Tensor) -> tf.Tensor:
        u = self.out(tower)[..., 0]  # [N, K]
        base = tf.nn.softplus(u[:, :1] - 4.0)  # starts near 0: most costs are zero
        if self.variant == "control":
            return tf.nn.softplus(u - 4.0)
        if len(self.levels) == 1:
            return base
        if self.variant == "mon":
            increments = tf.square(u[:, 1:])
        else:
            slopes = tf.math.cumsum(tf.nn.softplus(u[:, 1:] - 8.0), axis=1, reverse=True)
            gaps = tf.constant(np.diff(self.levels), dtype=u.dtype)
            increments = slopes * gaps
        return tf.concat([base, base + tf.math.cumsum(increments, axis=1)], axis=1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "levels": list(self.levels), "variant": self.variant}
