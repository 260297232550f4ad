"""Scoring throughput: ``score_rows`` with the trained model over N scoring rows, in pairs per second.

    python benchmarks/bench_scoring.py [--warehouse /tmp/wh_default] [--rows 1000000]

The warehouse's decision-day scoring rows are replicated (photo_id shifted) to ``--rows`` rows,
cached, and counted before timing; the scores are computed into Spark's ``noop`` sink. A first
run of one task per core starts the Python workers, loads the model and compiles the forward
pass (not timed). Read-only on the warehouse.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pyspark.sql import functions as F
from synth import load_average, machine, stamp

from acq_spark.config import load_config
from acq_spark.scoring.job import score_rows
from acq_spark.spark import get_spark
from acq_spark.training.artifact import load_artifact


def main(argv: list[str] | None = None) -> list[str]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", default="/tmp/wh_default")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--beta", type=float, default=1.0)
    ap.add_argument("--set", action="append", default=[], dest="overrides")
    args = ap.parse_args(argv)
    overrides = ["spark.driver_memory=8g", "spark.ui=false", "spark.progress=false", *args.overrides]
    cfg = load_config(None, overrides)
    spark = get_spark(cfg.spark, app_name="bench-scoring")
    artifact = load_artifact(args.warehouse)
    day = artifact.feature_spec["decision_day"]
    base = spark.read.format("delta").load(f"{args.warehouse}/scoring_rows").where(F.col("dt") == F.lit(day))
    n_base = base.count()
    copies = -(-args.rows // n_base)
    rows = (
        base.crossJoin(spark.range(copies).withColumnRenamed("id", "copy"))
        .withColumn("photo_id", F.col("photo_id") + F.col("copy") * F.lit(1 << 40))
        .drop("copy")
        .limit(args.rows)
        .repartition(spark.sparkContext.defaultParallelism)
        .cache()
    )
    n = rows.count()
    # Warm-up: one task per core, so every Python worker has imported TensorFlow, loaded the model
    # and compiled its forward pass before the clock starts.
    cores = spark.sparkContext.defaultParallelism
    warm = rows.limit(cores * 2 * cfg.score.batch_size).repartition(cores)
    score_rows(warm, artifact, args.beta, cfg.score.batch_size).write.format("noop").mode("overwrite").save()
    load = load_average()
    t0 = time.perf_counter()
    score_rows(rows, artifact, args.beta, cfg.score.batch_size).write.format("noop").mode("overwrite").save()
    seconds = time.perf_counter() - t0
    lines = [
        f"## Scoring throughput ({stamp()})\n\nMachine: {machine()}; model {artifact.version}.\n",
        "| rows | seconds | pairs/s | load before | load after |",
        "|---:|---:|---:|---|---|",
        f"| {n:,} | {seconds:.1f} | {n / seconds:,.0f} | {load} | {load_average()} |",
    ]
    print("\n".join(lines), flush=True)
    return lines


if __name__ == "__main__":
    main()
