"""Scoring throughput: ``score_rows`` with the trained model over N scoring rows, in pairs per second.

    python benchmarks/bench_scoring.py [--warehouse /tmp/wh_default] [--rows 1000000] [--beta 0]

The warehouse's decision-day scoring rows are replicated (photo_id shifted) to ``--rows`` rows and
written once as a Delta table under ``$ACQ_BENCH_DIR`` (reused by later runs). Each timed run reads
that table, as ``jobs/score.py`` reads ``scoring_rows``, and scores it into Spark's ``noop`` sink
(the scoring alone) or into a Delta table (scoring plus the write the job does). One untimed pass
over all rows first starts the Python workers, loads and compiles the model and lets the JVM's JIT
compile the row and Arrow paths. The CPU seconds of the Spark JVM and of the Python workers during
each run are read from /proc (this process's tree only). Read-only on the warehouse.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import tree_pids
from pyspark.sql import functions as F
from synth import DATA_DIR, load_average, machine, stamp

from acq_spark.config import load_config
from acq_spark.platform.session import get_spark
from acq_spark.scoring.job import score_rows
from acq_spark.training.artifact import load_artifact

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by this benchmark's Spark JVM and its pyspark Python workers."""
    out = {"jvm": 0.0, "python workers": 0.0}
    for pid in tree_pids(os.getpid()):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = "jvm" if cmd[0].endswith(b"java") else "python workers" if b"pyspark.daemon" in cmd else None
        if kind:
            out[kind] += (int(fields[11]) + int(fields[12])) / _TICK
    return out


def replicated_rows(spark, warehouse: str, day: dt.date, n: int) -> str:
    """The decision day's scoring rows copied to ``n`` rows in a Delta table; its path."""
    path = DATA_DIR / f"scoring_rows_{n}"
    if (path / "_delta_log").is_dir() and spark.read.format("delta").load(str(path)).count() == n:
        return str(path)
    base = spark.read.format("delta").load(f"{warehouse}/scoring_rows").where(F.col("dt") == F.lit(day))
    copies = -(-n // base.count())
    (
        base.crossJoin(spark.range(copies).withColumnRenamed("id", "copy"))
        .withColumn("photo_id", F.col("photo_id") + F.col("copy") * F.lit(1 << 40))
        .drop("copy")
        .limit(n)
        .repartition(spark.sparkContext.defaultParallelism)
        .write.format("delta")
        .mode("overwrite")
        .save(str(path))
    )
    return str(path)


def main(argv: list[str] | None = None) -> list[str]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", default="/tmp/wh_default")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--beta", type=float, default=0.0, help="0 (the default config): no exploration bonus")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], dest="overrides")
    args = ap.parse_args(argv)
    overrides = ["spark.driver_memory=8g", "spark.ui=false", "spark.progress=false", *args.overrides]
    cfg = load_config(None, overrides)
    spark = get_spark(cfg.spark, app_name="bench-scoring", scores=True)
    artifact = load_artifact(args.warehouse)
    path = replicated_rows(spark, args.warehouse, artifact.feature_spec.decision_day, args.rows)
    out = str(DATA_DIR / f"scores_{args.rows}")

    def score():
        rows = spark.read.format("delta").load(path)
        return score_rows(rows, artifact, args.beta, cfg.score.batch_size)

    score().write.format("noop").mode("overwrite").save()  # warm-up, not timed
    lines = [
        f"## Scoring throughput ({stamp()})\n\nMachine: {machine()}; model {artifact.version}; β = {args.beta:g}.\n",
        "| into | rows | seconds | pairs/s | CPU s: JVM / Python workers | load before |",
        "|---|---:|---:|---:|---|---|",
    ]
    for sink in ["noop"] * args.repeats + ["delta"]:
        load, cpu0 = load_average(), cpu_seconds()
        t0 = time.perf_counter()
        writer = score().write.format(sink).mode("overwrite")
        writer.save() if sink == "noop" else writer.save(out)
        seconds = time.perf_counter() - t0
        cpu = {k: v - cpu0[k] for k, v in cpu_seconds().items()}
        lines.append(
            f"| {sink} | {args.rows:,} | {seconds:.2f} | {args.rows / seconds:,.0f} | "
            f"{cpu['jvm']:.1f} / {cpu['python workers']:.1f} | {load} |"
        )
        print(lines[-1], flush=True)
    print("\n".join(lines), flush=True)
    return lines


if __name__ == "__main__":
    main()
