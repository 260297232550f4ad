"""Which model scores tonight: a pinned one, else the newly trained model if it passes the promotion gate.

The gate compares the new model's validation AUC with the champion's (the model ``models/LATEST`` names,
which scored the last published day) on the same rows: training scores the champion on the new model's
validation rows too (:func:`champion_metrics`, recorded in the new model's metrics), since an AUC recorded
on another day says nothing about which model is better today. The new model is published only if its AUC
is at least the champion's minus ``train.promotion_auc_tolerance`` and it predicted no non-finite value; otherwise the
champion scores today's rows (re-indexed to its vocabularies) and the report says why. A champion that
cannot read today's features (other windows or levels), or was trained for a later day than today's (in
a backfill: it has seen the days after it), never blocks the new model; and a backfilled day's model never
takes ``LATEST`` from a later day's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from acq_spark.errors import AcqError
from acq_spark.features.spec import FeatureSpec
from acq_spark.training.artifact import ModelArtifact, load_artifact
from acq_spark.training.model_reads import check_model_reads, vocab_maps


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
        reason = "new model: no champion to compare with (none yet, or one for a later day or other features)"
        return ModelChoice(new, True, reason)
    if tolerance is None:
        return ModelChoice(new, True, "new model: the gate is off (train.promotion_auc_tolerance is null)")
    same = new.metrics.get("champion") or {}
    if same.get("version") == champion.version and same.get("auc") is not None:
        old_auc, rows = same["auc"], f"on the same {new.metrics.get('n_val', 0):,} rows of {new.metrics.get('val_day')}"
    else:  # a new model trained without the champion at hand: only the AUC the champion recorded on its own day
        old_auc, rows = champion.metrics.get("auc"), f"recorded on its own day {champion.metrics.get('val_day')}"
    if new_auc is None or old_auc is None:
        return ModelChoice(new, True, "new model: the champion or the new model has no AUC to compare")
    figures = (
        f"AUC {new_auc:.4f} vs the champion {champion.version}'s {old_auc:.4f} ({rows}), tolerance {tolerance:g}"
    )
    if new_auc >= old_auc - tolerance:
        return ModelChoice(new, True, f"new model passed the gate: {figures}")
    return ModelChoice(champion, False, f"the champion scores: the new model {new.version} failed the gate ({figures})")


def champion_metrics(
    champion: ModelArtifact,
    predict_y: Callable[[Mapping[str, np.ndarray]], np.ndarray],
    val: Mapping[str, np.ndarray],
    spec: FeatureSpec,
    rows_vocab: dict[str, Any],
) -> dict[str, Any]:
    """The champion's Table-2 metrics on the validation rows ``val`` a new model is judged on, and its version.

    Args:
        champion: the champion's artifact (its vocabularies).
        predict_y: the champion's predictions ``y`` [N, K] of model inputs (``numeric``, ``sparse``).
        val: the validation arrays, their sparse indices built with ``rows_vocab``.
        spec: the feature spec of ``val`` (the order of its sparse columns).
        rows_vocab: the vocabularies ``val`` was built with; each sparse index is mapped to the champion's.
    """
    from acq_spark.training.evaluate import table2_row

    maps = vocab_maps(rows_vocab, champion.vocab)
    sparse = np.array(val["sparse"], copy=True)
    for j, name in enumerate(spec.sparse_names):
        if name in maps:
            mapping = np.asarray(maps[name], dtype=sparse.dtype)
            sparse[:, j] = mapping[np.clip(sparse[:, j], 0, mapping.size - 1)]
    return {"version": champion.version, **table2_row(predict_y({**val, "sparse": sparse}), val)}


def champion_for(warehouse: str, spec: FeatureSpec, levels: tuple[int, ...]) -> ModelArtifact | None:
    """The current champion (``models/LATEST``) if it can read today's features ``spec`` and is not from a later day."""
    try:
        champion = load_artifact(warehouse)
        check_model_reads(champion, spec, levels)
    except AcqError:
        return None
    return champion if champion.feature_spec.decision_day <= spec.decision_day else None


def takes_latest(warehouse: str, choice: ModelChoice) -> bool:
    """Whether the chosen model should become ``LATEST``: promoted, and no later day's model holds it."""
    if not choice.promote:
        return False
    try:
        current = load_artifact(warehouse)
    except AcqError:
        return True
    return choice.artifact.feature_spec.decision_day >= current.feature_spec.decision_day
