"""Training noise: one night's model trained under several seeds, each allocated and valued on the world's truth.

    python benchmarks/training_noise.py --warehouse W [--seeds 42 43 44] [--set train.key=value ...]

Needs a nightly's outputs in the warehouse ``W`` (its training examples, cost tree, scoring rows and
publish pointer) and the simulated world's truth for its decision day: ``make run``, or a night of
``make closed-loop``. The training and validation rows are sampled once, with the configuration's seed,
so the seeds below change only what training itself draws: the initial weights and the batch order.
Each seed's model predicts the decision day's scoring rows, the allocation solves them in memory at
the day's published budget (β = 0: r is the predicted cost), and the chosen levels are valued on the
truth. Prints, per seed, the epochs, the validation AUC and the share of the oracle, then their spread
and the share of pairs whose level differs between two seeds. Read-only on the warehouse.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import statistics
import sys
import time
import uuid
from pathlib import Path

import numpy as np
from pyspark.sql import functions as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import load_average, machine, stamp

from acq_spark.allocation.publish import read_pointer
from acq_spark.allocation.solver import solve_numpy
from acq_spark.config import load_config
from acq_spark.ingest.schemas import KEYS
from acq_spark.platform.catalog import SCORING_ROWS, STAGING, TRUTH
from acq_spark.platform.delta_tables import read_table
from acq_spark.platform.session import get_spark
from acq_spark.training.data import collect_arrow, to_arrays
from acq_spark.training.job import extract_training_data, train_one


def decision_day_rows(spark, cfg, spec) -> dict[str, np.ndarray]:
    """The decision day's scoring rows as model arrays, with each pair's true expected cost ``truth`` [N, K]."""
    day = spec.decision_day
    rows = read_table(spark, cfg.table(SCORING_ROWS), what="scoring_rows").where(F.col("dt") == F.lit(day))
    truth = read_table(spark, cfg.table(TRUTH), what="truth").where(F.col("dt") == F.lit(day))
    joined = rows.join(truth.select(*KEYS, "expected_cost"), on=list(KEYS), how="inner").orderBy(*KEYS)
    table = collect_arrow(joined, cfg.table(f"{STAGING}/noise-{uuid.uuid4().hex}"))
    arrays = to_arrays(table, spec, with_label=False)
    arrays["truth"] = np.stack(table.column("expected_cost").to_numpy(zero_copy_only=False)).astype(np.float64)
    if len(arrays["truth"]) != rows.count():
        raise SystemExit(f"the truth of {day} does not cover every scoring row: is {cfg.warehouse} a simulated world?")
    return arrays


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--config", default="conf/local.yaml")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    from acq_spark.models.fitting import predict

    cfg = load_config(args.config, [f"warehouse={args.warehouse}", "spark.progress=false", *args.set])
    spark = get_spark(cfg.spark, app_name="bench-training-noise")
    data = extract_training_data(spark, cfg)
    day = data.spec.decision_day
    rows = decision_day_rows(spark, cfg, data.spec)
    pointer = read_pointer(cfg.warehouse, day)
    if not pointer:
        raise SystemExit(f"no published allocation for {day} in {cfg.warehouse}: its budget is the one solved here")
    budget, levels, truth = int(pointer["budget"]), list(cfg.levels), rows["truth"]
    keys = (rows["account_id"], rows["photo_id"])

    def value(chosen: np.ndarray) -> float:
        return float(truth[np.arange(len(chosen)), chosen].sum())

    oracle, _ = solve_numpy(truth, levels, budget, keys=keys, method="oracle")
    best = value(oracle)
    print(f"# {stamp()} · {machine()} · load {load_average()}")
    print(f"# {cfg.warehouse}: decision day {day}, {len(truth):,} pairs, budget {budget:,}, oracle {best:,.1f}")
    n_train, n_val = len(data.train["cost"]), len(data.val["cost"])
    print(f"# train: {args.set or 'defaults'}; {n_train:,} training rows, {n_val:,} validation rows")
    print("| seed | epochs | AUC | share of oracle | train s |")
    print("|---|---|---|---|---|")
    shares, chosen = [], {}
    for seed in args.seeds:
        start = time.perf_counter()
        model, row, _ = train_one(data, dataclasses.replace(cfg, seed=seed), "ubtm", cfg.train.variant)
        seconds = time.perf_counter() - start
        chosen[seed], _ = solve_numpy(predict(model, rows)["y"], levels, budget, keys=keys)
        shares.append(value(chosen[seed]) / best)
        print(f"| {seed} | {row['epochs']} | {row['auc']:.4f} | {100 * shares[-1]:.2f}% | {seconds:.0f} |", flush=True)
    moved = [float(np.mean(chosen[a] != chosen[b])) for a, b in itertools.combinations(args.seeds, 2)]
    spread = statistics.stdev(shares) if len(shares) > 1 else 0.0
    print(f"share of oracle: mean {100 * statistics.mean(shares):.2f}%, sd {100 * spread:.2f} points, "
          f"range {100 * (max(shares) - min(shares)):.2f} points")  # fmt: skip
    if moved:
        print(f"pairs at another level between two seeds: mean {100 * statistics.mean(moved):.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
