"""Each loss and distribution helper against an independent NumPy/SciPy re-implementation."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats
from scipy.special import expit, log_expit

from acq_spark.models import losses
from acq_spark.tree.cost_tree import CostTree

RTOL = 1e-5  # float32 TensorFlow against float64 NumPy
COST_CASES = {
    "mixed": np.array([0.0, 0.3, 2.0, 0.0, 15.0, 700.0]),
    "all_zero": np.zeros(6),
    "huge": np.array([1e5, 0.0, 5e4, 1e5, 3.0, 0.0]),
}


def as_tf(x: np.ndarray) -> tf.Tensor:
    return tf.constant(np.asarray(x, dtype=np.float32))


def np_bce(label: np.ndarray, logit: np.ndarray) -> np.ndarray:
    return -(label * log_expit(logit) + (1 - label) * log_expit(-logit))


@pytest.fixture(scope="module")
def tree() -> CostTree:
    return CostTree.fit(np.r_[np.zeros(20), np.arange(1.0, 41.0), 5000.0], n_positive_leaves=5)


@pytest.mark.parametrize("case", sorted(COST_CASES))
def test_tree_bce_matches_numpy(tree, case):
    cost = COST_CASES[case]
    labels, masks = tree.labels_and_masks(cost)
    logits = np.random.default_rng(1).normal(0, 30, size=labels.shape)  # includes saturated logits

    actual = float(losses.tree_bce(as_tf(logits), as_tf(labels), as_tf(masks)))

    expected = np.mean(np.sum(masks * np_bce(labels, logits.astype(np.float32)), axis=1))
    assert np.isfinite(actual) and actual == pytest.approx(expected, rel=RTOL)


def leaf_probs_by_walking(tree: CostTree, go_right: np.ndarray) -> np.ndarray:
    """Leaf probabilities by walking the tree from the root (no path matrix)."""
    probs = np.zeros((go_right.shape[0], tree.n_leaves))

    def walk(ref: tuple[str, int], acc: np.ndarray) -> None:
        if ref[0] == "leaf":
            probs[:, ref[1]] = acc
            return
        node = tree.nodes[ref[1]]
        walk(node.left, acc * (1 - go_right[:, ref[1]]))
        walk(node.right, acc * go_right[:, ref[1]])

    walk(("node", 0), np.ones(go_right.shape[0]))
    return probs


def test_leaf_distribution_and_moments_match_a_tree_walk(tree):
    path = tree.path_matrix()
    logits = np.random.default_rng(2).normal(0, 2, size=(5, tree.n_nodes))

    log_p = losses.tree_leaf_log_probs(as_tf(logits), as_tf(path > 0), as_tf(path < 0))
    mean, std = losses.tree_moments(log_p, as_tf(tree.leaf_means), as_tf(tree.leaf_stds))

    probs = leaf_probs_by_walking(tree, expit(logits))
    second = probs @ (tree.leaf_means**2 + tree.leaf_stds**2)
    exp_mean = probs @ tree.leaf_means
    np.testing.assert_allclose(np.exp(log_p.numpy()), probs, rtol=RTOL, atol=1e-7)
    np.testing.assert_allclose(np.exp(log_p.numpy()).sum(axis=1), 1.0, rtol=RTOL)
    np.testing.assert_allclose(mean.numpy(), exp_mean, rtol=RTOL)
    np.testing.assert_allclose(std.numpy(), np.sqrt(second - exp_mean**2), rtol=1e-4)


@pytest.mark.parametrize("case", sorted(COST_CASES))
@pytest.mark.parametrize("kind", ["mse", "huber"])
def test_regression_loss_matches_numpy(case, kind):
    target = COST_CASES[case] / 40.0
    pred = np.random.default_rng(3).uniform(0, 30, size=target.size)
    err = pred - target
    delta = 10.0
    huber = np.where(np.abs(err) <= delta, 0.5 * err**2, delta * (np.abs(err) - delta / 2))
    per_row = err**2 if kind == "mse" else huber

    actual = float(losses.regression_loss(as_tf(pred), as_tf(target), kind, delta))

    assert np.isfinite(actual) and actual == pytest.approx(per_row.mean(), rel=RTOL)


@pytest.mark.parametrize("case", sorted(COST_CASES))
def test_ziln_loss_matches_scipy_lognormal(case):
    target = COST_CASES[case]
    raw = np.random.default_rng(4).normal(0, 2, size=(target.size, 3))
    raw[0] = [60.0, 40.0, -80.0]  # saturated probability, tiny sigma: still finite
    sigma = np.maximum(np.log1p(np.exp(raw[:, 2])), np.sqrt(1e-7))
    positive = target > 0
    nll = np.zeros(target.size)
    nll[positive] = -stats.lognorm(s=sigma[positive], scale=np.exp(raw[positive, 1])).logpdf(target[positive])
    expected = np.mean(np_bce(positive.astype(float), raw[:, 0]) + nll)

    actual = float(losses.ziln_loss(as_tf(raw), as_tf(target)))

    assert np.isfinite(actual) and actual == pytest.approx(expected, rel=RTOL)


def test_ziln_mean_and_std_match_scipy_moments():
    raw = np.random.default_rng(5).normal(0, 1, size=(6, 3))
    p = expit(raw[:, 0])
    dist = stats.lognorm(s=np.log1p(np.exp(raw[:, 2])), scale=np.exp(raw[:, 1]))

    mean, std = losses.ziln_mean_std(as_tf(raw))

    np.testing.assert_allclose(mean.numpy(), p * dist.mean(), rtol=1e-4)
    np.testing.assert_allclose(std.numpy(), np.sqrt(p * dist.moment(2) - (p * dist.mean()) ** 2), rtol=1e-4)


def test_ziln_prediction_is_clipped_not_infinite():
    mean, std = losses.ziln_mean_std(as_tf(np.array([[50.0, 200.0, 30.0]])))

    assert np.isfinite(mean.numpy()).all() and np.isfinite(std.numpy()).all()
    assert np.isfinite(np.square(mean.numpy().astype(np.float64))).all()


@pytest.mark.parametrize("case", sorted(COST_CASES))
def test_cread_loss_and_restoration_match_numpy(case):
    cost = COST_CASES[case]
    thresholds = np.array([0.5, 2.0, 10.0, 500.0])
    logits = np.random.default_rng(6).normal(0, 3, size=(cost.size, thresholds.size))
    labels = (cost[:, None] > thresholds[None, :]).astype(float)
    probs = expit(logits)

    loss = float(losses.cread_loss(as_tf(logits), as_tf(cost), as_tf(thresholds)))
    restored = losses.cread_restore(as_tf(probs), as_tf(thresholds)).numpy()

    assert loss == pytest.approx(np.mean(np.sum(np_bce(labels, logits), axis=1)), rel=RTOL)
    widths = np.diff(np.r_[0.0, thresholds])
    np.testing.assert_allclose(restored, [sum(pr[j] * widths[j] for j in range(4)) for pr in probs], rtol=RTOL)


def test_lipschitz_penalty_matches_numpy_svd():
    rng = np.random.default_rng(7)
    kernels = [rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=(3, 1))]

    actual = float(losses.lipschitz_penalty([as_tf(k) for k in kernels]))

    expected = np.prod([np.log1p(np.exp(np.linalg.svd(k, compute_uv=False)[0])) for k in kernels])
    assert actual == pytest.approx(expected, rel=RTOL)
