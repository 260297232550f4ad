"""Vocabularies of the sparse columns: index 0 = out of vocabulary or null, then by falling frequency, then name."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

OOV_INDEX = 0
VOCAB_SCHEMA = T.StructType([T.StructField("value", T.StringType()), T.StructField("idx", T.IntegerType())])


def vocab_counts(df: DataFrame, column: str) -> DataFrame:
    """``(value, count)``: how many rows of ``df`` have each non-null value of ``column``."""
    return (
        df.where(F.col(column).isNotNull()).groupBy(F.col(column).alias("value")).agg(F.count(F.lit(1)).alias("count"))
    )


def ordered_vocab(counts: Iterable[tuple[str, int]]) -> list[str]:
    """The values ordered by descending count, then by name: value ``i`` of the list has index ``i + 1``."""
    return [value for value, _ in sorted(counts, key=lambda vc: (-vc[1], vc[0]))]


def vocab_rows(values: Sequence[str]) -> list[tuple[str, int]]:
    """``(value, idx)`` rows for a vocabulary (the rows of a :data:`VOCAB_SCHEMA` DataFrame)."""
    return [(value, i + 1) for i, value in enumerate(values)]


def with_vocab_index(df: DataFrame, column: str, vocab: DataFrame, name: str) -> DataFrame:
    """Add ``name`` (int): the index of ``column`` in ``vocab`` (``value``, ``idx``), :data:`OOV_INDEX` when absent.

    ``vocab`` is small and broadcast; nulls and values outside it map to the out-of-vocabulary index.
    """
    lookup = F.broadcast(vocab.select(F.col("value").alias("_vocab_value"), F.col("idx").alias("_vocab_idx")))
    joined = df.join(lookup, F.col(column) == F.col("_vocab_value"), how="left")
    index = F.coalesce(F.col("_vocab_idx"), F.lit(OOV_INDEX)).cast("int")
    return joined.withColumn(name, index).drop("_vocab_value", "_vocab_idx")
