"""The allocation stage and Table 4 on their own, on one synthetic day.

    python benchmarks/bench_day.py [--pairs 1000000] [--stage allocation|table4] [--repeat 2] [--set KEY=VALUE ...]

Writes a ``scores`` and a ``truth`` Delta table of one day once, under ``$ACQ_BENCH_DIR/day_<pairs>``:
the truth is ``synth.make_r`` (non-decreasing curves over the levels), the model's ``r`` the truth
times log-normal noise (σ 0.3, sorted per pair again), ``cost_7d`` the truth at 5 creatives times noise
(zero for a fifth of the pairs). Then runs the stage ``--repeat`` times in one session (conf/local.yaml)
and prints its steps' times and the whole: ``allocation`` is ``run_allocate`` (inputs, solve, write: it
publishes the day, each run replacing the last), ``table4`` is ``run_table4`` with the allocation solved
rather than read (no published day passed), the rule, ACQ and the oracle at one budget, valued on the truth.

The acq_spark it imports is the first on ``PYTHONPATH``, so one copy of this script times two commits: run it
from the other commit's worktree (the Python workers take their working directory first) with that worktree on
``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import DATA_DIR, LEVELS, budget_for, load_average, machine, make_r, stamp

import acq_spark
from acq_spark.allocation.job import run_allocate
from acq_spark.config import load_config
from acq_spark.evaluation.table4 import run_table4
from acq_spark.ingest.run_calendar import RunCalendar
from acq_spark.platform.run_log import StageTimer
from acq_spark.platform.session import get_spark

DAY = dt.date(2026, 1, 16)
ROWS_PER_FILE = 500_000
# The timer's steps each stage prints, in order.
STEPS = {
    "table4": ("table 4: rule_based", "table 4: acq", "table 4: oracle"),
    "allocation": ("allocation inputs", "allocation solve", "allocation write"),
}


def write_day(spark, warehouse: Path, n: int) -> None:
    """The day's ``scores`` and ``truth`` tables under ``warehouse`` (Parquet staged beside them, then Delta)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from acq_spark.scoring.worker import list_column

    truth = make_r(n, LEVELS, seed=0)
    rng = np.random.default_rng(1)
    r = np.sort(truth * rng.lognormal(0.0, 0.3, truth.shape), axis=1)
    cost_7d = np.where(rng.random(n) < 0.2, 0.0, truth[:, 3] * rng.lognormal(0.0, 0.5, n))
    staged = warehouse / "staged"
    for name in ("scores", "truth"):
        (staged / name).mkdir(parents=True, exist_ok=True)
    for j, i in enumerate(range(0, n, ROWS_PER_FILE)):
        rows = slice(i, min(n, i + ROWS_PER_FILE))
        ids = np.arange(rows.start, rows.stop, dtype=np.int64)
        keys = {"account_id": ids // 8, "photo_id": ids}
        pq.write_table(pa.table({**keys, "pvalue": list_column(r[rows]), "r": list_column(r[rows]),
                                 "cost_7d": cost_7d[rows]}), staged / "scores" / f"part-{j:05d}.parquet")  # fmt: skip
        pq.write_table(pa.table({**keys, "expected_cost": list_column(truth[rows])}),
                       staged / "truth" / f"part-{j:05d}.parquet")  # fmt: skip
    from pyspark.sql import functions as F

    day = F.lit(DAY).cast("date").alias("dt")
    scores = spark.read.parquet(str(staged / "scores"))
    scores.select(day, "account_id", "photo_id", "pvalue", F.lit(None).cast("array<double>").alias("explore"), "r",
                  "cost_7d").write.format("delta").partitionBy("dt").save(str(warehouse / "scores"))  # fmt: skip
    truth_df = spark.read.parquet(str(staged / "truth"))
    truth_df.select(day, "account_id", "photo_id", "expected_cost").write.format("delta").partitionBy("dt").save(
        str(warehouse / "truth"))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=1_000_000)
    ap.add_argument("--stage", choices=("allocation", "table4"), default="table4")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], help="a configuration override, KEY=VALUE")
    args = ap.parse_args()
    warehouse = DATA_DIR / f"day_{args.pairs}"
    budget = budget_for(args.pairs)
    cfg = load_config(Path(acq_spark.PROJECT_ROOT) / "conf" / "local.yaml", [
        f"warehouse={warehouse}", f"run_date={DAY}", f"budget.total_creatives={budget}",
        f"levels=[{', '.join(str(c) for c in LEVELS)}]", "spark.progress=false", "publish.max_input_age_days=null",
        *args.set])  # fmt: skip
    spark = get_spark(cfg.spark, app_name="bench-day")
    if not (warehouse / "truth" / "_delta_log").exists():
        start = time.perf_counter()
        write_day(spark, warehouse, args.pairs)
        took = time.perf_counter() - start
        print(f"# wrote {args.pairs:,} pairs of scores and truth in {took:.1f} s", file=sys.stderr)
    print(f"# {stamp()} · {machine()} · acq_spark from {Path(acq_spark.__file__).parent} · load {load_average()}")
    print(f"# {args.stage}: {args.pairs:,} pairs, budget {budget:,}, levels {LEVELS}")
    steps = STEPS[args.stage]
    last_name = "ACQ share of the oracle" if args.stage == "table4" else "λ*"
    print(f"| run | {' | '.join(f'{s} s' for s in steps)} | whole s | {last_name} |")
    print(f"|---:|{'---:|' * (len(steps) + 2)}")
    calendar = RunCalendar(decision_day=DAY, last_input_day=DAY - dt.timedelta(days=1), label_days=())
    for run in range(1, args.repeat + 1):
        timer = StageTimer()
        start = time.perf_counter()
        if args.stage == "table4":
            table = run_table4(spark, cfg, timer)
            last = f"{table.acq_share_of_oracle or 0.0:.4%}"
        else:
            last = f"{run_allocate(spark, cfg, timer, calendar=calendar).solve.lam:.6g}"
        whole = time.perf_counter() - start
        seconds = {name: rec["seconds"] for name, rec in timer.as_dict().items()}
        print(f"| {run} | {' | '.join(f'{seconds[s]:.1f}' for s in steps)} | {whole:.1f} | {last} |", flush=True)
    print(f"# load after {load_average()}")


if __name__ == "__main__":
    main()
