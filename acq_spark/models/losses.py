"""Loss terms and distribution helpers: pure TensorFlow functions of tensors.

``N`` is the batch, ``K`` the number of creative levels, ``M`` the number of tree
nodes, ``L`` the number of tree leaves, ``T`` the number of CREAD thresholds. Every
function is numerically safe with all-zero costs and costs up to ~1e5.
"""

from __future__ import annotations

import math

import tensorflow as tf

ZILN_MIN_SIGMA = math.sqrt(1e-7)  # as google/lifetime_value: sqrt(keras epsilon)
MAX_LOG_PRED = 30.0  # exp(30) ~ 1e13: larger ZILN predictions are clipped (their square stays finite)
_STD_EPS = 1e-6


def tree_bce(node_logits: tf.Tensor, labels: tf.Tensor, masks: tf.Tensor) -> tf.Tensor:
    """Masked node cross-entropy (paper Eq. 5), summed over nodes, averaged over samples.

    Args:
        node_logits: ``[N, M]`` logits of "goes right" at the observed level.
        labels: ``[N, M]`` 1 = the sample's path goes right at the node.
        masks: ``[N, M]`` 1 = the node is on the sample's path (the weight ``w_i``).

    Returns:
        Scalar loss.
    """
    bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=node_logits)
    return tf.reduce_mean(tf.reduce_sum(masks * bce, axis=-1))


def tree_leaf_log_probs(node_logits: tf.Tensor, right: tf.Tensor, left: tf.Tensor) -> tf.Tensor:
    """``log P(leaf)`` as the sum of log-sigmoids along each leaf's path (paper Eq. 3-4).

    Args:
        node_logits: ``[..., M]``.
        right: ``[L, M]`` 1 where the leaf's path goes right at the node.
        left: ``[L, M]`` 1 where it goes left.

    Returns:
        ``[..., L]`` leaf log-probabilities (their exponentials sum to 1).
    """
    return tf.linalg.matmul(tf.math.log_sigmoid(node_logits), right, transpose_b=True) + tf.linalg.matmul(
        tf.math.log_sigmoid(-node_logits), left, transpose_b=True
    )


def tree_moments(leaf_log_probs: tf.Tensor, leaf_means: tf.Tensor, leaf_stds: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Mean and standard deviation of the leaf mixture.

    ``E = Σ_l P_l m_l`` and ``Var = Σ_l P_l ((m_l - E)^2 + s_l^2)`` (centred: no
    cancellation in float32 with leaf means in the thousands).

    Args:
        leaf_log_probs: ``[..., L]``.
        leaf_means: ``[L]`` mean cost per leaf.
        leaf_stds: ``[L]`` within-leaf standard deviation (zeros to ignore the spread).

    Returns:
        ``(mean, std)``, each ``[...]``.
    """
    probs = tf.exp(leaf_log_probs)
    mean = tf.reduce_sum(probs * leaf_means, axis=-1)
    var = tf.reduce_sum(probs * (tf.square(leaf_means - mean[..., None]) + tf.square(leaf_stds)), axis=-1)
    return mean, tf.sqrt(var + _STD_EPS)


def regression_loss(pred: tf.Tensor, target: tf.Tensor, kind: str = "mse", delta: float = 10.0) -> tf.Tensor:
    """Mean squared error (or Huber with threshold ``delta``) of ``pred`` against ``target``.

    Args:
        pred: ``[N]`` predictions, already divided by the cost scale.
        target: ``[N]`` targets, same scale.
        kind: ``mse`` or ``huber``.
        delta: Huber threshold.

    Returns:
        Scalar loss.
    """
    err = pred - target
    if kind == "mse":
        return tf.reduce_mean(tf.square(err))
    abs_err = tf.abs(err)
    return tf.reduce_mean(tf.where(abs_err <= delta, 0.5 * tf.square(err), delta * (abs_err - 0.5 * delta)))


def ziln_params(raw: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Split ``[..., 3]`` raw outputs into (logit of cost > 0, mu, sigma >= sqrt(1e-7))."""
    sigma = tf.maximum(tf.nn.softplus(raw[..., 2]), ZILN_MIN_SIGMA)
    return raw[..., 0], raw[..., 1], sigma


def ziln_loss(raw: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """Zero-inflated log-normal negative log-likelihood (Wang et al. 2019).

    Args:
        raw: ``[N, 3]`` raw outputs (see :func:`ziln_params`).
        target: ``[N]`` non-negative costs.

    Returns:
        Scalar: mean of BCE(cost > 0) + [cost > 0] * (-log LogNormal(cost; mu, sigma)).
    """
    logit, mu, sigma = ziln_params(raw)
    positive = tf.cast(target > 0, raw.dtype)
    bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=positive, logits=logit)
    log_y = tf.math.log(tf.where(target > 0, target, tf.ones_like(target)))
    nll = log_y + tf.math.log(sigma) + 0.5 * math.log(2 * math.pi) + tf.square(log_y - mu) / (2 * tf.square(sigma))
    return tf.reduce_mean(bce + positive * nll)


def ziln_mean_std(raw: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Predictive mean ``p exp(mu + sigma^2/2)`` and std of the ZILN mixture, ``[...]`` each."""
    logit, mu, sigma = ziln_params(raw)
    p = tf.sigmoid(logit)
    log_m = tf.minimum(mu + 0.5 * tf.square(sigma), MAX_LOG_PRED)
    m = tf.exp(log_m)
    # E[X^2] = p exp(2 mu + 2 sigma^2) = p m^2 exp(sigma^2); Var = m^2 (p exp(sigma^2) - p^2)
    spread = tf.exp(tf.minimum(tf.square(sigma), MAX_LOG_PRED))
    return p * m, m * tf.sqrt(tf.maximum(p * spread - tf.square(p), 0.0) + _STD_EPS)


def cread_loss(logits: tf.Tensor, cost: tf.Tensor, thresholds: tf.Tensor) -> tf.Tensor:
    """Sum over thresholds of BCE(cost > t_j), averaged over samples.

    Args:
        logits: ``[N, T]`` logits of P(cost > t_j).
        cost: ``[N]`` costs.
        thresholds: ``[T]`` increasing thresholds.

    Returns:
        Scalar loss.
    """
    labels = tf.cast(cost[:, None] > thresholds[None, :], logits.dtype)
    return tf.reduce_mean(tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits), -1))


def cread_restore(exceed_probs: tf.Tensor, thresholds: tf.Tensor) -> tf.Tensor:
    """CREAD restoration ``Σ_j P(cost > t_j) (t_j - t_{j-1})`` with ``t_0 = 0``: ``[..., T]`` -> ``[...]``."""
    widths = thresholds - tf.concat([tf.zeros_like(thresholds[:1]), thresholds[:-1]], axis=0)
    return tf.reduce_sum(exceed_probs * widths, axis=-1)


def lipschitz_penalty(kernels: list[tf.Tensor]) -> tf.Tensor:
    """Paper Eq. 14: the product over dense layers of softplus(spectral norm of the kernel)."""
    penalty = tf.constant(1.0)
    for kernel in kernels:
        penalty = penalty * tf.nn.softplus(tf.linalg.svd(kernel, compute_uv=False)[0])
    return penalty
