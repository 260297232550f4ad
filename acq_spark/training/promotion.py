"""Which model scores tonight: a pinned one, else the newly trained model if it passes the promotion gate.

The gate compares the new model's validation AUC with the champion's (the model ``models/LATEST`` names,
which scored the last published day): the new model is published only if its AUC is at least the
champion's minus ``train.promotion_auc_tolerance`` and it predicted no non-finite value; otherwise the
champion scores today's rows (re-indexed to its vocabularies) and the report says why. A champion that
cannot read today's features (other windows or levels), or was trained for a later day than today's (in
a backfill: it has seen the days after it), never blocks the new model; and a backfilled day's model never
takes ``LATEST`` from a later day's.
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


def decision_day(artifact: ModelArtifact) -> str:
    """The decision day (ISO) the model was trained for."""
    return str(artifact.feature_spec.get("decision_day", ""))


def gate(new: ModelArtifact, champion: ModelArtifact | None, tolerance: float | None) -> ModelChoice:
    """The promotion gate's decision between the newly trained model and the champion."""
    new_auc = new.metrics.get("auc")
    if new.metrics.get("non_finite_predictions"):
        if champion is not None:
            bad = new.metrics["non_finite_predictions"]
            return ModelChoice(champion, False, f"new model {new.version} predicted {bad} non-finite values")
    if champion is None:
        reason = "new model: no champion to compare with (none yet, or one for a later day or other features)"
        return ModelChoice(new, True, reason)
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
    """The current champion (``models/LATEST``) if it can read today's features ``spec`` and is not from a later day."""
    from acq_spark.scoring.job import check_model_reads

    try:
        champion = load_artifact(warehouse)
        check_model_reads(champion, spec, levels)
    except AcqError:
        return None
    return champion if decision_day(champion) <= str(spec["decision_day"]) else None


def takes_latest(warehouse: str, choice: ModelChoice) -> bool:
    """Whether the chosen model should become ``LATEST``: promoted, and no later day's model holds it."""
    if not choice.promote:
        return False
    try:
        current = load_artifact(warehouse)
    except AcqError:
        return True
    return decision_day(choice.artifact) >= decision_day(current)
