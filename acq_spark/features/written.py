"""The per-pair window features of the written rows only, in one vectorised pass over each pair's rows.

The window path (:func:`acq_spark.features.windows.with_pair_windows`) evaluates every window aggregate
for every input row, although only the trainer's sample and the decision day's probes are written (about a
tenth of the rows at 10M pairs). Here the rows, partitioned by account and sorted by pair and day, go
through ``mapInArrow`` once, and NumPy computes the features of the *target* rows alone. Each frame's
values are added in day order starting from 0.0, as Spark's window sum adds them, so the doubles are the
same bit for bit (tests/features/test_written_rows.py compares the two paths row for row).

The rows are partitioned by account first (free when validation left them so), so that a pair's rows are
contiguous within one partition; they may still span two Arrow batches: the last pair of a batch is held
back and computed with the next batch. The pass runs in Spark's Python workers: NumPy and PyArrow, no
TensorFlow.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from acq_spark.config.schema import lookback_days
from acq_spark.features.columns import (
    DAY,
    LEVEL,
    METRICS,
    OBS,
    PAIR_AGE,
    PROBE,
    SPARSE,
    TRAILING_COST,
    TRAILING_COST_DAYS,
    asof_col,
    days_active_col,
    mean_col,
    sum_col,
)
from acq_spark.features.windows import metric_value
from acq_spark.ingest.schemas import KEYS
from acq_spark.ingest.validation import by_account

TARGET = "_target"
# Carried through the pass unchanged for the target rows: what the outputs select besides the features.
PASSED = ("dt", PROBE, "n_creatives", "cost")


def _value(name: str) -> str:
    return f"_value_{name}"


def feature_fields(windows: Sequence[int]) -> list[T.StructField]:
    """The fields the pass computes, typed as the window path types them."""
    double = T.DoubleType()
    fields = []
    for w in windows:
        fields += [T.StructField(sum_col(m, w), double) for m in METRICS]
        fields += [T.StructField(mean_col(m, w), double) for m in METRICS]
        fields.append(T.StructField(days_active_col(w), double))
    fields.append(T.StructField(PAIR_AGE, double))
    fields += [T.StructField(asof_col(name), T.StringType()) for name in SPARSE]
    fields.append(T.StructField(OBS, T.ArrayType(T.IntegerType())))
    fields.append(T.StructField(TRAILING_COST, double))
    return fields


def with_written_row_features(rows: DataFrame, windows: Sequence[int], n_levels: int, partitions: int) -> DataFrame:
    """The rows of ``rows`` whose :data:`TARGET` is true, with every per-pair window feature of the window path.

    Args:
        rows: the input rows with ``day``, ``level_idx``, :data:`TARGET` (true for the rows to compute), the
            metrics, the sparse columns and :data:`PASSED`.
        windows: window lengths in days.
        n_levels: the number of creative levels (``obs_per_level``'s length).
        partitions: the partitions of :func:`~acq_spark.ingest.validation.by_account`: rows validation left so
            partitioned are not shuffled again (Spark drops a repartition its input already has); any others are,
            since the pass needs every row of a pair in one partition.

    Returns:
        Per target row: the keys, ``day``, ``level_idx``, :data:`PASSED` and :func:`feature_fields`.
    """
    passed = [rows.schema[name] for name in PASSED]
    key_fields = [rows.schema[k] for k in (*KEYS, DAY, LEVEL)]
    out = T.StructType([*key_fields, *passed, *feature_fields(windows)])
    projected = rows.select(
        *KEYS, DAY, LEVEL, *PASSED, F.coalesce(F.col(TARGET), F.lit(False)).alias(TARGET),
        *[metric_value(m).cast("double").alias(_value(m)) for m in METRICS], *SPARSE,
    )  # fmt: skip
    ordered = by_account(projected, partitions).sortWithinPartitions(*KEYS, DAY)
    compute = partial(_targets_of_batches, windows=tuple(windows), n_levels=n_levels, passed=tuple(PASSED))
    return ordered.mapInArrow(compute, out)


def _targets_of_batches(
    batches: Iterator[pa.RecordBatch], windows: tuple[int, ...], n_levels: int, passed: tuple[str, ...]
) -> Iterator[pa.RecordBatch]:
    """The target rows' features of one partition's batches (sorted by pair and day), batch by batch."""
    held: pa.Table | None = None
    for batch in batches:
        table = pa.Table.from_batches([batch])
        if held is not None:
            table = pa.concat_tables([held, table])
        if not table.num_rows:
            continue
        starts = _pair_starts(table)
        last = int(np.flatnonzero(starts)[-1])
        held = table.slice(last)  # the last pair may go on in the next batch
        if last > 0:
            yield from _targets_of(table.slice(0, last), starts[:last], windows, n_levels, passed)
    if held is not None and held.num_rows:
        yield from _targets_of(held, _pair_starts(held), windows, n_levels, passed)


def _pair_starts(table: pa.Table) -> np.ndarray:
    """Whether each row starts a pair (the first row, or another key than the row before)."""
    account, photo = (table[k].to_numpy() for k in KEYS)
    starts = np.ones(table.num_rows, dtype=bool)
    starts[1:] = (account[1:] != account[:-1]) | (photo[1:] != photo[:-1])
    return starts


def _targets_of(
    table: pa.Table, starts: np.ndarray, windows: tuple[int, ...], n_levels: int, passed: tuple[str, ...]
) -> Iterator[pa.RecordBatch]:
    """The features of ``table``'s target rows; ``table`` holds whole pairs, sorted by pair and day, and
    ``starts`` says which rows start a pair (:func:`_pair_starts`)."""
    n = table.num_rows
    rows = np.arange(n)
    first = np.maximum.accumulate(np.where(starts, rows, 0))  # each row's pair's first row
    targets = np.flatnonzero(table[TARGET].to_numpy(zero_copy_only=False))
    if targets.size == 0:
        return
    day = table[DAY].to_numpy(zero_copy_only=False).astype(np.int64)
    t = day[targets]
    start = first[targets]
    values = {m: pc.fill_null(table[_value(m)], 0.0).to_numpy() for m in METRICS}
    active = (pc.fill_null(table["n_creatives"], 0).to_numpy() > 0).astype(np.float64)
    level = pc.fill_null(table[LEVEL], -1).to_numpy()
    longest = lookback_days(windows)
    spans = sorted({*windows, TRAILING_COST_DAYS})
    sums = {(name, w): np.zeros(targets.size) for name in (*METRICS, "active") for w in spans}
    obs = np.zeros((targets.size, n_levels), dtype=np.int32)
    # offsets from the oldest to the newest day: each sum adds its frame's values in day order from 0.0,
    # as Spark's window sum does (rows are unique per pair and day, so a frame of w days holds at most w rows)
    for k in range(longest, 0, -1):
        j = targets - k
        earlier = j >= start
        j = np.where(earlier, j, 0)
        age = t - day[j]
        for w in spans:
            inside = earlier & (age <= w)
            for name in METRICS:
                sums[name, w] += np.where(inside, values[name][j], 0.0)
            sums["active", w] += np.where(inside, active[j], 0.0)
        inside = earlier & (age <= max(windows))
        for k_level in range(n_levels):
            obs[:, k_level] += (inside & (level[j] == k_level)).astype(np.int32)
    columns: dict[str, pa.Array] = {}
    for w in windows:
        for name in METRICS:
            columns[sum_col(name, w)] = pa.array(sums[name, w])
        for name in METRICS:
            columns[mean_col(name, w)] = pa.array(sums[name, w] / float(w))
        columns[days_active_col(w)] = pa.array(sums["active", w])
    columns[PAIR_AGE] = pa.array(np.where(targets > start, (t - day[start]).astype(np.float64), 0.0))
    for name in SPARSE:
        columns[asof_col(name)] = _latest_before(table[name], rows, first, targets)
    columns[OBS] = pa.FixedSizeListArray.from_arrays(pa.array(obs.ravel()), n_levels).cast(pa.list_(pa.int32()))
    columns[TRAILING_COST] = pa.array(sums["cost", TRAILING_COST_DAYS])
    picked = table.select([*KEYS, DAY, LEVEL, *passed]).take(pa.array(targets))
    out = pa.Table.from_arrays([*picked.columns, *columns.values()], names=[*picked.column_names, *columns])
    yield from out.to_batches()


def _latest_before(values: pa.ChunkedArray, rows: np.ndarray, first: np.ndarray, targets: np.ndarray) -> pa.Array:
    """Each target's latest non-null value among its pair's earlier rows (null when there is none)."""
    present = pc.is_valid(values).to_numpy(zero_copy_only=False)
    latest = np.maximum.accumulate(np.where(present, rows, -1))  # the last non-null row up to each row
    before = np.where(targets > 0, latest[np.maximum(targets - 1, 0)], -1)
    found = before >= first[targets]
    return pc.take(values, pa.array(np.where(found, before, 0), mask=~found)).combine_chunks()
