"""UBTM: the unbalanced-binary-tree multi-task cost model (paper §4.1, spec §5 reconstruction)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

from acq_spark.config.hparams import VARIANTS, ModelHParams
from acq_spark.models import losses
from acq_spark.models.base import CostModel
from acq_spark.models.layers import CostHeads
from acq_spark.models.tree_head import TreeHead
from acq_spark.tree.cost_tree import CostTree


@keras.saving.register_keras_serializable(package="acq")
class UBTM(CostModel):
    """Shared trunk and level tower feeding two heads, all K levels in one pass.

    - tree head: node classifiers per level -> ``P(leaf | x, k)`` -> ``E_k`` and ``std_k``;
    - cost heads: ``y_k`` with the variant's structure (see :class:`CostHeads`).

    Loss (all cost terms divided by ``cost_scale``)::

        w_tree * Eq.5 node cross-entropy at the observed level
        + w_reg * regression(y_obs, cost)          (MSE: its minimiser is the mean)
        + w_std * std_obs
        + w_consistency * mean_k (y_k - stop_gradient(E_k))^2
        + w_lipschitz * Eq.14 penalty              (smo only)

    The consistency term distils the tree's expectation into ``y`` at every level,
    including levels a pair was never observed at; the gradient stops at ``E_k`` so the
    tree is trained by its likelihood (and the std term) alone.
    """

    LOSS_NAMES = ("tree", "reg", "std", "consistency")

    def __init__(
        self,
        levels: Sequence[int],
        n_numeric: int,
        vocab_sizes: Sequence[int],
        tree_json: str,
        hparams: ModelHParams | dict[str, Any] | None = None,
        variant: str = "sub",
        **kwargs: Any,
    ) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"variant: UBTM takes one of {list(VARIANTS)}, got {variant!r}")
        super().__init__(levels, n_numeric, vocab_sizes, hparams, variant, **kwargs)
        self.tree_json = CostTree.from_json(tree_json).to_json()
        self.heads = CostHeads(self.levels, variant, name="cost_heads")
        self.tree_head = TreeHead(self.tree_json, self.hparams.within_leaf_std, name="tree_head")
        self.build()

    def build_heads(self, tower_shape: tuple[Any, ...]) -> None:
        self.heads.build(tower_shape)
        self.tree_head.build(tower_shape)

    def forward(self, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        tower = self.encode(inputs)
        node_logits = self.tree_head(tower)
        expected, std = self.tree_head.moments(node_logits)
        return {"y": self.heads(tower) * self.cost_scale, "std": std, "expected": expected, "node_logits": node_logits}

    def loss_terms(self, inputs: dict[str, tf.Tensor], cost: tf.Tensor) -> dict[str, tuple[float, tf.Tensor]]:
        out, hp, scale = self.forward(inputs), self.hparams, self.cost_scale
        labels, masks = self.tree_head.labels_and_masks(cost)
        tree = losses.tree_bce(self.observed(out["node_logits"], inputs), labels, masks)
        reg = losses.regression_loss(self.observed(out["y"], inputs) / scale, cost / scale, hp.reg_loss, hp.huber_delta)
        std = tf.reduce_mean(self.observed(out["std"], inputs)) / scale
        consistency = tf.reduce_mean(tf.square((out["y"] - tf.stop_gradient(out["expected"])) / scale))
        return {
            "tree": (hp.w_tree, tree),
            "reg": (hp.w_reg, reg),
            "std": (hp.w_std, std),
            "consistency": (hp.w_consistency, consistency),
        }

    def lipschitz_kernels(self) -> list[tf.Tensor]:
        return [*super().lipschitz_kernels(), self.heads.out.kernel]

    @property
    def tree(self) -> CostTree:
        """The cost-bin tree the model was built on."""
        return self.tree_head.tree

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "tree_json": self.tree_json}
