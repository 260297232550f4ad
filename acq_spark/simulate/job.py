"""Extract → transform → load for ``jobs/simulate.py``."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import SparkSession

from acq_spark.config import Config
from acq_spark.simulate.world import WorldParams, simulate_daily, simulate_pairs, simulate_truth
from acq_spark.stages import StageTimer
from acq_spark.tables import overwrite_table, write_json


def world_params(cfg: Config) -> WorldParams:
    """The simulator's parameters from the configuration."""
    s = cfg.simulate
    return WorldParams(
        n_pairs=s.n_pairs,
        n_days=s.n_days,
        start_date=s.start_date,
        levels=tuple(cfg.levels),
        seed=cfg.seed,
        pairs_per_account=s.pairs_per_account,
        n_products=s.n_products,
        n_industries_l1=s.n_industries_l1,
        n_industries_l2=s.n_industries_l2,
        partitions=s.partitions,
    )


def params_path(warehouse_table_root: str) -> Path:
    return Path(warehouse_table_root) / "artifacts" / "simulation.json"


def run_simulation(spark: SparkSession, cfg: Config, timer: StageTimer | None = None) -> WorldParams:
    """Write ``creative_daily`` (at ``input.path``, format ``input.format``), ``truth`` and the parameters."""
    timer = timer or StageTimer()
    params = world_params(cfg)
    pairs = simulate_pairs(spark, params)
    with timer.stage("simulate creative_daily") as rec:
        overwrite_table(simulate_daily(pairs, params), cfg.input_path, cfg.input.format, partition_by=["dt"])
        rec.figures.update(pairs=params.n_pairs, days=params.n_days, path=cfg.input_path)
    with timer.stage("simulate truth") as rec:
        overwrite_table(simulate_truth(pairs, params), cfg.table("truth"), "delta")
        rec.figures.update(decision_date=params.decision_date.isoformat())
    write_json(params_path(cfg.table("")), params.to_dict())
    return params
