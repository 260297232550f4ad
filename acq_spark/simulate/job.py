"""Extract → transform → load for ``jobs/simulate.py``."""

from __future__ import annotations

from dataclasses import asdict

from pyspark.sql import SparkSession

from acq_spark.config import Config, table_path
from acq_spark.errors import InputExistsError
from acq_spark.simulate.world import WorldParams, simulate_daily, simulate_pairs, simulate_truth
from acq_spark.stages import StageTimer
from acq_spark.storage import inspect_path
from acq_spark.tables import overwrite_table, write_json


def world_params(cfg: Config) -> WorldParams:
    """The simulator's parameters from the configuration."""
    return WorldParams(**asdict(cfg.simulate), levels=tuple(cfg.levels), seed=cfg.seed)


def params_path(warehouse: str) -> str:
    return table_path(warehouse, "artifacts/simulation.json")


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
        check_nothing_to_overwrite(spark, {"creative_daily": cfg.input_path, "truth": cfg.table("truth")})
    params = world_params(cfg)
    pairs = simulate_pairs(spark, params)
    with timer.stage("simulate creative_daily") as rec:
        overwrite_table(simulate_daily(pairs, params), cfg.input_path, cfg.input.format, partition_by=["dt"])
        rec.figures.update(pairs=params.n_pairs, days=params.n_days, path=cfg.input_path)
    with timer.stage("simulate truth") as rec:
        overwrite_table(simulate_truth(pairs, params), cfg.table("truth"), "delta")
        rec.figures.update(decision_date=params.decision_date.isoformat())
    write_json(params_path(cfg.warehouse), params.to_dict())
    return params
