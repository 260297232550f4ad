"""The promotion gate (:mod:`acq_spark.training.promotion`) on artifacts that differ only in their metrics."""

from __future__ import annotations

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

