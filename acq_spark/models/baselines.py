"""The paper's baselines on the same inputs, trunk and level tower: DNN, ZILN and CREAD."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from acq_spark.config.hparams import VARIANTS, ModelHParams
from acq_spark.models import losses
from acq_spark.models.base import CostModel
from acq_spark.models.layers import CostHeads


@keras.saving.register_keras_serializable(package="acq")
class DNN(CostModel):
    """Regression baseline: the UBTM cost heads (any variant) trained with MSE alone; ``std`` is 0."""

    LOSS_NAMES = ("reg",)

    def __init__(self, levels: Sequence[int], n_numeric: int, vocab_sizes: Sequence[int],
                 hparams: ModelHParams | dict[str, Any] | None = None, variant: str = "control", **kwargs: Any) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"variant: DNN takes one of {list(VARIANTS)}, got {variant!r}")
        super().__init__(levels, n_numeric, vocab_sizes, hparams, variant, **kwargs)
        self.heads = CostHeads(self.levels, variant, name="cost_heads")
        self.build()

    def build_heads(self, tower_shape: tuple[Any, ...]) -> None:
        self.heads.build(tower_shape)

    def forward(self, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        y = self.heads(self.encode(inputs)) * self.cost_scale
        return {"y": y, "std": tf.zeros_like(y)}

    def loss_terms(self, inputs: dict[str, tf.Tensor], cost: tf.Tensor) -> dict[str, tuple[float, tf.Tensor]]:
        y = self.observed(self.forward(inputs)["y"], inputs)
        return {"reg": (1.0, losses.regression_loss(y / self.cost_scale, cost / self.cost_scale, "mse"))}

    def lipschitz_kernels(self) -> list[tf.Tensor]:
        return [*super().lipschitz_kernels(), self.heads.out.kernel]


class _ControlOnly(CostModel):
    def __init__(self, levels: Sequence[int], n_numeric: int, vocab_sizes: Sequence[int],
                 hparams: ModelHParams | dict[str, Any] | None = None, variant: str = "control", **kwargs: Any) -> None:
        if variant != "control":
            raise ValueError(f"variant: {type(self).__name__} takes only 'control', got {variant!r}")
        super().__init__(levels, n_numeric, vocab_sizes, hparams, variant, **kwargs)


@keras.saving.register_keras_serializable(package="acq")
class ZILN(_ControlOnly):
    """Zero-inflated log-normal per level: ``y = sigmoid(p) exp(mu + sigma^2 / 2)``, ``std`` of the mixture."""

    LOSS_NAMES = ("ziln",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.out = keras.layers.Dense(3, kernel_initializer=keras.initializers.RandomNormal(stddev=0.01), name="ziln")
        self.build()

    def build_heads(self, tower_shape: tuple[Any, ...]) -> None:
        self.out.build(tower_shape)

    def forward(self, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        raw = self.out(self.encode(inputs)) + tf.constant([-4.0, 0.0, 0.0])  # start at P(cost > 0) ~ 2%
        mean, std = losses.ziln_mean_std(raw)
        return {"y": mean * self.cost_scale, "std": std * self.cost_scale, "raw": raw}

    def loss_terms(self, inputs: dict[str, tf.Tensor], cost: tf.Tensor) -> dict[str, tuple[float, tf.Tensor]]:
        raw = self.observed(self.forward(inputs)["raw"], inputs)
        return {"ziln": (1.0, losses.ziln_loss(raw, cost / self.cost_scale))}


@keras.saving.register_keras_serializable(package="acq")
class CREAD(_ControlOnly):
    """Threshold classifiers ``P(cost > t_j)`` per level, restored as ``Σ_j P(cost > t_j)(t_j - t_{j-1})``.

    The thresholds are ``hparams.cread_thresholds`` (raw cost units, increasing, > 0).
    ``std`` is 0.
    """

    LOSS_NAMES = ("cread",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        thresholds = np.asarray(self.hparams.cread_thresholds, dtype=np.float64)
        if thresholds.size == 0 or (thresholds <= 0).any() or (np.diff(thresholds) <= 0).any():
            raise ValueError(f"cread_thresholds: need increasing positive thresholds, got {thresholds.tolist()}")
        self.thresholds = thresholds.astype(np.float32)
        self.out = keras.layers.Dense(thresholds.size, name="exceed")
        self.build()

    def build_heads(self, tower_shape: tuple[Any, ...]) -> None:
        self.out.build(tower_shape)

    def forward(self, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        logits = self.out(self.encode(inputs)) - 4.0  # start near P(cost > t) ~ 2%
        y = losses.cread_restore(tf.sigmoid(logits), tf.constant(self.thresholds))
        return {"y": y, "std": tf.zeros_like(y), "logits": logits}

    def loss_terms(self, inputs: dict[str, tf.Tensor], cost: tf.Tensor) -> dict[str, tuple[float, tf.Tensor]]:
        logits = self.observed(self.forward(inputs)["logits"], inputs)
        return {"cread": (1.0, losses.cread_loss(logits, cost, tf.constant(self.thresholds)))}
