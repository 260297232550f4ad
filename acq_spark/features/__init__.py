"""Point-in-time features (spec §3): pure Spark transforms, their column names, and the job that writes them.

Every feature of a target day t reads only days < t. The transforms live in :mod:`.windows`
(per-pair windows), :mod:`.account` (per-account totals), :mod:`.vocab` (sparse vocabularies),
:mod:`.assemble` (the chain, the decision-day probe rows and the output selections); the
extract → transform → load of ``jobs/build_features.py`` is in :mod:`.job`.
"""

from acq_spark.features.columns import numeric_feature_columns

__all__ = ["numeric_feature_columns"]
