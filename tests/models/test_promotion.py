"""The promotion gate (:mod:`acq_spark.training.promotion`) on artifacts that differ only in their metrics."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from acq_spark.features.spec import FeatureSpec, SparseFeature
from acq_spark.ingest.run_calendar import RunCalendar
from acq_spark.training.artifact import ModelArtifact
from acq_spark.training.promotion import champion_metrics, gate
from acq_spark.tree.cost_tree import CostTree


def layout(numeric=("cost_sum_1d",), sparse=("product_name",), levels=(1, 2)) -> FeatureSpec:
    """A feature spec with these columns and levels (the calendar does not matter here)."""
    calendar = RunCalendar(dt.date(2026, 1, 3), dt.date(2026, 1, 2), (dt.date(2026, 1, 1), dt.date(2026, 1, 2)))
    sparse_features = tuple(SparseFeature(name, f"{name}_idx", 2) for name in sparse)
    return FeatureSpec(tuple(numeric), sparse_features, tuple(levels), (1,), calendar)


def model(version: str, auc: float | None, non_finite: int = 0) -> ModelArtifact:
    metrics = {"auc": auc, "non_finite_predictions": non_finite}
    return ModelArtifact(f"/wh/models/{version}", version, layout(), CostTree.__new__(CostTree), metrics, {})


def test_a_new_model_within_the_tolerance_of_the_champion_is_published():
    choice = gate(model("new", 0.71), model("old", 0.72), tolerance=0.02)
    assert choice.artifact.version == "new" and choice.promote
    assert "passed the gate: AUC 0.7100 vs the champion old's 0.7200 (recorded on its own day" in choice.reason
    assert choice.reason.endswith("tolerance 0.02")


def test_a_new_model_worse_beyond_the_tolerance_leaves_the_champion_scoring():
    choice = gate(model("new", 0.60), model("old", 0.72), tolerance=0.02)
    assert choice.artifact.version == "old" and not choice.promote
    assert choice.reason.startswith("the champion scores: the new model new failed the gate (AUC 0.6000")


def test_the_gate_compares_the_champion_on_the_same_rows_when_training_scored_it():
    # recorded on its own day the champion had 0.70; on today's validation rows it has 0.75
    same_rows = {"champion": {"version": "old", "auc": 0.75}, "n_val": 1_000, "val_day": "2026-01-15"}
    new = model("new", 0.72)
    new = ModelArtifact(new.path, new.version, new.feature_spec, new.tree, {**new.metrics, **same_rows}, {})
    choice = gate(new, model("old", 0.70), tolerance=0.02)
    assert choice.artifact.version == "old" and not choice.promote
    assert "AUC 0.7200 vs the champion old's 0.7500 (on the same 1,000 rows of 2026-01-15)" in choice.reason
    # a champion other than the one scored on the same rows: its recorded AUC, said so
    assert "recorded on its own day" in gate(new, model("older", 0.70), tolerance=0.02).reason


def first_index_model(arrays):
    """A stand-in for the champion's predictions: y[:, k] = (k + 1) × the first sparse index, so the rows show."""
    first = arrays["sparse"][:, 0].astype(np.float32)
    return np.stack([first, 2 * first], axis=1)


def test_the_champion_is_scored_on_the_same_rows_with_its_own_vocabularies():
    spec = layout(sparse=("product_name", "industry_l1", "industry_l2"))
    ours = {"vocabularies": {"product_name": ["a", "b", "c"], "industry_l1": ["x"], "industry_l2": ["y"]}}
    theirs = {"vocabularies": {"product_name": ["c", "a"], "industry_l1": ["x"], "industry_l2": ["y"]}}
    champion = ModelArtifact("/wh/models/old", "old", spec, CostTree.__new__(CostTree), {"auc": 0.5}, theirs)
    val = {
        "numeric": np.zeros((4, 1), np.float32),
        "sparse": np.array([[1, 1, 1], [2, 1, 1], [3, 1, 1], [0, 1, 1]], np.int32),  # a, b, c, out of vocabulary
        "level": np.array([0, 1, 0, 1], np.int32),
        "cost": np.array([1.0, 0.0, 3.0, 0.0], np.float32),
        "account_id": np.array([1, 1, 2, 2]),
        "photo_id": np.arange(4),
    }
    metrics = champion_metrics(champion, first_index_model, val, spec, ours)
    # in the champion's vocabularies a → 2, b → 0 (unknown), c → 1, unknown → 0: predictions 2, 0, 1, 0 at the level
    assert metrics["version"] == "old"
    assert metrics["auc"] == 1.0 and metrics["mse"] == pytest.approx(((1 - 2) ** 2 + 0 + (3 - 1) ** 2 + 0) / 4)
    np.testing.assert_array_equal(val["sparse"][:, 0], [1, 2, 3, 0])  # the rows handed in are left as they were


def test_non_finite_predictions_fail_the_gate_and_the_first_model_or_no_gate_always_pass():
    assert gate(model("new", 0.9, non_finite=3), model("old", 0.7), 0.02).artifact.version == "old"
    assert gate(model("new", 0.5), None, 0.02).promote
    assert gate(model("new", 0.5), model("old", 0.9), None).promote
    assert gate(model("new", None), model("old", 0.9), 0.02).artifact.version == "new"



def test_a_model_of_another_feature_layout_is_refused_naming_what_differs():
    from acq_spark.errors import ModelMismatchError
    from acq_spark.training.model_reads import check_model_reads

    spec = layout()
    same = ModelArtifact("/wh/models/m", "m", spec, CostTree.__new__(CostTree), {}, {})
    check_model_reads(same, spec, (1, 2))
    other = ModelArtifact("/wh/models/m", "m", layout(numeric=("cost_sum_7d",)), same.tree, {}, {})
    with pytest.raises(ModelMismatchError, match=r"model m reads other numeric features .*cost_sum_1d"):
        check_model_reads(other, spec, (1, 2))
    with pytest.raises(ModelMismatchError, match=r"model m: levels \[1, 2\] differ from \[1, 3\]"):
        check_model_reads(same, spec, (1, 3))
