"""Factory, hyper-parameters, prediction shapes, and save -> load -> identical predictions."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from conftest import KIND_VARIANTS, LEVELS, N_NUMERIC, VOCAB_SIZES

from acq_spark.config import TrainConfig
from acq_spark.config.hparams import ModelHParams
from acq_spark.models.factory import build_model, cread_thresholds_from_tree
from acq_spark.models.fitting import predict


def outputs(model, data) -> dict[str, np.ndarray]:
    out = model({"numeric": data["numeric"], "sparse": data["sparse"]}, training=False)
    return {key: out[key].numpy() for key in ("y", "std")}


@pytest.mark.parametrize(("kind", "variant"), KIND_VARIANTS)
def test_save_load_gives_identical_predictions(make_model, data, tmp_path, kind, variant):
    model = make_model(kind, variant)
    before = outputs(model, data)

    path = tmp_path / f"{kind}-{variant}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False)
    after = outputs(loaded, data)

    assert type(loaded) is type(model) and loaded.variant == variant
    assert before["y"].shape == before["std"].shape == (len(data["cost"]), len(LEVELS))
    np.testing.assert_array_equal(after["y"], before["y"])
    np.testing.assert_array_equal(after["std"], before["std"])
    assert float(loaded.cost_scale) == float(model.cost_scale) != 1.0
    np.testing.assert_array_equal(loaded.standardize.mean.numpy(), model.standardize.mean.numpy())


def test_loaded_ubtm_keeps_its_tree(make_model, tree, tmp_path):
    model = make_model("ubtm", "sub")
    model.save(tmp_path / "ubtm.keras")

    loaded = keras.saving.load_model(tmp_path / "ubtm.keras", compile=False)

    assert loaded.tree.version == tree.version
    assert loaded.get_config() == model.get_config()


def test_std_is_learned_for_ubtm_and_ziln_and_zero_for_dnn_and_cread(make_model, data):
    stds = {kind: outputs(make_model(kind, "control"), data)["std"] for kind in ("ubtm", "dnn", "ziln", "cread")}

    assert (stds["ubtm"] > 0).all() and (stds["ziln"] > 0).all()
    assert (stds["dnn"] == 0).all() and (stds["cread"] == 0).all()


def test_predict_ignores_training_keys_and_handles_no_rows(make_model, data):
    model = make_model("dnn", "control")
    only_inputs = predict(model, {"numeric": data["numeric"], "sparse": data["sparse"]})
    empty = predict(model, {"numeric": np.zeros((0, N_NUMERIC)), "sparse": np.zeros((0, len(VOCAB_SIZES)))})

    np.testing.assert_allclose(only_inputs["y"], outputs(model, data)["y"], rtol=1e-6)
    assert only_inputs["y"].dtype == np.float32
    assert empty["y"].shape == empty["std"].shape == (0, len(LEVELS))


@pytest.mark.parametrize(
    ("kind", "variant", "tree_given", "message"),
    [
        ("gbdt", "control", True, "kind"),
        ("ubtm", "control", False, "cost tree"),
        ("ubtm", "concave", True, "variant"),
        ("ziln", "sub", True, "only 'control'"),
        ("cread", "control", False, "cost tree"),
    ],
)
def test_build_model_rejects_bad_requests(tree, hparams, kind, variant, tree_given, message):
    with pytest.raises(ValueError, match=message):
        build_model(kind, variant, levels=LEVELS, n_numeric=N_NUMERIC, vocab_sizes=VOCAB_SIZES,
                    tree=tree if tree_given else None, hparams=hparams)


def test_cread_thresholds_cover_the_tail_of_the_tree(tree):
    thresholds = cread_thresholds_from_tree(tree)

    assert set(tree.edges) <= set(thresholds) and thresholds[-1] == tree.leaves[-1].mean
    assert list(thresholds) == sorted(set(thresholds))


def test_hparams_map_from_train_config_and_round_trip():
    train = TrainConfig(hidden_units=(32, 16), w_std=0.5, w_lipschitz=0.01, learning_rate=0.01)

    hp = ModelHParams.from_train_config(train, reg_loss="huber")

    assert (hp.hidden_units, hp.w_std, hp.w_lipschitz, hp.learning_rate, hp.reg_loss) == ((32, 16), 0.5, 0.01, 0.01,
                                                                                         "huber")
    assert (hp.embedding_dim, hp.w_tree, hp.w_reg, hp.w_consistency) == (8, 1.0, 1.0, 1.0)
    assert ModelHParams.from_dict(hp.to_dict()) == hp
    with pytest.raises(ValueError, match="w_std"):
        ModelHParams(w_std=-1.0)


def test_every_custom_layer_round_trips_its_config(make_model):
    model = make_model("ubtm", "sub")

    for layer in (model.standardize, model.tower, model.heads, model.tree_head):
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config


def test_an_excluded_feature_does_not_move_the_prediction_and_the_mask_survives_a_save(data, tree, hparams, tmp_path):
    from acq_spark.errors import ConfigError
    from acq_spark.models.factory import adapt_normalization, numeric_mask

    names = [f"f{i}_sum_1d" for i in range(N_NUMERIC - 1)] + ["n_creatives_sum_1d"]
    mask = numeric_mask(names, ["n_creatives_*", "f0_*"])
    assert mask == (0.0, 1.0, 1.0, 0.0) and numeric_mask(names, []) is None
    with pytest.raises(ConfigError, match=r"\['acct_\*'\] match no numeric feature"):
        numeric_mask(names, ["n_creatives_*", "acct_*"])

    model = build_model("ubtm", "sub", levels=LEVELS, n_numeric=N_NUMERIC, vocab_sizes=VOCAB_SIZES, tree=tree,
                        hparams=hparams, seed=1, numeric_mask=mask)  # fmt: skip
    adapt_normalization(model, data["numeric"], data["cost"])
    moved = {**data, "numeric": data["numeric"].copy()}
    moved["numeric"][:, [0, 3]] *= 50.0  # the excluded columns only
    np.testing.assert_array_equal(outputs(model, moved)["y"], outputs(model, data)["y"])
    moved["numeric"][:, 1] *= 50.0  # a column it reads
    assert not np.array_equal(outputs(model, moved)["y"], outputs(model, data)["y"])

    model.save(tmp_path / "masked.keras")
    loaded = keras.saving.load_model(tmp_path / "masked.keras", compile=False)
    assert loaded.numeric_mask == mask
    np.testing.assert_array_equal(outputs(loaded, data)["y"], outputs(model, data)["y"])
