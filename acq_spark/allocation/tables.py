"""The allocation stage's tables: the scores it reads (and checks), the oracle's values, what it writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from acq_spark.errors import InputRowsError, InputSchemaError
from acq_spark.ingest.schemas import KEYS, SCORES_SCHEMA
from acq_spark.platform.frames import one_row

# The columns (and types) of the scores the allocation needs, as SCORES_SCHEMA defines them.
SCORE_TYPES = {f.name: f.dataType.simpleString() for f in SCORES_SCHEMA.fields if f.name in ("dt", *KEYS, "r")}


def check_score_columns(scores: DataFrame, value_column: str = "r", extra: dict[str, str] | None = None) -> None:
    """Check the scores' schema: the keys, ``dt``, ``value_column`` as array<double>, and ``extra`` (no job).

    Raises:
        InputSchemaError: a missing column or one of the wrong type.
    """
    types = dict(scores.dtypes)
    for name, kind in {**SCORE_TYPES, value_column: "array<double>", **(extra or {})}.items():
        if name not in types:
            raise InputSchemaError(f"scores: missing column {name!r} ({kind})")
        if types[name] != kind:
            raise InputSchemaError(f"scores: column {name!r} is {types[name]}, expected {kind}")


def check_score_rows(scores: DataFrame, n_levels: int, value_column: str = "r") -> int:
    """Check the scores' arrays (length K, finite) and unique keys; the number of pairs.

    One job over the rows (keys grouped with their bad arrays counted); the examples are looked for only when
    something is wrong. Run it on a cached frame that the solve reads next, and it fills the cache too.

    Raises:
        InputRowsError: bad arrays or duplicate keys, with a few example keys.
    """
    arr = F.col(value_column)
    inf = F.lit(float("inf"))
    bad_element = F.exists(arr, lambda x: x.isNull() | F.isnan(x) | (F.abs(x) == inf))
    bad = arr.isNull() | (F.size(arr) != n_levels) | bad_element
    per_key = scores.groupBy(*KEYS).agg(F.count("*").alias("rows"), F.sum(bad.cast("int")).alias("bad"))
    totals = one_row(per_key.agg(F.count("*").alias("pairs"), F.sum("rows").alias("rows"), F.sum("bad").alias("bad")))
    if totals["bad"]:
        examples = scores.where(bad).select(*KEYS).limit(3).collect()
        raise InputRowsError(
            f"scores: {value_column} must hold {n_levels} finite numbers; bad rows e.g. {[tuple(r) for r in examples]}"
        )
    if (totals["rows"] or 0) > totals["pairs"]:
        dup = per_key.where(F.col("rows") > 1).select(*KEYS).limit(3).collect()
        raise InputRowsError(f"scores: duplicate (account_id, photo_id), e.g. {[tuple(r) for r in dup]}")
    return int(totals["pairs"])


def with_truth_values(scores: DataFrame, truth: DataFrame) -> DataFrame:
    """Replace ``r`` by the truth's ``expected_cost`` of the same pair (the oracle's values); keys kept."""
    return scores.drop("r").join(truth.select(*KEYS, F.col("expected_cost").alias("r")), on=list(KEYS), how="left")


def at_levels(scores: DataFrame, level: Column, levels: Sequence[int]) -> DataFrame:
    """Each pair of ``scores`` at the level index ``level`` (not solved: given), in a solve's columns:
    account_id, photo_id, level, n_creatives, r."""
    level = level.cast("int")
    return scores.select(
        *KEYS,
        level.alias("level"),
        F.element_at(F.array(*[F.lit(int(n)) for n in levels]), level + 1).cast("int").alias("n_creatives"),
        F.element_at("r", level + 1).alias("r"),
    )


def pairs_and_creatives(alloc: DataFrame) -> tuple[int, int]:
    """An allocation's pairs and the creatives it gives them (one job)."""
    totals = one_row(alloc.agg(F.count("*").alias("pairs"), F.sum("n_creatives").alias("creatives")))
    return int(totals["pairs"]), int(totals["creatives"] or 0)


def allocation_table(
    alloc: DataFrame,
    day: dt.date,
    lam: float | None,
    run_id: str,
    method: str,
    model_version: str | None = None,
    arm: str | None = None,
) -> DataFrame:
    """The ``allocation`` rows: dt, keys, level, n_creatives, r, cost_units, lambda, run_id, method, model_version, arm.

    ``run_id`` and ``model_version`` (the model that wrote the scores the day was solved from) are the
    rows' lineage: which run made them, from which model. ``arm``: the holdout's arm (null without one).
    """
    return alloc.select(
        F.lit(day).cast("date").alias("dt"),
        F.col("account_id").cast("long"),
        F.col("photo_id").cast("long"),
        F.col("level").cast("int"),
        F.col("n_creatives").cast("int"),
        F.col("r").cast("double"),
        F.col("n_creatives").cast("int").alias("cost_units"),
        F.lit(lam).cast("double").alias("lambda"),
        F.lit(run_id).alias("run_id"),
        F.lit(method).alias("method"),
        F.lit(model_version).cast("string").alias("model_version"),
        F.lit(arm).cast("string").alias("arm"),
    )


def account_rules(allocation: DataFrame) -> DataFrame:
    """Per account and day: photos, total creatives and the per-photo quotas (sorted by photo_id).

    Each row keeps the allocation's lineage, ``run_id`` and ``model_version`` (one of each per day), and the
    account's arm.
    """
    quota = F.struct(
        F.col("photo_id").cast("long").alias("photo_id"), F.col("n_creatives").cast("int").alias("n_creatives")
    )
    return allocation.groupBy("dt", "account_id").agg(
        F.count("*").cast("int").alias("photos"),
        F.sum("n_creatives").cast("long").alias("total_creatives"),
        F.array_sort(F.collect_list(quota)).alias("quotas"),
        F.first("run_id").alias("run_id"),
        F.first("model_version").alias("model_version"),
        F.first("arm").alias("arm"),
    )
