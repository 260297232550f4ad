"""The nightly chain at N pairs, per stage: wall time of each stage, the whole run and its peak memory.

    python benchmarks/bench_nightly.py [--pairs 1000000] [--warehouse /tmp/acq_bench/nightly_1000000]

Simulates the world once (reused when the warehouse already has ``creative_daily``), then runs
``jobs/nightly.py`` on it as its own process under :mod:`measure` (output to ``bench_nightly.log`` in
the warehouse) and turns the chain's
``stage NAME: done in S s, figures`` lines into a Markdown table.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from measure import measure  # noqa: E402
from synth import load_average, machine, stamp  # noqa: E402

ROOT = HERE.parent
STAGE_LINE = re.compile(r"acq stage (?P<name>.+?): done in (?P<seconds>[0-9.]+) s(?:, (?P<figures>.*))?$")


def main(argv: list[str] | None = None) -> list[str]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=1_000_000)
    ap.add_argument("--warehouse", default=None)
    ap.add_argument("--set", action="append", default=[], dest="overrides")
    args = ap.parse_args(argv)
    warehouse = Path(args.warehouse or f"/tmp/acq_bench/nightly_{args.pairs}")
    common = [
        "--config", str(ROOT / "conf" / "local.yaml"),
        "--set", f"warehouse={warehouse}",
        "--set", f"simulate.n_pairs={args.pairs}",
        "--set", "spark.progress=false",
        "--set", "spark.driver_memory=8g",
        *[x for o in args.overrides for x in ("--set", o)],
    ]  # fmt: skip
    python = sys.executable
    if not (warehouse / "creative_daily" / "_delta_log").is_dir():
        warehouse.mkdir(parents=True, exist_ok=True)
        subprocess.run([python, str(ROOT / "jobs" / "simulate.py"), *common], check=True, cwd=ROOT)
    load = load_average()
    log = warehouse / "bench_nightly.log"
    status, wall, peak = measure([python, str(ROOT / "jobs" / "nightly.py"), *common], log)
    if status:
        raise SystemExit(f"nightly failed (exit {status}); see {log}")
    lines = [
        f"## The nightly chain at {args.pairs:,} pairs, per stage ({stamp()})\n",
        f"Machine: {machine()}. Command: `python benchmarks/bench_nightly.py --pairs {args.pairs}"
        + "".join(f" --set {o}" for o in args.overrides)
        + f"`. Load before {load}, after {load_average()}.",
        f"Whole chain: **{wall:.1f} s wall, peak memory {peak / 2**30:.2f} GiB** (process tree).\n",
        "| stage | seconds | figures |",
        "|---|---:|---|",
    ]
    for text in log.read_text().splitlines():
        match = STAGE_LINE.search(text)
        if match:
            lines.append(f"| {match['name']} | {float(match['seconds']):.1f} | {match['figures'] or ''} |")
    print("\n".join(lines), flush=True)
    return lines


if __name__ == "__main__":
    main()
