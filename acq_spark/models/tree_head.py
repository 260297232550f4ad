"""The UBTM tree head: per-level node classifiers over the cost-bin tree (paper §4.1.1)."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from acq_spark.models import losses
from acq_spark.tree.cost_tree import CostTree


@keras.saving.register_keras_serializable(package="acq")
class TreeHead(keras.layers.Layer):
    """Node logits at every level, the leaf distribution they imply, and its moments.

    The tree (a :class:`CostTree`, stored in the config as its JSON) fixes which node
    outputs lie on each leaf's path; the layer's only weights are the node classifiers.
    """

    def __init__(self, tree_json: str, within_leaf_std: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tree_json, self.within_leaf_std = tree_json, bool(within_leaf_std)
        self.tree = CostTree.from_json(tree_json)
        path = self.tree.path_matrix()
        self._right, self._left = (path > 0).astype(np.float32), (path < 0).astype(np.float32)
        self._leaf_means = self.tree.leaf_means.astype(np.float32)
        self._leaf_stds = (self.tree.leaf_stds if within_leaf_std else np.zeros(self.tree.n_leaves)).astype(np.float32)
        self._edges = np.asarray(self.tree.edges, dtype=np.float64)
        self.out = keras.layers.Dense(self.tree.n_nodes, name="nodes")

    def build(self, input_shape: Any) -> None:
        self.out.build(input_shape)
        self.built = True

    def call(self, tower: tf.Tensor) -> tf.Tensor:
        """Node logits ``[N, K, M]`` from the level tower ``[N, K, U]``."""
        return self.out(tower)

    def moments(self, node_logits: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Expected cost ``E_k`` and predictive std of the leaf distribution, ``[N, K]`` each."""
        log_probs = losses.tree_leaf_log_probs(node_logits, tf.constant(self._right), tf.constant(self._left))
        return losses.tree_moments(log_probs, tf.constant(self._leaf_means), tf.constant(self._leaf_stds))

    def labels_and_masks(self, cost: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Eq. 5 node labels and masks of costs ``[N]``, float32 ``[N, M]`` each (as ``CostTree``'s)."""
        cost = tf.cast(tf.reshape(cost, [-1]), tf.float64)
        above = tf.reduce_sum(tf.cast(cost[:, None] > tf.constant(self._edges)[None, :], tf.int32), axis=1)
        leaf = tf.where(cost > 0, above + 1, tf.zeros_like(above))
        right = tf.gather(tf.constant(self._right), leaf)
        return right, tf.gather(tf.constant(self._right + self._left), leaf)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "tree_json": self.tree_json, "within_leaf_std": self.within_leaf_std}
