"""The creative levels of the spec (§2): whether a row has one, and the creatives a row counts at its level."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column
from pyspark.sql import functions as F


def has_level(n: Column, levels: Sequence[int]) -> Column:
    """Whether ``n`` creatives reach the smallest of ``levels``: rows with a level, the training examples."""
    return n >= min(levels)


def level_creatives(n: Column, levels: Sequence[int]) -> Column:
    """``n`` mapped to the largest of ``levels`` ≤ n (spec §2), 0 below the smallest: the creatives the features see."""
    mapped = F.lit(0)
    for level in levels:
        mapped = F.when(n >= level, F.lit(level)).otherwise(mapped)
    return mapped
