"""Extract → transform → load for ``jobs/simulate.py``, and the world logging a decided day (the closed loop)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from pyspark.sql import SparkSession

from acq_spark.allocation.publish import read_published
from acq_spark.config import Config, table_path
from acq_spark.errors import InputExistsError, InputNotFoundError, InputSchemaError
from acq_spark.platform import fs
from acq_spark.platform.catalog import SIMULATION, TRUTH
from acq_spark.platform.delta_tables import overwrite_table, replace_days, written_rows
from acq_spark.platform.fs import write_json
from acq_spark.platform.run_log import StageTimer
from acq_spark.platform.storage import inspect_path
from acq_spark.simulate.world import WorldParams, simulate_daily, simulate_day, simulate_pairs, simulate_truth


def world_params(cfg: Config) -> WorldParams:
    """The simulator's parameters from the configuration."""
    return WorldParams(**asdict(cfg.simulate), levels=tuple(cfg.levels), seed=cfg.seed)


def params_path(warehouse: str) -> str:
    return table_path(warehouse, SIMULATION)


def check_nothing_to_overwrite(spark: SparkSession, targets: dict[str, str]) -> None:
    """Refuse to simulate over data: any of ``targets`` (what → path) that Spark could read as a table.

    Raises:
        InputExistsError: a target holds a Delta log or a data file (any format, any file layout).
    """
    for what, path in targets.items():
        contents = inspect_path(spark, path)
        if contents.has_data:
            found = contents.data_file or "a Delta log"
            raise InputExistsError(
                f"simulate: {what} at {path} already holds data (e.g. {found}); the simulator never writes "
                f"over it. Point input.path / warehouse elsewhere, or pass --force to replace it with simulated data"
            )


def run_simulation(
    spark: SparkSession, cfg: Config, timer: StageTimer | None = None, force: bool = False
) -> WorldParams:
    """Write ``creative_daily`` (at ``input.path``, format ``input.format``), ``truth`` and the parameters.

    Args:
        spark: the session.
        cfg: the configuration (``simulate.*``, levels, seed, input, warehouse).
        timer: collects the stage timings; a new one when None.
        force: replace ``creative_daily`` and ``truth`` when they already hold data.

    Raises:
        InputExistsError: without ``force``, when ``creative_daily`` or ``truth`` already holds data.
    """
    timer = timer or StageTimer()
    if not force:
        check_nothing_to_overwrite(spark, {"creative_daily": cfg.input_path, "truth": cfg.table(TRUTH)})
    params = world_params(cfg)
    pairs = simulate_pairs(spark, params)
    with timer.stage("simulate creative_daily") as rec:
        overwrite_table(simulate_daily(pairs, params), cfg.input_path, cfg.input.format, partition_by=["dt"])
        rec.figures.update(pairs=params.n_pairs, days=params.n_days, path=cfg.input_path)
    with timer.stage("simulate truth") as rec:
        # by day: the closed loop adds each next day's truth (log_published_day)
        overwrite_table(simulate_truth(pairs, params), cfg.table(TRUTH), "delta", partition_by=["dt"])
        rec.figures.update(decision_date=params.decision_date.isoformat())
    write_json(params_path(cfg.warehouse), params.to_dict())
    return params


def load_world(cfg: Config) -> WorldParams:
    """The world ``jobs/simulate.py`` wrote into the warehouse (``artifacts/simulation.json``).

    Raises:
        InputNotFoundError: no simulated world there.
    """
    path = params_path(cfg.warehouse)
    if not fs.is_file(path):
        raise InputNotFoundError(
            f"simulated world: no {path}; a day is logged only in a warehouse jobs/simulate.py wrote (make simulate)"
        )
    return WorldParams.from_dict(fs.read_json(path, "simulated world's parameters"))


def log_published_day(spark: SparkSession, cfg: Config, day: dt.date, timer: StageTimer | None = None) -> int:
    """The world logs ``day`` under the allocation published for it, and its truth moves to the next day.

    Each pair runs exactly the creatives the published ``allocation`` gave it (a pair without a row, such as
    one arriving that day, runs the logging policy's), with the world's curves, seasonality, noise and
    arrivals (new pairs keep arriving at the window's rate); the day replaces its rows in
    ``creative_daily``, and the truth of ``day + 1`` is added for the next decision. With
    ``simulate.logged_under: logging_policy`` every pair runs the logging policy's creatives instead.

    Returns:
        The rows logged.

    Raises:
        InputNotFoundError: no simulated world, or nothing published for ``day``.
        InputSchemaError: the input is not a Delta table (a day is replaced in one commit only in Delta).
    """
    timer = timer or StageTimer()
    if cfg.input.format != "delta":
        raise InputSchemaError(
            f"simulate: the world logs a day into a Delta creative_daily only; input.format is {cfg.input.format!r}"
        )
    world = load_world(cfg)
    following = day + dt.timedelta(days=1)
    pairs = simulate_pairs(spark, world, through_day=world.day_of(following))  # the arrivals up to the next day
    allocation, _ = read_published(spark, cfg.warehouse, day)
    under = allocation if cfg.simulate.logged_under == "allocation" else None
    with timer.stage("simulate logged day") as rec:
        replace_days(simulate_day(pairs, world, world.day_of(day), under), cfg.input_path, [day])
        rows = written_rows(spark, cfg.input_path)
        rec.figures.update(day=str(day), rows=rows, under=cfg.simulate.logged_under)
    with timer.stage("simulate truth") as rec:
        replace_days(simulate_truth(pairs, world, world.day_of(following)), cfg.table(TRUTH), [following])
        rec.figures.update(day=str(following))
    return rows
