"""Allocation from cached scores: DBSSolver (bisection, fast path) on Spark against NumPy in memory.

    python benchmarks/bench_allocation.py [--sizes 1000000 10000000] [--set spark.driver_memory=12g]

For each size: synthetic scores (``synth.make_r``) written once as Parquet, read, cached (Spark's
in-memory columnar cache) and counted before any timing; then ``solve`` with the fast path and with
bisection (λ* and tie-break plan: the passes), the assignment pass (the allocation computed into
Spark's ``noop`` sink), and ``solve_numpy`` on the same arrays. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import LEVELS, budget_for, load_average, machine, scores_dataset, stamp

from acq_spark.allocation.solver import solve, solve_numpy
from acq_spark.config import load_config
from acq_spark.platform.session import get_spark

HEADER = (
    "| pairs | path | passes | λ* | objective | solve s | assign s | vs NumPy | load |\n"
    "|---:|---|---:|---:|---:|---:|---:|---:|---|"
)


def bench_size(spark, n: int, solvers: list[str], lambdas_per_pass: int) -> list[str]:
    """Rows of the table for ``n`` pairs."""
    r, path = scores_dataset(n)
    budget = budget_for(n)
    rows = []
    t0 = time.perf_counter()
    _, np_rec = solve_numpy(r, LEVELS, budget, solver="fast")
    np_s = time.perf_counter() - t0
    rows.append(_row(n, "NumPy fast (in memory)", np_rec, np_s, None, 1.0))
    npb_rec, npb_s = None, None
    if "bisection" in solvers:
        t0 = time.perf_counter()
        _, npb_rec = solve_numpy(r, LEVELS, budget, solver="bisection", lambdas_per_pass=lambdas_per_pass)
        npb_s = time.perf_counter() - t0
        rows.append(_row(n, f"NumPy bisection ×{lambdas_per_pass} (in memory)", npb_rec, npb_s, None, 1.0))
    del r
    gc.collect()
    df = spark.read.parquet(str(path)).cache()
    t0 = time.perf_counter()
    df.count()
    cache_s = time.perf_counter() - t0
    print(f"# {n:,} pairs: {df.rdd.getNumPartitions()} partitions, cached in {cache_s:.1f} s", file=sys.stderr)
    for name in solvers:
        opts = {"lambdas_per_pass": lambdas_per_pass} if name == "bisection" else {}
        t0 = time.perf_counter()
        alloc, rec = solve(df, LEVELS, budget, solver=name, **opts)
        solve_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        alloc.write.format("noop").mode("overwrite").save()
        assign_s = time.perf_counter() - t0
        ref_s = np_s if name == "fast" else npb_s
        ref = np_rec if name == "fast" else npb_rec
        assert rec.lam == ref.lam, f"{name}: Spark λ {rec.lam!r} != NumPy λ {ref.lam!r}"
        label = f"Spark {name}" + (f" ×{lambdas_per_pass}" if name == "bisection" else "")
        rows.append(_row(n, label, rec, solve_s, assign_s, solve_s / ref_s))
        print(rows[-1], file=sys.stderr, flush=True)
    df.unpersist(blocking=True)
    return rows


def _row(n, label, rec, solve_s, assign_s, ratio) -> str:
    assign = "–" if assign_s is None else f"{assign_s:.1f}"
    return (
        f"| {n:,} | {label} | {rec.passes} ({rec.search_passes}+{rec.fill_passes}) | {rec.lam:.10g} | "
        f"{rec.objective:,.2f} | {solve_s:.1f} | {assign} | {ratio:.1f}× | {load_average()} |"
    )


def main(argv: list[str] | None = None) -> list[str]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--solvers", nargs="+", default=["fast", "bisection"])
    ap.add_argument("--lambdas-per-pass", type=int, default=1)
    ap.add_argument("--set", action="append", default=[], dest="overrides")
    args = ap.parse_args(argv)
    overrides = ["spark.driver_memory=12g", "spark.ui=false", "spark.progress=false", *args.overrides]
    spark = get_spark(load_config(None, overrides).spark, app_name="bench-allocation")
    print(f"## Allocation from cached scores ({stamp()})\n\nMachine: {machine()}; load at start {load_average()}.\n")
    lines = [HEADER]
    for n in args.sizes:
        lines += bench_size(spark, n, args.solvers, args.lambdas_per_pass)
    print("\n".join(lines), flush=True)
    return lines


if __name__ == "__main__":
    main()
