"""Which model scores tonight: a pinned one, else the newly trained model if it passes the promotion gate.

The gate compares the new model's validation AUC with the champion's (the model ``models/LATEST`` names,
which scored the last published day): the new model is published only if its AUC is at least the
champion's minus ``train.promotion_auc_tolerance`` and it predicted no non-finite value; otherwise the
champion scores today's rows (re-indexed to its vocabularies) and the report says why. A champion that
cannot read today's features (other windows or levels) never blocks the new model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from acq_spark.errors import AcqError
from acq_spark.training.artifact import ModelArtifact, load_artifact


@dataclass(frozen=True)
class ModelChoice:
    """The model that scores, whether it becomes ``LATEST`` once the day is published, and why."""

    artifact: ModelArtifact
    promote: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"model_version": self.artifact.version, "promoted": self.promote, "reason": self.reason}


def pinned(warehouse: str, version: str) -> ModelChoice:
    """The model ``score.model_version`` names; ``LATEST`` is left as it is."""
    return ModelChoice(load_artifact(warehouse, version), False, f"pinned by score.model_version={version}")


def gate(new: ModelArtifact, champion: ModelArtifact | None, tolerance: float | None) -> ModelChoice:
    """The promotion gate's decision between the newly trained model and the champion."""
    new_auc = new.metrics.get("auc")
    if new.metrics.get("non_finite_predictions"):
        if champion is not None:
            bad = new.metrics["non_finite_predictions"]
            return ModelChoice(champion, False, f"new model {new.version} predicted {bad} non-finite values")
    if champion is None:
        return ModelChoice(new, True, "new model: there is no champion yet")
    if tolerance is None:
        return ModelChoice(new, True, "new model: the gate is off (train.promotion_auc_tolerance is null)")
    old_auc = champion.metrics.get("auc")
    if new_auc is None or old_auc is None:
        return ModelChoice(new, True, "new model: the champion or the new model has no AUC to compare")
    figures = f"AUC {new_auc:.4f} vs the champion {champion.version}'s {old_auc:.4f}, tolerance {tolerance:g}"
    if new_auc >= old_auc - tolerance:
        return ModelChoice(new, True, f"new model passed the gate: {figures}")
    return ModelChoice(champion, False, f"the champion scores: the new model {new.version} failed the gate ({figures})")


def champion_for(warehouse: str, spec: dict[str, Any], levels: tuple[int, ...]) -> ModelArtifact | None:
    """The current champion (``models/LATEST``) if there is one that can read today's features ``spec``."""
    from acq_spark.scoring.job import check_model_reads

    try:
        champion = load_artifact(warehouse)
        check_model_reads(champion, spec, levels)
    except AcqError:
        return None
    return champion
