"""Point-in-time features (spec §3): pure Spark transforms, their column names, and the job that writes them.

Every feature of a target day t reads only days < t. The transforms live in :mod:`.windows`
(per-pair windows), :mod:`.account` (per-account totals), :mod:`.vocab` (sparse vocabularies),
:mod:`.assemble` (the chain, the decision-day probe rows and the output selections); the
extract → transform → load of ``jobs/build_features.py`` is in :mod:`.job`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from acq_spark import lazy_face
from acq_spark.features.columns import numeric_feature_columns

if TYPE_CHECKING:  # the names lazy_face gives, for the type checker
    from acq_spark.features.job import BuiltFeatures as BuiltFeatures
    from acq_spark.features.job import load_built_features as load_built_features
    from acq_spark.features.job import run_build_features as run_build_features
    from acq_spark.features.spec import FeatureSpec as FeatureSpec
    from acq_spark.features.spec import SparseFeature as SparseFeature

_LAZY = {"BuiltFeatures": "job", "load_built_features": "job", "run_build_features": "job"}
_LAZY |= {"FeatureSpec": "spec", "SparseFeature": "spec"}
__all__ = ["numeric_feature_columns", *_LAZY]
__getattr__ = lazy_face(__name__, _LAZY)
