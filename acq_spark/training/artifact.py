"""The versioned model artifact: model, tree, vocabularies, feature spec, configuration, metrics.

Layout: ``<warehouse>/models/<version>/`` with ``model.keras``, ``cost_tree.json``, ``vocab.json``,
``feature_spec.json``, ``config.json``, ``metrics.json``; ``<warehouse>/models/LATEST`` names the
newest complete version and is written last (a failed training leaves the previous one in force).
Every file goes through :mod:`acq_spark.platform.fs`, so the warehouse may be a local folder or a bucket; the model
file is written after the other parts, so a version with a model file is complete.
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acq_spark.config import table_path
from acq_spark.errors import InputNotFoundError
from acq_spark.features.spec import FeatureSpec
from acq_spark.platform import fs
from acq_spark.platform.catalog import MODELS_DIR
from acq_spark.platform.fs import LATEST
from acq_spark.tree.cost_tree import CostTree

MODEL_FILE = "model.keras"


@dataclass(frozen=True)
class ModelArtifact:
    """A saved model version: where it is and what it needs at scoring time."""

    path: str
    version: str
    feature_spec: FeatureSpec  # the layout it was trained on
    tree: CostTree
    metrics: dict[str, Any]
    vocab: dict[str, Any]  # the vocabularies its sparse indices mean: {"oov_index", "vocabularies": {name: [values]}}

    @property
    def model_file(self) -> str:
        return fs.join(self.path, MODEL_FILE)

    def local_model_file(self) -> Path:
        """The model file on this machine: ``<version>.keras``, copied from the warehouse once per version."""
        local = _local_models() / f"{self.version}.keras"
        if not local.is_file():
            fs.download(self.model_file, local, "model artifact")
        return local

    def load_model(self) -> Any:
        """The Keras model (TensorFlow is imported here, not at module level)."""
        import keras

        import acq_spark.models.factory  # noqa: F401  (imports, and so registers, every model class)

        return keras.models.load_model(self.local_model_file(), compile=False)


@functools.cache
def _local_models() -> Path:
    """This process's folder of model copies (Keras opens local files only), removed when it exits."""
    folder = Path(tempfile.mkdtemp(prefix="acq-models-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def models_root(warehouse: str) -> str:
    return table_path(warehouse, MODELS_DIR)


def new_version(decision_day: dt.date, kind: str, variant: str) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{decision_day.isoformat()}_{kind}-{variant}_{stamp}"


def save_artifact(
    warehouse: str,
    version: str,
    model: Any,
    tree: CostTree,
    vocab: dict[str, Any],
    feature_spec: FeatureSpec,
    config: dict[str, Any],
    metrics: dict[str, Any],
    promote: bool = True,
) -> ModelArtifact:
    """Write every part (each whole), the model file last; with ``promote``, point ``LATEST`` at the version.

    The nightly saves without ``promote`` and calls :func:`promote_model` once its allocation is
    published, so that a run that fails later leaves ``LATEST`` as it was.
    """
    root = models_root(warehouse)
    final = fs.join(root, version)
    fs.write_text(fs.join(final, "cost_tree.json"), tree.to_json())
    fs.write_json(fs.join(final, "vocab.json"), vocab)
    fs.write_json(fs.join(final, "feature_spec.json"), feature_spec.to_dict())
    fs.write_json(fs.join(final, "config.json"), config)
    fs.write_json(fs.join(final, "metrics.json"), metrics)
    with tempfile.TemporaryDirectory(prefix="acq-model-") as tmp:
        local = Path(tmp) / MODEL_FILE
        model.save(local)
        fs.upload(local, fs.join(final, MODEL_FILE))
    if promote:
        promote_model(warehouse, version)
    return load_artifact(warehouse, version)


def promote_model(warehouse: str, version: str) -> None:
    """Point ``LATEST`` at the saved model ``version`` (the model that scoring takes by default)."""
    root = models_root(warehouse)
    if not fs.is_file(fs.join(root, version, MODEL_FILE)):
        raise InputNotFoundError(f"model artifact: no {MODEL_FILE} in {fs.join(root, version)}; nothing to promote")
    fs.write_latest(root, version)


def load_artifact(warehouse: str, version: str | None = None) -> ModelArtifact:
    """The artifact ``version`` (default: the one ``LATEST`` names).

    Raises:
        InputNotFoundError: no ``LATEST``, or no model in the version folder.
        UnreadableFileError: ``LATEST`` is not one line of UTF-8 text, or a part of the artifact is unreadable.
    """
    root = models_root(warehouse)
    if version is None:
        latest = fs.join(root, LATEST)
        if not fs.is_file(latest):
            raise InputNotFoundError(f"model artifact: no {latest}; run jobs/train_ubtm.py first")
        version = fs.read_latest(root, "model artifact")
    path = fs.join(root, version)
    if not fs.is_file(fs.join(path, MODEL_FILE)):
        raise InputNotFoundError(f"model artifact: no {MODEL_FILE} in {path}")
    return ModelArtifact(
        path=path,
        version=version,
        feature_spec=FeatureSpec.from_dict(
            fs.read_json(fs.join(path, "feature_spec.json"), "feature spec"), f"model {version}'s feature spec"
        ),
        tree=CostTree.from_json(fs.read_text(fs.join(path, "cost_tree.json"), "model artifact's cost tree")),
        metrics=fs.read_json(fs.join(path, "metrics.json"), "metrics"),
        vocab=fs.read_json(fs.join(path, "vocab.json"), "model artifact's vocabularies"),
    )
