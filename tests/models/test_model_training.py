"""End-to-end training on tiny synthetic data: the loss falls, runs repeat, trained models reload."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
from conftest import LEVELS, N_NUMERIC, VOCAB_SIZES, synthetic

from acq_spark.models.fitting import fit, predict

FIT = {"epochs": 2, "batch_size": 32, "patience": 2, "seed": 7, "verbose": 0}


@pytest.fixture(scope="module")
def val():
    return synthetic(200, seed=1)


def val_loss(model, arrays, batch_size: int = 256) -> float:
    x = {k: arrays[k] for k in ("numeric", "sparse", "level")}
    return float(model.evaluate(x, arrays["cost"], batch_size=batch_size, verbose=0, return_dict=True)["loss"])


def test_ubtm_fit_lowers_the_validation_loss_and_reloads(make_model, data, val, tmp_path):
    model = make_model("ubtm", "sub", fresh=True)
    before = val_loss(model, val)

    history = fit(model, data, val, **FIT)

    assert val_loss(model, val) < before
    assert {"loss", "tree", "reg", "std", "consistency", "val_loss", "val_tree"} <= set(history.history)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    model.save(tmp_path / "trained.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # e.g. optimizer variables skipped on load
        loaded = keras.saving.load_model(tmp_path / "trained.keras")
    np.testing.assert_array_equal(predict(loaded, val)["y"], predict(model, val)["y"])


def test_fit_with_the_same_seed_gives_the_same_weights(make_model, data, val):
    runs = []
    for _ in range(2):
        model = make_model("cread", "control", fresh=True, seed=3)
        fit(model, data, val, **{**FIT, "epochs": 1}, deterministic=True)
        runs.append([w.numpy() for w in model.weights])

    for first, second in zip(*runs, strict=True):
        np.testing.assert_array_equal(first, second)


def test_fit_rejects_levels_outside_the_model(make_model, data, val):
    bad = {**data, "level": np.full_like(data["level"], 9)}

    with pytest.raises(ValueError, match="level indices"):
        fit(make_model("dnn", "control"), bad, val, **FIT)


def test_with_weight_averaging_the_model_ends_with_the_averaged_weights_it_validated(data, tree, val, tmp_path):
    from acq_spark.config.hparams import ModelHParams
    from acq_spark.models.factory import adapt_normalization, build_model

    weights, history = {}, {}
    for ema in (0.0, 0.9):
        hparams = ModelHParams(hidden_units=(16, 8), embedding_dim=3, ema_momentum=ema)
        model = build_model("ubtm", "sub", levels=LEVELS, n_numeric=N_NUMERIC, vocab_sizes=VOCAB_SIZES,
                            tree=tree, hparams=hparams, seed=5)  # fmt: skip
        adapt_normalization(model, data["numeric"], data["cost"])
        history[ema] = fit(model, data, val, **{**FIT, "epochs": 3, "patience": 3}).history
        weights[ema] = [w.numpy() for w in model.trainable_weights]

    # The raw steps are the same with and without the average; only what is validated and kept differs.
    np.testing.assert_allclose(history[0.9]["loss"], history[0.0]["loss"], rtol=1e-5)
    assert any(not np.allclose(a, b) for a, b in zip(weights[0.9], weights[0.0], strict=True))
    # Validated in the fit's batches, as the fit validated each epoch.
    assert val_loss(model, val, FIT["batch_size"]) == pytest.approx(min(history[0.9]["val_loss"]), rel=1e-6)
    model.save(tmp_path / "averaged.keras")
    loaded = keras.saving.load_model(tmp_path / "averaged.keras")
    np.testing.assert_array_equal(predict(loaded, val)["y"], predict(model, val)["y"])


def test_weight_averaging_momentum_must_be_below_one():
    from acq_spark.config.hparams import ModelHParams

    with pytest.raises(ValueError, match="ema_momentum"):
        ModelHParams(ema_momentum=1.0)
