"""Backfills: the nightly chain for each day of a range, in order, each day seeing only the input before it.

Each day is one nightly (:func:`~acq_spark.pipeline.nightly.run_nightly` with ``run_date`` = the day) with its own
run id (``<backfill run id>.<YYYYMMDD>``), so each day's artifacts are versioned by its run and each day
replaces only its own partitions and its own publish pointer. The first failing day stops the backfill,
naming the day; the days before it stay published. A day already published from the same input (the
pointer's ``input_fingerprint``, :func:`~acq_spark.ingest.days.input_fingerprint`) is skipped unless
``force``, so re-running a range resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass

from pyspark.sql import SparkSession

from acq_spark.allocation.publish import read_pointer
from acq_spark.config import Config
from acq_spark.errors import BackfillError
from acq_spark.ingest.days import input_fingerprint, read_input
from acq_spark.pipeline.nightly import run_nightly
from acq_spark.platform.run_log import LOG, current_run_id, set_run_id


@dataclass(frozen=True)
class BackfillDay:
    """What the backfill did for one day: ``ran`` or ``skipped``, in how many seconds, by which run."""

    day: dt.date
    status: str
    seconds: float
    run_id: str


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """The days from ``first`` to ``last``, both included.

    Raises:
        ValueError: ``last`` is before ``first``.
    """
    if last < first:
        raise ValueError(f"backfill: --to {last} is before --from {first}")
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def run_backfill(
    spark: SparkSession, cfg: Config, first: dt.date, last: dt.date, force: bool = False
) -> list[BackfillDay]:
    """Run the nightly for every day from ``first`` to ``last``, in order; the days done.

    Raises:
        BackfillError: naming the first day that failed (with its cause chained); later days are not run.
    """
    days = days_between(first, last)
    base = current_run_id() or set_run_id()
    done: list[BackfillDay] = []
    LOG.info("backfill %s to %s: %d day(s)%s", first, last, len(days), ", --force" if force else "")
    try:
        for i, day in enumerate(days, 1):
            set_run_id(f"{base}.{day:%Y%m%d}")
            start = time.perf_counter()
            pointer = read_pointer(cfg.warehouse, day)
            same_input = pointer and pointer.get("input_fingerprint") == input_fingerprint(read_input(spark, cfg), day)
            if not force and pointer and same_input:
                done.append(BackfillDay(day, "skipped", time.perf_counter() - start, pointer["run_id"]))
                LOG.info("backfill day %d/%d %s: skipped, published by run %s from the same input",
                         i, len(days), day, pointer["run_id"])  # fmt: skip
                continue
            try:
                run_nightly(spark, dataclasses.replace(cfg, run_date=day))
            except Exception as exc:
                raise BackfillError(
                    f"backfill stopped at {day} (day {i} of {len(days)}; {len(done)} done before it): "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            done.append(BackfillDay(day, "ran", time.perf_counter() - start, current_run_id() or base))
            LOG.info("backfill day %d/%d %s: done in %.1f s", i, len(days), day, done[-1].seconds)
    finally:
        set_run_id(base)
    return done
