"""The feature chain and the two outputs cut from it: training examples and the decision day's scoring rows.

Scoring needs features as of the decision day, which has no input rows. :func:`with_decision_probes`
adds one *probe* row per pair seen on the last input day, dated the decision day, with null values;
the same windows then give its features (they read only earlier days), and the probes are dropped
from the training examples.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from acq_spark.features.account import account_totals, with_account_totals, with_cost_per_creative
from acq_spark.features.columns import (
    DAY,
    LEVEL,
    NUMERIC_PACKED,
    OBS,
    PROBE,
    SPARSE,
    TRAILING_COST,
    asof_col,
    idx_col,
    numeric_feature_columns,
)
from acq_spark.features.vocab import with_vocab_index
from acq_spark.features.windows import (
    HISTORY,
    with_day_number,
    with_history,
    with_level_idx,
    with_pair_windows,
    without_history,
)
from acq_spark.features.written import TARGET, with_written_row_features
from acq_spark.ingest.schemas import KEYS


def with_decision_probes(df: DataFrame, decision_day: dt.date, last_input_day: dt.date) -> DataFrame:
    """Add ``is_probe`` and a probe row on ``decision_day`` (values null) per pair with a row on ``last_input_day``."""

    def probe_value(name: str, data_type: T.DataType) -> Column:
        if name == "dt":
            return F.lit(decision_day).alias("dt")
        return F.col(name) if name in KEYS else F.lit(None).cast(data_type).alias(name)

    last_rows = df.where(F.col("dt") == F.lit(last_input_day))
    probes = last_rows.select(*[probe_value(f.name, f.dataType) for f in df.schema.fields])
    return df.withColumn(PROBE, F.lit(False)).unionByName(probes.withColumn(PROBE, F.lit(True)))


def with_point_in_time_features(
    df: DataFrame, windows: Sequence[int], levels: Sequence[int], history: DataFrame | None = None
) -> DataFrame:
    """Every feature of every row as of the row's own day, from earlier days only.

    Args:
        df: ``creative_daily`` rows (spec §2 schema), possibly with decision-day probes.
        windows: window lengths in days (the largest one also bounds ``obs_per_level``).
        levels: the configured creative levels (ascending).
        history: a row per pair standing for the input days before ``df``'s
            (:func:`acq_spark.features.history.history_rows`); None when ``df`` holds every earlier day.

    Returns:
        ``df`` with ``day``, ``level_idx`` (of the row's own n_creatives: the label side), the numeric
        features, ``<sparse>_asof``, ``obs_per_level`` and ``cost_7d``.
    """
    return (
        df.transform(with_history, history)
        .transform(with_day_number)
        .transform(with_level_idx, levels)
        .transform(with_pair_windows, windows, len(levels))
        .transform(with_cost_per_creative, windows)
        .transform(with_account_totals, windows)
        .transform(without_history)
    )


def with_written_row_point_in_time_features(
    df: DataFrame,
    windows: Sequence[int],
    levels: Sequence[int],
    target: Column,
    partitions: int,
    history: DataFrame | None = None,
) -> DataFrame:
    """The rows of ``df`` where ``target`` holds, with :func:`with_point_in_time_features`' columns, computed for
    those rows only (:mod:`acq_spark.features.written`, in ``partitions`` by account); the account totals still
    count every row."""
    rows = df.transform(with_history, history).transform(with_day_number).transform(with_level_idx, levels)
    if HISTORY in rows.columns:  # a row standing for earlier days is never written
        target &= ~F.col(HISTORY)
    rows = rows.withColumn(TARGET, target)
    features = with_written_row_features(rows, windows, len(levels), partitions)
    features = features.transform(with_cost_per_creative, windows)
    return features.join(account_totals(rows, windows), on=["account_id", DAY], how="left")


def with_sparse_indices(df: DataFrame, vocabs: Mapping[str, DataFrame]) -> DataFrame:
    """Map each sparse column's as-of value to ``<name>_idx`` with its vocabulary DataFrame (``value``, ``idx``)."""
    for name in SPARSE:
        df = with_vocab_index(df, asof_col(name), vocabs[name], idx_col(name))
    return df


def feature_columns(windows: Sequence[int]) -> list[str]:
    """The columns common to training examples and scoring rows, in order (after the keys and ``dt``)."""
    return [*[idx_col(c) for c in SPARSE], *numeric_feature_columns(windows), OBS, TRAILING_COST]


def select_training_examples(features: DataFrame, label_days: Sequence[dt.date], windows: Sequence[int]) -> DataFrame:
    """Input rows on ``label_days`` with a level: keys, features, ``level_idx``, ``n_creatives``, label ``cost``."""
    return features.where(~F.col(PROBE) & F.col("dt").isin(list(label_days)) & F.col(LEVEL).isNotNull()).select(
        "dt", *KEYS, *feature_columns(windows), LEVEL, "n_creatives", "cost"
    )


def select_scoring_rows(features: DataFrame, windows: Sequence[int]) -> DataFrame:
    """The probe rows: one per pair seen on the last input day, features as of the decision day.

    Besides one column per feature, the numeric features are packed into :data:`NUMERIC_PACKED`
    (see :func:`packed_numeric`), which is what the scorer reads.
    """
    names = numeric_feature_columns(windows)
    return features.where(F.col(PROBE)).select("dt", *KEYS, *feature_columns(windows), packed_numeric(names))


def packed_numeric(names: Sequence[str], alias: str = NUMERIC_PACKED) -> Column:
    """The columns ``names`` as one ``array<float>`` column, the names kept in its field metadata.

    Spark hands one array column to Python workers far faster than many scalar columns, and reads it
    back from Parquet faster too; float32 is what the model computes in.
    """
    return F.array(*[F.col(c).cast("float") for c in names]).alias(alias, metadata={"features": list(names)})
