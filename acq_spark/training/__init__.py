"""Training on the driver: examples from Delta through Arrow, the model artifact, the Table-2 evaluation.

TensorFlow and :mod:`models` are imported inside the functions that need them only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from acq_spark import lazy_face

if TYPE_CHECKING:  # the names lazy_face gives, for the type checker
    from acq_spark.training.artifact import ModelArtifact as ModelArtifact
    from acq_spark.training.artifact import load_artifact as load_artifact
    from acq_spark.training.job import run_training as run_training

_LAZY = {"ModelArtifact": "artifact", "load_artifact": "artifact", "run_training": "job"}
__all__ = [*_LAZY]
__getattr__ = lazy_face(__name__, _LAZY)
