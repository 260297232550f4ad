"""The names and schemas that several stages share (spec §2 and §6): defined here once.

* :data:`KEYS`: the key of a pair, ``(account_id, photo_id)``;
* :data:`SCORES_SCHEMA`: the ``scores`` table scoring writes and the allocation reads (one row per
  pair and decision day; ``pvalue``, ``explore`` and ``r`` hold one value per creative level).
"""

from __future__ import annotations

from pyspark.sql import types as T

KEYS = ("account_id", "photo_id")

SCORES_SCHEMA = T.StructType(
    [
        T.StructField("dt", T.DateType()),
        T.StructField("account_id", T.LongType()),
        T.StructField("photo_id", T.LongType()),
        T.StructField("pvalue", T.ArrayType(T.DoubleType())),
        T.StructField("explore", T.ArrayType(T.DoubleType())),
        T.StructField("r", T.ArrayType(T.DoubleType())),
        T.StructField("cost_7d", T.DoubleType()),
    ]
)
