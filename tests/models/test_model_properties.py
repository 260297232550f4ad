"""Structural guarantees on random inputs and random weights: monotone, concave, Lipschitz, safe."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from conftest import KIND_VARIANTS, LEVELS, N_NUMERIC, VOCAB_SIZES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FIXTURES_OK = [HealthCheck.function_scoped_fixture]  # the fixtures are session/module scoped and read-only
PROPERTY_SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=FIXTURES_OK)
seeds = st.integers(0, 2**31 - 1)
weight_scales = st.floats(0.05, 2.0)


def random_inputs(seed: int, n: int = 16) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    numeric = rng.lognormal(0.0, 3.0, size=(n, N_NUMERIC)) * (rng.random((n, N_NUMERIC)) < 0.7)
    numeric[0] = 1e5  # extreme raw values
    sparse = np.stack([rng.integers(0, v + 3, n) for v in VOCAB_SIZES], axis=1)  # includes out-of-range indices
    return {"numeric": numeric.astype(np.float32), "sparse": sparse.astype(np.int32)}


def randomize(model, seed: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    for variable in model.trainable_variables:
        variable.assign(rng.normal(0.0, scale, size=variable.shape).astype(np.float32))


@pytest.fixture(scope="module")
def models(make_model):
    """Fresh models (their weights are overwritten here) of every structured variant."""
    return {(k, v): make_model(k, v, fresh=True) for k in ("ubtm", "dnn") for v in ("mon", "sub", "smo")}


@PROPERTY_SETTINGS
@given(seed=seeds, scale=weight_scales, kind=st.sampled_from(["ubtm", "dnn"]))
def test_mon_is_non_decreasing_in_level(models, seed, scale, kind):
    model = models[(kind, "mon")]
    randomize(model, seed, scale)

    y = model(random_inputs(seed), training=False)["y"].numpy().astype(np.float64)

    assert np.isfinite(y).all() and (y >= 0).all()
    assert (np.diff(y, axis=1) >= 0).all()


@PROPERTY_SETTINGS
@given(seed=seeds, scale=weight_scales, key=st.sampled_from([(k, v) for k in ("ubtm", "dnn") for v in ("sub", "smo")]))
def test_sub_is_non_decreasing_and_concave_in_the_number_of_creatives(models, seed, scale, key):
    model = models[key]
    randomize(model, seed, scale)

    y = model(random_inputs(seed), training=False)["y"].numpy().astype(np.float64)

    slopes = np.diff(y, axis=1) / np.diff(np.asarray(LEVELS, dtype=np.float64))  # unequal spacing in n
    tol = 1e-6 * (1.0 + np.abs(y).max(axis=1, keepdims=True))  # float32 rounding of y
    assert np.isfinite(y).all() and (y >= 0).all()
    assert (slopes >= 0).all()
    assert (np.diff(slopes, axis=1) <= tol).all()


@PROPERTY_SETTINGS
@given(seed=seeds, scale=weight_scales, kind=st.sampled_from(["ubtm", "dnn"]))
def test_smo_penalty_is_the_product_of_softplus_spectral_norms(models, seed, scale, kind):
    model = models[(kind, "smo")]
    randomize(model, seed, scale)
    dense = [*model.trunk, model.tower.dense, model.heads.out]

    expected = np.prod([np.log1p(np.exp(np.linalg.svd(d.kernel.numpy(), compute_uv=False)[0])) for d in dense])

    assert float(model.lipschitz_penalty()) == pytest.approx(expected, rel=1e-5)


def test_smo_loss_adds_the_weighted_penalty(models, data):
    model = models[("ubtm", "smo")]
    x = {k: tf.constant(data[k][:32]) for k in ("numeric", "sparse", "level")}
    cost = tf.constant(data["cost"][:32])
    hp = model.hparams

    values = {k: float(v) for k, v in model._loss_values(x, cost).items()}

    weights = {"tree": hp.w_tree, "reg": hp.w_reg, "std": hp.w_std, "consistency": hp.w_consistency,
               "lipschitz": hp.w_lipschitz}
    assert values["lipschitz"] == pytest.approx(float(model.lipschitz_penalty()), rel=1e-6)
    assert values["loss"] == pytest.approx(sum(w * values[k] for k, w in weights.items()), rel=1e-5)


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURES_OK)
@given(st.lists(st.one_of(st.just(0.0), st.floats(0.0, 2e4, allow_subnormal=False), st.integers(0, 8)), max_size=20))
def test_tree_head_labels_match_the_cost_tree(make_model, tree, picks):
    """TensorFlow's leaf assignment equals NumPy's, at the edges too (subnormal costs: TF flushes them to 0)."""
    model = make_model("ubtm", "sub")
    costs = np.array([tree.edges[p % len(tree.edges)] if isinstance(p, int) else p for p in picks] or [0.0])

    labels, masks = model.tree_head.labels_and_masks(tf.constant(costs, dtype=tf.float64))

    expected_labels, expected_masks = tree.labels_and_masks(costs)
    np.testing.assert_array_equal(labels.numpy(), expected_labels)
    np.testing.assert_array_equal(masks.numpy(), expected_masks)


@pytest.mark.parametrize("costs", ["all_zero", "huge"])
@pytest.mark.parametrize(("kind", "variant"), KIND_VARIANTS)
def test_losses_and_gradients_are_finite_on_extreme_costs(make_model, data, kind, variant, costs):
    model = make_model(kind, variant)
    n = 64
    x = {k: tf.constant(data[k][:n]) for k in ("numeric", "sparse", "level")}
    cost = tf.zeros(n) if costs == "all_zero" else tf.constant(np.where(np.arange(n) % 3 == 0, 1e5, 0.0), tf.float32)

    with tf.GradientTape() as tape:
        values = model._loss_values(x, cost)
    grads = tape.gradient(values["loss"], model.trainable_variables)

    assert all(np.isfinite(float(v)) for v in values.values()), values
    assert all(g is None or np.isfinite(tf.convert_to_tensor(g).numpy()).all() for g in grads)
    assert np.isfinite(model(x)["y"].numpy()).all() and np.isfinite(model(x)["std"].numpy()).all()
