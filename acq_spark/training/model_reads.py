"""Whether a model can read the day's rows: the same features and levels, and its vocabularies mapped onto theirs.

Scoring checks the model it is given; the promotion checks the champion before comparing it on today's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from acq_spark.errors import ModelMismatchError
from acq_spark.features.columns import SPARSE
from acq_spark.features.spec import FeatureSpec
from acq_spark.features.vocab import OOV_INDEX
from acq_spark.training.artifact import ModelArtifact


def check_model_reads(artifact: ModelArtifact, spec: FeatureSpec, levels: Sequence[int]) -> None:
    """Check that the model ``artifact`` reads the numeric features, sparse columns and levels of ``spec``.

    Raises:
        ModelMismatchError: naming the model version and what differs.
    """
    model = artifact.feature_spec
    if tuple(model.levels) != tuple(levels):
        raise ModelMismatchError(f"model {artifact.version}: levels {list(model.levels)} differ from {list(levels)}")
    if model.numeric_features != spec.numeric_features:
        extra = sorted(set(model.numeric_features) ^ set(spec.numeric_features))[:3]
        raise ModelMismatchError(
            f"model {artifact.version} reads other numeric features than today's scoring rows hold (e.g. {extra}); "
            "it was trained with other windows: pin a model of the current feature layout"
        )
    if model.sparse_names != spec.sparse_names:
        raise ModelMismatchError(f"model {artifact.version} reads other sparse columns than today's scoring rows hold")


def vocab_maps(rows_vocab: dict[str, Any], model_vocab: dict[str, Any]) -> dict[str, list[int]]:
    """Per sparse column whose vocabularies differ: the model's index at each of the rows' indices.

    Position i of a map is the rows' index i (0, the out-of-vocabulary index, first); a value the model's
    vocabulary lacks maps to its out-of-vocabulary index. Columns with identical vocabularies are left out.
    """
    ours, theirs = rows_vocab["vocabularies"], model_vocab["vocabularies"]
    oov = int(model_vocab.get("oov_index", OOV_INDEX))
    maps = {}
    for name in SPARSE:
        if ours[name] != theirs[name]:
            index = {value: i + 1 for i, value in enumerate(theirs[name])}
            maps[name] = [oov] + [index.get(value, oov) for value in ours[name]]
    return maps
