"""The paper's Table 3 analogue: DBSSolver (Spark, fast path) against HiGHS on the LP relaxation.

    python benchmarks/bench_table3.py [--sizes 100000 200000 500000] [--timeout 1800]

HiGHS runs in a subprocess (``highs_lp.py``) with a timeout; a run past it is reported as a lower
bound. Its result is kept in ``$ACQ_BENCH_DIR/highs_<n>_<seed>.json`` and reused by later runs
(the file is what a previous run measured, with its own time). DBSSolver runs on the same scores,
cached in Spark. The LP optimum is compared with DBSSolver's dual bound D(λ*) and its (integral)
objective; λ with the budget row's dual value.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synth import DATA_DIR, LEVELS, budget_for, load_average, machine, scores_dataset, stamp  # noqa: E402

from acq_spark.allocation.solver import solve  # noqa: E402
from acq_spark.config import load_config  # noqa: E402
from acq_spark.platform.session import get_spark  # noqa: E402

HEADER = (
    "| pairs | HiGHS LP optimum | HiGHS λ | HiGHS s | DBS λ | DBS D(λ*) | DBS objective | "
    "rel. diff D(λ*) | rel. diff objective | DBS passes | DBS s | load |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
)


def highs(n: int, timeout: float, seed: int = 0) -> dict:
    """HiGHS' result for ``n`` pairs (cached), or ``{"timeout": True, "seconds": ...}``."""
    cache = DATA_DIR / f"highs_{n}_{seed}.json"
    if cache.exists() and cache.stat().st_size:
        return json.loads(cache.read_text())
    start = time.perf_counter()
    try:
        out = subprocess.run(
            [sys.executable, str(HERE / "highs_lp.py"), str(n), str(seed)],
            capture_output=True, text=True, timeout=timeout, check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        result = {"n": n, "timeout": True, "seconds": time.perf_counter() - start}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(result))
    return result


def main(argv: list[str] | None = None) -> list[str]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 200_000, 500_000])
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--set", action="append", default=[], dest="overrides")
    args = ap.parse_args(argv)
    overrides = ["spark.ui=false", "spark.progress=false", *args.overrides]
    spark = get_spark(load_config(None, overrides).spark, app_name="bench-table3")
    print(f"## Table 3: DBSSolver vs HiGHS ({stamp()})\n\nMachine: {machine()}; load at start {load_average()}.\n")
    lines = [HEADER]
    for n in args.sizes:
        _, path = scores_dataset(n)
        df = spark.read.parquet(str(path)).cache()
        df.count()
        solve(df, LEVELS, budget_for(n))  # warm-up: Python workers started, code paths loaded
        t0 = time.perf_counter()
        _, rec = solve(df, LEVELS, budget_for(n), solver="fast")
        dbs_s = time.perf_counter() - t0
        df.unpersist(blocking=True)
        h = highs(n, args.timeout)
        if h.get("timeout"):
            ref, lam, h_s = "–", "–", f"> {h['seconds']:.0f} (stopped)"
            d_bound = d_obj = "–"
        else:
            opt = h["objective"]
            ref, lam, h_s = f"{opt:,.6f}", f"{h['lam']:.12g}", f"{h['seconds']:.0f}"
            d_bound = f"{abs(rec.dual_bound - opt) / abs(opt):.1e}"
            d_obj = f"{abs(rec.objective - opt) / abs(opt):.1e}"
        lines.append(
            f"| {n:,} | {ref} | {lam} | {h_s} | {rec.lam:.12g} | {rec.dual_bound:,.6f} | {rec.objective:,.6f} | "
            f"{d_bound} | {d_obj} | {rec.passes} | {dbs_s:.2f} | {load_average()} |"
        )
        print(lines[-1], file=sys.stderr, flush=True)
    print("\n".join(lines), flush=True)
    return lines


if __name__ == "__main__":
    main()
