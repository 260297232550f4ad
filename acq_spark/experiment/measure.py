"""The nightly's measurement of the holdout: every earlier decision day it now has logs for → ``experiment_results``.

A day counts when its publish pointer says a holdout ran (``experiment``) and the validated logs hold
that day. Each allocated pair is matched with its log row (a pair without one ran nothing and cost
nothing); each arm's accounts give the realised cost per pair and per creative, and the relative uplift of
treatment over control on the cost per pair, with a 95% interval over accounts (:mod:`.uplift`). On the
simulated world the truth of the same day gives the true uplift beside it: each arm's expected cost at
the levels it was allocated.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import reduce
from typing import Any

import numpy as np
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from acq_spark.allocation.publish import read_pointer, read_versions
from acq_spark.config import Config, table_path
from acq_spark.experiment.assignment import ARMS, CONTROL, TREATMENT
from acq_spark.experiment.uplift import ArmTotals, Uplift, relative_uplift
from acq_spark.ingest.schemas import KEYS
from acq_spark.platform import fs
from acq_spark.platform.catalog import EXPERIMENT_RESULTS, POINTERS, TRUTH
from acq_spark.platform.delta_tables import replace_days, table_exists
from acq_spark.platform.run_log import StageTimer


@dataclass(frozen=True)
class DayMeasurement:
    """One decision day of a holdout measured from its logs: each arm's totals, the uplift, the truth's uplift."""

    day: dt.date
    control_method: str
    arms: Mapping[str, ArmTotals]
    uplift: Uplift
    true_uplift: float | None = None

    def to_row(self) -> dict[str, Any]:
        """The day's ``experiment_results`` row (one column per arm and figure)."""
        row: dict[str, Any] = {"dt": self.day, "control_method": self.control_method}
        for arm in ARMS:
            totals = self.arms[arm]
            row.update({f"{arm}_{k}": v for k, v in asdict(totals).items()})
            row[f"{arm}_cost_per_pair"] = _or_none(totals.cost_per_pair)
            row[f"{arm}_cost_per_creative"] = _or_none(totals.cost_per_creative)
        row.update(uplift=_or_none(self.uplift.estimate), uplift_se=_or_none(self.uplift.se),
                   ci_low=_or_none(self.uplift.low), ci_high=_or_none(self.uplift.high),
                   true_uplift=None if self.true_uplift is None else _or_none(self.true_uplift))  # fmt: skip
        return row


def _or_none(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


RESULT_COLUMNS = (
    "dt date, control_method string, "
    + ", ".join(
        f"{arm}_accounts long, {arm}_pairs long, {arm}_creatives long, {arm}_cost double, "
        f"{arm}_paying_accounts long, {arm}_cost_per_pair double, {arm}_cost_per_creative double"
        for arm in ARMS
    )
    + ", uplift double, uplift_se double, ci_low double, ci_high double, true_uplift double"
)


def holdout_days(warehouse: str, days: Iterable[dt.date]) -> dict[dt.date, dict[str, Any]]:
    """The days among ``days`` whose publish pointer records a holdout, with that pointer."""
    published = set(fs.list_names(table_path(warehouse, POINTERS), ".json"))
    out = {}
    for day in sorted(set(days)):
        pointer = read_pointer(warehouse, day) if f"{day}.json" in published else None
        if pointer and pointer.get("experiment"):
            out[day] = pointer
    return out


def account_totals(allocation: DataFrame, logs: DataFrame) -> DataFrame:
    """Per (dt, arm, account): allocated pairs, and the creatives run and cost realised by them in ``logs``."""
    logged = logs.select("dt", *KEYS, F.col("n_creatives").alias("_n"), F.col("cost").alias("_cost"))
    joined = allocation.select("dt", *KEYS, "arm").join(logged, on=["dt", *KEYS], how="left")
    return joined.groupBy("dt", "arm", "account_id").agg(
        F.count(F.lit(1)).alias("pairs"),
        F.coalesce(F.sum("_n"), F.lit(0)).cast("long").alias("creatives"),
        F.coalesce(F.sum("_cost"), F.lit(0.0)).alias("cost"),
    )


def true_costs(allocation: DataFrame, truth: DataFrame) -> dict[tuple[dt.date, str], tuple[int, float]]:
    """Per (dt, arm): allocated pairs with a truth row and their true expected cost at the allocated level."""
    joined = allocation.select("dt", *KEYS, "arm", "level").join(
        truth.select("dt", *KEYS, "expected_cost"), on=["dt", *KEYS], how="inner"
    )
    rows = joined.groupBy("dt", "arm").agg(
        F.count(F.lit(1)).alias("pairs"), F.sum(F.element_at("expected_cost", F.col("level") + 1)).alias("cost")
    )
    return {(r["dt"], r["arm"]): (int(r["pairs"]), float(r["cost"] or 0.0)) for r in rows.collect()}


def measure(
    accounts: Sequence[Mapping[str, Any]], day: dt.date, control_method: str, truth: Mapping[str, tuple[int, float]]
) -> DayMeasurement:
    """One day's :class:`DayMeasurement` from its per-account rows (``arm``, ``pairs``, ``creatives``, ``cost``).

    ``truth``: per arm, (pairs, true expected cost), or empty when the day has no truth.
    """
    arms, sums = {}, {}
    for arm in ARMS:
        rows = [r for r in accounts if r["arm"] == arm]
        y = np.array([r["cost"] for r in rows], dtype=np.float64)
        n = np.array([r["pairs"] for r in rows], dtype=np.float64)
        creatives = int(sum(r["creatives"] for r in rows))
        arms[arm] = ArmTotals(len(rows), int(n.sum()), creatives, float(y.sum()), int((y > 0).sum()))
        sums[arm] = (y, n)
    uplift = relative_uplift(*sums[TREATMENT], *sums[CONTROL])
    true = None
    if all(arm in truth and truth[arm][0] > 0 for arm in ARMS):
        per_pair = {arm: truth[arm][1] / truth[arm][0] for arm in ARMS}
        true = per_pair[TREATMENT] / per_pair[CONTROL] - 1 if per_pair[CONTROL] > 0 else None
    return DayMeasurement(day, control_method, arms, uplift, true)


def measure_days(
    spark: SparkSession, cfg: Config, logs: DataFrame, days: Iterable[dt.date]
) -> list[DayMeasurement]:
    """Measure each of ``days`` with a holdout from ``logs`` (validated ``creative_daily`` rows); write the results.

    Returns:
        The days measured, in order (none when no day had a holdout); their rows replace theirs in
        ``experiment_results``.
    """
    pointers = holdout_days(cfg.warehouse, days)
    if not pointers:
        return []
    allocation = reduce(
        DataFrame.unionByName,
        [read_versions(spark, cfg.warehouse, day, p["versions"])[0].select("dt", *KEYS, "arm", "level")
         for day, p in pointers.items()],
    )  # fmt: skip
    wanted = [F.lit(d) for d in pointers]
    per_account = account_totals(allocation, logs.where(F.col("dt").isin(*wanted))).collect()
    truth: dict[tuple[dt.date, str], tuple[int, float]] = {}
    if table_exists(spark, cfg.table(TRUTH)):
        truth_rows = spark.read.format("delta").load(cfg.table(TRUTH)).where(F.col("dt").isin(*wanted))
        truth = true_costs(allocation, truth_rows)
    results = []
    for day, pointer in pointers.items():
        rows = [r.asDict() for r in per_account if r["dt"] == day]
        day_truth = {arm: truth[(day, arm)] for arm in ARMS if (day, arm) in truth}
        results.append(measure(rows, day, pointer["experiment"]["control_method"], day_truth))
    frame = spark.createDataFrame([m.to_row() for m in results], RESULT_COLUMNS)
    replace_days(frame, cfg.table(EXPERIMENT_RESULTS), list(pointers), merge_schema=True)
    return results


def run_experiment_measure(
    spark: SparkSession, cfg: Config, timer: StageTimer, logs: DataFrame, days: Iterable[dt.date]
) -> list[DayMeasurement]:
    """The nightly's stage: :func:`measure_days` over the input days, logged with the last day's uplift."""
    with timer.stage("experiment measure") as rec:
        results = measure_days(spark, cfg, logs, days)
        rec.figures.update(days=len(results))
        if results:
            last = results[-1]
            rec.figures.update(day=str(last.day), uplift=last.uplift.estimate, ci_low=last.uplift.low,
                               ci_high=last.uplift.high)  # fmt: skip
    return results
