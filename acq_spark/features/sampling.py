"""Which training examples the trainer uses: the label days' split and the hash sample of each part.

Training uses every label day but the last; validation uses the last (the "next day" of the paper).
Each part is down-sampled to about ``train.max_examples`` rows by a hash of (seed, dt, keys) below
``max_rows / total``, not by ``DataFrame.sample``: the same rows are drawn however the table is
partitioned, and the features stage can draw the very rows the trainer will use before it builds
them (:func:`training_sample`), so that only those examples are materialised.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from pyspark.sql import Column
from pyspark.sql import functions as F

from acq_spark.ingest.schemas import KEYS


def split_days(label_days: Sequence[str | dt.date]) -> tuple[list[dt.date], dt.date]:
    """Train on every label day but the last; validate on the last (the "next day" of the paper)."""
    days = sorted(d if isinstance(d, dt.date) else dt.date.fromisoformat(d) for d in label_days)
    if len(days) < 2:
        raise ValueError(f"training needs at least two label days (train + validation), got {len(days)}")
    return days[:-1], days[-1]


def sample_rate(total: int, max_rows: int) -> float:
    """The share of ``total`` rows that keeps about ``max_rows`` of them (1.0 when all fit)."""
    return 1.0 if total <= max_rows else max_rows / total


def hash_unit(seed: int) -> Column:
    """A number in [0, 1) per row, a hash of (seed, dt, keys): the same for a row wherever it is computed."""
    bits = F.xxhash64(F.lit(seed), "dt", *KEYS).bitwiseAND(F.lit((1 << 53) - 1))
    return bits / float(1 << 53)


def in_part(days: Sequence[dt.date], total: int, max_rows: int, seed: int) -> Column:
    """Whether a row belongs to the sample of ``days`` (of ``total`` rows in all, ``max_rows`` kept)."""
    rate = sample_rate(total, max_rows)
    on_days = F.col("dt").isin(list(days))
    return on_days if rate >= 1.0 else on_days & (hash_unit(seed) < F.lit(rate))


def sample_parts(
    label_days: Sequence[str | dt.date], examples_per_day: Mapping[dt.date, int] | None = None
) -> list[tuple[list[dt.date], int | None]]:
    """The trainer's two parts, each (days, its examples): the training days, then the validation day.

    The totals come from ``examples_per_day`` (the run calendar's counts); None when it is empty.
    """
    train_days, val_day = split_days(label_days)
    parts = [train_days, [val_day]]
    if not examples_per_day:
        return [(days, None) for days in parts]
    return [(days, sum(examples_per_day.get(d, 0) for d in days)) for days in parts]


def training_sample(
    label_days: Sequence[dt.date], examples_per_day: Mapping[dt.date, int], max_rows: int, seed: int
) -> Column:
    """Whether a row is one of the examples the trainer uses: the training part's sample or the validation day's.

    Args:
        label_days: the run's label days.
        examples_per_day: the training examples of each label day (input rows with a level).
        max_rows: ``train.max_examples``, per part.
        seed: the run's seed.
    """
    (train_days, train_total), (val_days, val_total) = sample_parts(label_days, examples_per_day)
    if train_total is None or val_total is None:
        raise ValueError("training_sample: examples_per_day is empty; the sample needs each label day's examples")
    return in_part(train_days, train_total, max_rows, seed) | in_part(val_days, val_total, max_rows, seed)
