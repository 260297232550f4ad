"""The closed loop on the simulated world: the nightly decides a day, the world logs it under that decision, repeat.

Night after night the model learns from logs its own allocations produced. Each night: the nightly
(:func:`~acq_spark.pipeline.nightly.run_nightly`) decides day D from the logs before it and publishes D's
allocation; the world logs D under it (:func:`~acq_spark.simulate.job.log_published_day`), its truth moves
to D + 1; with a holdout, D's uplift is measured from those logs at once (the next nightly measures it
again from what it validates, the same rows). One row per night goes to the ``closed_loop`` table: Table 4's
shares of the oracle (ACQ and the rule at the same budget), the model, λ*, creatives used, the uplift.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
from dataclasses import asdict, dataclass
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from acq_spark.allocation.publish import read_pointer
from acq_spark.allocation.record import AllocationRecord
from acq_spark.config import Config, ConfigError
from acq_spark.errors import AcqError
from acq_spark.evaluation.table4 import Table4
from acq_spark.ingest.days import read_input
from acq_spark.platform import fs
from acq_spark.platform.catalog import CLOSED_LOOP, allocation_record, nightly_record, report_dir
from acq_spark.platform.delta_tables import replace_days
from acq_spark.platform.frames import one_row
from acq_spark.platform.run_log import LOG, StageTimer, current_run_id, set_run_id

COLUMNS = (
    "dt date, run_id string, model_version string, model_auc double, acq_share_of_oracle double, "
    "rule_share_of_oracle double, lambda double, budget long, creatives_used long, holdout boolean, "
    "uplift double, ci_low double, ci_high double, true_uplift double, nightly_seconds double, world_seconds double"
)


@dataclass(frozen=True)
class Night:
    """One night of the loop: what was decided for ``dt``, how it did on the truth, and the holdout's measure."""

    dt: dt.date
    run_id: str
    model_version: str | None
    model_auc: float | None
    acq_share_of_oracle: float | None
    rule_share_of_oracle: float | None
    lam: float | None
    budget: int
    creatives_used: int
    holdout: bool
    uplift: float | None
    ci_low: float | None
    ci_high: float | None
    true_uplift: float | None
    nightly_seconds: float
    world_seconds: float

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["lambda"] = row.pop("lam")
        return row


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def next_decision_day(spark: SparkSession, cfg: Config) -> dt.date:
    """The day after the input's last day: the day the next night decides."""
    last = one_row(read_input(spark, cfg).agg(F.max("dt")))[0]
    if last is None:
        raise AcqError(f"closed loop: creative_daily at {cfg.input_path} has no rows")
    return last + dt.timedelta(days=1)


def night_facts(cfg: Config, day: dt.date, run_id: str) -> dict[str, Any]:
    """What the nightly of ``day`` (run ``run_id``) decided: its publish pointer, allocation record, Table 4, model."""
    from acq_spark.training.artifact import load_artifact

    pointer = read_pointer(cfg.warehouse, day) or {}
    record = AllocationRecord.from_dict(
        fs.read_json(allocation_record(cfg.warehouse, day, run_id), "allocation run record")
    )
    table4_path = f"{report_dir(cfg.warehouse, day)}/table4.json"
    table4 = Table4.from_dict(fs.read_json(table4_path, "Table 4 summary")) if fs.is_file(table4_path) else None
    version = (pointer.get("scores") or {}).get("model_version")
    auc = load_artifact(cfg.warehouse, version).metrics.get("auc") if version else None
    share = {m: table4.share_of_oracle(m) if table4 is not None else None for m in ("acq", "rule_based")}
    return {
        "model_version": version,
        "model_auc": _finite(auc),
        "acq_share_of_oracle": share["acq"],
        "rule_share_of_oracle": share["rule_based"],
        "lam": _finite(record.solve.lam),
        "budget": int(pointer.get("budget", 0)),
        "creatives_used": int(pointer.get("budget_used", 0)),
        "holdout": bool(pointer.get("experiment")),
    }


def run_closed_loop(spark: SparkSession, cfg: Config, nights: int, timer: StageTimer | None = None) -> list[Night]:
    """Run ``nights`` nights of the loop from the input's last day on; each night's row into ``closed_loop``.

    Each night has its own run id (``<loop run id>.<YYYYMMDD>``). The last night's report is rebuilt at the
    end so that its closed-loop section holds every night.

    Raises:
        ConfigError: ``nights`` < 1, or ``run_date`` is set (each night decides the day after the last input day).
        InputNotFoundError: no simulated world in the warehouse.
    """
    from acq_spark.experiment.measure import measure_days
    from acq_spark.pipeline.nightly import run_nightly
    from acq_spark.report.build import build_report
    from acq_spark.simulate.job import load_world, log_published_day

    if nights < 1:
        raise ConfigError(f"closed loop: --nights must be at least 1, got {nights}")
    if cfg.run_date is not None:
        raise ConfigError("closed loop: run_date must be null; each night decides the day after the last input day")
    load_world(cfg)  # before the first nightly: the loop needs a simulated world to log its days
    timer = timer or StageTimer()
    base = current_run_id() or set_run_id()
    done: list[Night] = []
    try:
        for i in range(1, nights + 1):
            day = next_decision_day(spark, cfg)
            run_id = set_run_id(f"{base}.{day:%Y%m%d}")
            start = time.perf_counter()
            run_nightly(spark, dataclasses.replace(cfg, run_date=day))
            decided = time.perf_counter()
            log_published_day(spark, cfg, day, timer)
            measured = measure_days(spark, cfg, read_input(spark, cfg).where(F.col("dt") == F.lit(day)), [day])
            uplift = measured[0] if measured else None
            night = Night(
                dt=day, run_id=run_id, **night_facts(cfg, day, run_id),
                uplift=_finite(uplift.uplift.estimate) if uplift else None,
                ci_low=_finite(uplift.uplift.low) if uplift else None,
                ci_high=_finite(uplift.uplift.high) if uplift else None,
                true_uplift=_finite(uplift.true_uplift) if uplift else None,
                nightly_seconds=round(decided - start, 3), world_seconds=round(time.perf_counter() - decided, 3),
            )  # fmt: skip
            replace_days(spark.createDataFrame([night.to_row()], COLUMNS), cfg.table(CLOSED_LOOP), [day])
            done.append(night)
            LOG.info("closed loop night %d/%d %s: %s", i, nights, day, night_line(night))
        last = done[-1]
        stages = fs.read_json(nightly_record(cfg.warehouse, last.dt, last.run_id), "nightly run record")["stages"]
        build_report(spark, cfg, last.dt, stages)
    finally:
        set_run_id(base)
    return done


def night_line(night: Night) -> str:
    """One line of a night's figures for the log and the job's output."""
    from acq_spark.report.loop import shown, uplift_interval

    parts = [f"ACQ {shown(night.acq_share_of_oracle)} of the oracle, rule {shown(night.rule_share_of_oracle)}",
             f"AUC {shown(night.model_auc, '.4f')}", f"λ* {shown(night.lam, '.4g')}",
             f"{night.creatives_used:,}/{night.budget:,} creatives"]  # fmt: skip
    if night.holdout:
        interval = uplift_interval(night.uplift, night.ci_low, night.ci_high)
        parts.append(f"uplift {interval} (true {shown(night.true_uplift, '+.2%')})")
    parts.append(f"nightly {night.nightly_seconds:.1f} s, world {night.world_seconds:.1f} s")
    return "; ".join(parts)
