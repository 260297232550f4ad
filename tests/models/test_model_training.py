"""End-to-end training on tiny synthetic data: the loss falls, runs repeat, trained models reload."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
from conftest import synthetic

from acq_spark.models.fitting import fit, predict

FIT = {"epochs": 2, "batch_size": 32, "patience": 2, "seed": 7, "verbose": 0}


@pytest.fixture(scope="module")
def val():
    return synthetic(200, seed=1)


def val_loss(model, arrays) -> float:
    x = {k: arrays[k] for k in ("numeric", "sparse", "level")}
    return float(model.evaluate(x, arrays["cost"], batch_size=256, verbose=0, return_dict=True)["loss"])


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
