"""The versioned model artifact: model, tree, vocabularies, feature spec, configuration, metrics.

Layout: ``<warehouse>/models/<version>/`` with ``model.keras``, ``cost_tree.json``, ``vocab.json``,
``feature_spec.json``, ``config.json``, ``metrics.json``; ``<warehouse>/models/LATEST`` names the
newest complete version and is written last (a failed training leaves the previous one in force).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acq_spark.config import table_path
from acq_spark.errors import InputNotFoundError
from acq_spark.tables import read_json, read_pointer, read_text, write_json, write_text
from acq_spark.tree.cost_tree import CostTree

MODELS_DIR = "models"
LATEST = "LATEST"
MODEL_FILE = "model.keras"


@dataclass(frozen=True)
class ModelArtifact:
    """A saved model version: where it is and what it needs at scoring time."""

    path: Path
    version: str
    feature_spec: dict[str, Any]
    tree: CostTree
    metrics: dict[str, Any]

    @property
    def model_file(self) -> Path:
        return self.path / MODEL_FILE

    def load_model(self) -> Any:
        """The Keras model (TensorFlow is imported here, not at module level)."""
        import keras

        import acq_spark.models.factory  # noqa: F401  (imports, and so registers, every model class)

        return keras.models.load_model(self.model_file, compile=False)


def models_root(warehouse: str) -> Path:
    return Path(table_path(warehouse, MODELS_DIR))


def new_version(decision_day: dt.date, kind: str, variant: str) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{decision_day.isoformat()}_{kind}-{variant}_{stamp}"


def save_artifact(
    warehouse: str,
    version: str,
    model: Any,
    tree: CostTree,
    vocab: dict[str, Any],
    feature_spec: dict[str, Any],
    config: dict[str, Any],
    metrics: dict[str, Any],
    promote: bool = True,
) -> ModelArtifact:
    """Write every part into a temporary folder and rename it into place; with ``promote``, point ``LATEST`` at it.

    The nightly saves without ``promote`` and calls :func:`promote_model` once its allocation is
    published, so that a run that fails later leaves ``LATEST`` as it was.
    """
    root = models_root(warehouse)
    final, tmp = root / version, root / f".{version}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save(tmp / MODEL_FILE)
    write_text(tmp / "cost_tree.json", tree.to_json())
    write_json(tmp / "vocab.json", vocab)
    write_json(tmp / "feature_spec.json", feature_spec)
    write_json(tmp / "config.json", config)
    write_json(tmp / "metrics.json", metrics)
    os.replace(tmp, final)
    if promote:
        promote_model(warehouse, version)
    return load_artifact(warehouse, version)


def promote_model(warehouse: str, version: str) -> None:
    """Point ``LATEST`` at the saved model ``version`` (the model that scoring takes by default)."""
    root = models_root(warehouse)
    if not (root / version / MODEL_FILE).is_file():
        raise InputNotFoundError(f"model artifact: no {MODEL_FILE} in {root / version}; nothing to promote")
    write_text(root / LATEST, version + "\n")


def load_artifact(warehouse: str, version: str | None = None) -> ModelArtifact:
    """The artifact ``version`` (default: the one ``LATEST`` names).

    Raises:
        InputNotFoundError: no ``LATEST``, or no model in the version folder.
        UnreadableFileError: ``LATEST`` is not one line of UTF-8 text, or a part of the artifact is unreadable.
    """
    root = models_root(warehouse)
    if version is None:
        latest = root / LATEST
        if not latest.is_file():
            raise InputNotFoundError(f"model artifact: no {latest}; run jobs/train_ubtm.py first")
        version = read_pointer(latest, "model artifact")
    path = root / version
    if not (path / MODEL_FILE).is_file():
        raise InputNotFoundError(f"model artifact: no {MODEL_FILE} in {path}")
    return ModelArtifact(
        path=path,
        version=version,
        feature_spec=read_json(path / "feature_spec.json", "feature spec"),
        tree=CostTree.from_json(read_text(path / "cost_tree.json", "model artifact's cost tree")),
        metrics=read_json(path / "metrics.json", "metrics"),
    )
