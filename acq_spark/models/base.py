"""The common cost model: inputs, shared trunk, level tower, loss assembly in ``train_step``.

Inputs are a dict: ``numeric`` float32 ``[N, D]`` raw non-negative values, ``sparse``
int32 ``[N, S]`` vocabulary indices (0 = out of vocabulary) and, for training only,
``level`` int32 ``[N]`` (the observed level's index). The training target is the
observed cost ``[N]``. Outputs: ``y`` (expected cost) and ``std``, float32 ``[N, K]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from acq_spark.config.hparams import ModelHParams
from acq_spark.models import losses
from acq_spark.models.layers import LevelTower, LogStandardize


class CostModel(keras.Model):
    """Base class; subclasses define ``build_heads``, ``forward``, ``loss_terms`` and ``LOSS_NAMES``.

    The ``smo`` variant adds ``w_lipschitz`` times :meth:`lipschitz_penalty` to the loss.
    """

    LOSS_NAMES: tuple[str, ...] = ()
    built: bool  # keras.Layer's: whether build() has made the weights

    def __init__(
        self,
        levels: Sequence[int],
        n_numeric: int,
        vocab_sizes: Sequence[int],
        hparams: ModelHParams | dict[str, Any] | None = None,
        variant: str = "control",
        numeric_mask: Sequence[float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.levels = tuple(int(n) for n in levels)
        self.n_numeric, self.vocab_sizes = int(n_numeric), tuple(int(v) for v in vocab_sizes)
        if not self.levels or list(self.levels) != sorted(set(self.levels)) or self.levels[0] < 1:
            raise ValueError(f"levels: must be strictly increasing positive integers, got {list(self.levels)}")
        if any(v < 1 for v in self.vocab_sizes):
            raise ValueError(f"vocab_sizes: every vocabulary needs at least the OOV index 0, got {self.vocab_sizes}")
        hp = hparams if isinstance(hparams, ModelHParams) else ModelHParams.from_dict(hparams or {})
        self.hparams, self.variant = hp, variant
        # 0 for a column the model does not read (hparams.exclude_features), applied after standardising
        self.numeric_mask = None if numeric_mask is None else tuple(float(m) for m in numeric_mask)
        if self.numeric_mask is not None and len(self.numeric_mask) != self.n_numeric:
            raise ValueError(f"numeric_mask: need {self.n_numeric} values, got {len(self.numeric_mask)}")
        self.standardize = LogStandardize(self.n_numeric, name="standardize")
        self.embeddings = [
            keras.layers.Embedding(v, hp.embedding_dim, name=f"embedding_{i}") for i, v in enumerate(self.vocab_sizes)
        ]
        self.trunk = [
            keras.layers.Dense(u, activation="relu", name=f"trunk_{i}") for i, u in enumerate(hp.hidden_units)
        ]
        self.tower = LevelTower(len(self.levels), hp.hidden_units[-1], name="level_tower")
        names = ("loss", *self.LOSS_NAMES, *(("lipschitz",) if variant == "smo" else ()))
        self.trackers = [keras.metrics.Mean(name=name) for name in names]

    @property
    def n_levels(self) -> int:
        """K, the number of creative levels."""
        return len(self.levels)

    def build(self, input_shape: Any = None) -> None:
        """Create every weight; all shapes follow from the constructor arguments (subclasses call it)."""
        if self.built:
            return
        self.standardize.build((None, self.n_numeric))
        for embedding in self.embeddings:
            embedding.build((None,))
        width = self.n_numeric + len(self.embeddings) * self.hparams.embedding_dim
        for dense in self.trunk:
            dense.build((None, width))
            width = dense.units
        self.tower.build((None, width))
        self.build_heads((None, self.n_levels, width))
        self.cost_scale = self.add_weight(shape=(), initializer="ones", trainable=False, name="cost_scale")
        self.built = True

    def build_heads(self, tower_shape: tuple[Any, ...]) -> None:
        """Build the subclass's heads on the tower output shape ``(None, K, U)``."""

    def adapt(self, numeric: np.ndarray, cost: np.ndarray | None = None) -> None:
        """Adapt the numeric standardisation and (given costs) the cost scale = RMS of ``cost``."""
        if not self.built:
            self.build()
        self.standardize.adapt(numeric)
        if cost is not None:
            rms = float(np.sqrt(np.mean(np.square(np.asarray(cost, dtype=np.float64))))) if len(cost) else 0.0
            self.cost_scale.assign(rms if np.isfinite(rms) and rms > 0 else 1.0)

    def encode(self, inputs: dict[str, tf.Tensor]) -> tf.Tensor:
        """Tower output ``[N, K, U]`` from the raw inputs."""
        numeric = self.standardize(inputs["numeric"])
        if self.numeric_mask is not None:
            numeric = numeric * tf.constant(self.numeric_mask, dtype=numeric.dtype)
        parts = [numeric]
        if self.embeddings:
            sparse = tf.cast(inputs["sparse"], tf.int32)
            for i, (embedding, size) in enumerate(zip(self.embeddings, self.vocab_sizes, strict=True)):
                parts.append(embedding(tf.clip_by_value(sparse[:, i], 0, size - 1)))
        h = tf.concat(parts, axis=-1)
        for dense in self.trunk:
            h = dense(h)
        return self.tower(h)

    def forward(self, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """Every output the losses need; must contain ``y`` and ``std`` ``[N, K]`` in cost units."""
        raise NotImplementedError

    def call(self, inputs: dict[str, tf.Tensor], training: bool | None = None) -> dict[str, tf.Tensor]:
        out = self.forward(inputs)
        return {"y": out["y"], "std": out["std"]}

    def loss_terms(self, inputs: dict[str, tf.Tensor], cost: tf.Tensor) -> dict[str, tuple[float, tf.Tensor]]:
        """Named ``(weight, value)`` loss terms (keys = ``LOSS_NAMES``); the loss is their weighted sum."""
        raise NotImplementedError

    def observed(self, values: tf.Tensor, inputs: dict[str, tf.Tensor]) -> tf.Tensor:
        """``values[n, level[n], ...]``: ``[N, K, ...]`` -> ``[N, ...]``."""
        level = tf.clip_by_value(tf.cast(tf.reshape(inputs["level"], [-1]), tf.int32), 0, self.n_levels - 1)
        return tf.gather(values, level, batch_dims=1)

    def lipschitz_kernels(self) -> list[tf.Tensor]:
        """Kernels of the dense layers on the path from the features to ``y`` (Eq. 14)."""
        return [d.kernel for d in self.trunk] + [self.tower.dense.kernel]

    def lipschitz_penalty(self) -> tf.Tensor:
        """Paper Eq. 14 over :meth:`lipschitz_kernels`."""
        return losses.lipschitz_penalty(self.lipschitz_kernels())

    def _loss_values(self, x: dict[str, tf.Tensor], cost: tf.Tensor) -> dict[str, tf.Tensor]:
        terms = self.loss_terms(x, cost)
        if self.variant == "smo":
            terms["lipschitz"] = (self.hparams.w_lipschitz, self.lipschitz_penalty())
        values = {name: value for name, (_, value) in terms.items()}
        values["loss"] = tf.add_n([weight * value for weight, value in terms.values()])
        return values

    def _step(self, data: Any, training: bool) -> dict[str, tf.Tensor]:
        x, cost, _ = keras.utils.unpack_x_y_sample_weight(data)
        cost = tf.reshape(tf.cast(cost, tf.float32), [-1])
        if training:
            with tf.GradientTape() as tape:
                values = self._loss_values(x, cost)
            grads = tape.gradient(values["loss"], self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
        else:
            values = self._loss_values(x, cost)
        for tracker in self.trackers:
            tracker.update_state(values[tracker.name])
        return {t.name: t.result() for t in self.trackers}

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        return self._step(data, training=True)

    def test_step(self, data: Any) -> dict[str, tf.Tensor]:
        return self._step(data, training=False)

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self.trackers)

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "levels": list(self.levels),
            "n_numeric": self.n_numeric,
            "vocab_sizes": list(self.vocab_sizes),
            "hparams": self.hparams.to_dict(),
            "variant": self.variant,
            "numeric_mask": None if self.numeric_mask is None else list(self.numeric_mask),
        }
