"""ACQ's share of the oracle for training settings: train, score, solve at the budget, value on the truth.

    python benchmarks/sweep_table4.py --warehouse /tmp/wh_exp train.w_consistency=0.5 train.w_consistency=1.0

Each positional argument is one run (several ``key=value`` joined by ``,`` make one run). The
warehouse needs the input, the features and the truth of a simulated world (``make run`` builds
one); every run replaces its model and scores, nothing else.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import time

import numpy as np

from acq_spark.allocation.job import day_and_budget
from acq_spark.allocation.solver import solve_numpy
from acq_spark.config import load_config
from acq_spark.platform.session import get_spark
from acq_spark.scoring.job import run_scoring
from acq_spark.training.job import run_training


def main(argv: list[str] | None = None) -> list[str]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", required=True)
    ap.add_argument("runs", nargs="+", help="key=value[,key=value...] per run")
    args = ap.parse_args(argv)
    base = [f"warehouse={args.warehouse}", "spark.ui=false", "spark.progress=false", "train.evaluate=false"]
    spark, lines = None, ["| settings | ACQ true cost | oracle | share of oracle | validation AUC | seconds |"]
    lines.append("|---|---:|---:|---:|---:|---:|")
    for run in args.runs:
        cfg = load_config(None, [*base, *run.split(",")])
        spark = spark or get_spark(cfg.spark, app_name="sweep-table4", scores=True)
        day, budget, _ = day_and_budget(spark, cfg)
        cfg = dataclasses.replace(cfg, run_date=day)
        start = time.perf_counter()
        artifact = run_training(spark, cfg)
        run_scoring(spark, cfg)
        truth = spark.read.format("delta").load(cfg.table("truth")).where(f"dt = '{day}'")
        scores = spark.read.format("delta").load(cfg.table("scores")).where(f"dt = '{day}'")
        pdf = (
            truth.select("account_id", "photo_id", "expected_cost")
            .join(scores.select("account_id", "photo_id", "pvalue"), ["account_id", "photo_id"])
            .toPandas()
            .sort_values(["account_id", "photo_id"])
        )
        true, pred = np.array(pdf["expected_cost"].tolist()), np.array(pdf["pvalue"].tolist())
        keys = (pdf["account_id"].to_numpy(), pdf["photo_id"].to_numpy())
        rows = np.arange(len(true))

        def value(r: np.ndarray) -> float:
            level, _ = solve_numpy(r, cfg.levels, budget, keys=keys)
            return float(true[rows, level].sum())

        acq, oracle = value(pred), value(true)
        lines.append(
            f"| {run} | {acq:,.1f} | {oracle:,.1f} | {acq / oracle:.2%} | {artifact.metrics['auc']:.4f} "
            f"| {time.perf_counter() - start:.0f} |"
        )
        print(lines[-1], flush=True)
    print(f"\n{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC\n" + "\n".join(lines), flush=True)
    return lines


if __name__ == "__main__":
    main()
