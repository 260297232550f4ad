"""The promotion gate (:mod:`acq_spark.training.promotion`) on artifacts that differ only in their metrics."""

from __future__ import annotations

import pytest

from acq_spark.training.artifact import ModelArtifact
from acq_spark.training.promotion import gate
from acq_spark.tree.cost_tree import CostTree


def model(version: str, auc: float | None, non_finite: int = 0) -> ModelArtifact:
    metrics = {"auc": auc, "non_finite_predictions": non_finite}
    return ModelArtifact(f"/wh/models/{version}", version, {}, CostTree.__new__(CostTree), metrics, {})


def test_a_new_model_within_the_tolerance_of_the_champion_is_published():
    choice = gate(model("new", 0.71), model("old", 0.72), tolerance=0.02)
    assert choice.artifact.version == "new" and choice.promote
    assert "passed the gate: AUC 0.7100 vs the champion old's 0.7200, tolerance 0.02" in choice.reason


def test_a_new_model_worse_beyond_the_tolerance_leaves_the_champion_scoring():
    choice = gate(model("new", 0.60), model("old", 0.72), tolerance=0.02)
    assert choice.artifact.version == "old" and not choice.promote
    assert choice.reason.startswith("the champion scores: the new model new failed the gate (AUC 0.6000")


def test_non_finite_predictions_fail_the_gate_and_the_first_model_or_no_gate_always_pass():
    assert gate(model("new", 0.9, non_finite=3), model("old", 0.7), 0.02).artifact.version == "old"
    assert gate(model("new", 0.5), None, 0.02).promote
    assert gate(model("new", 0.5), model("old", 0.9), None).promote
    assert gate(model("new", None), model("old", 0.9), 0.02).artifact.version == "new"



def test_a_model_of_another_feature_layout_is_refused_naming_what_differs():
    from acq_spark.scoring.job import ModelMismatchError, check_model_reads

    spec = {"levels": [1, 2], "numeric_features": ["cost_sum_1d"], "sparse_features": [{"name": "product_name"}]}
    same = ModelArtifact("/wh/models/m", "m", spec, CostTree.__new__(CostTree), {}, {})
    check_model_reads(same, spec, (1, 2))
    other = ModelArtifact("/wh/models/m", "m", {**spec, "numeric_features": ["cost_sum_7d"]}, same.tree, {}, {})
    with pytest.raises(ModelMismatchError, match=r"model m reads other numeric features .*cost_sum_1d"):
        check_model_reads(other, spec, (1, 2))
    with pytest.raises(ModelMismatchError, match=r"model m: levels \[1, 2\] differ from \[1, 3\]"):
        check_model_reads(same, spec, (1, 3))
