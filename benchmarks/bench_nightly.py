"""The nightly chain at N pairs, per stage: wall time of each stage, the whole run and its peak memory.

    python benchmarks/bench_nightly.py [--pairs 1000000] [--warehouse /tmp/acq_bench/nightly_1000000]
        [--submit 'local[2]' --driver-memory 2g]

Simulates the world once (reused when the warehouse already has ``creative_daily``; its time is a row
of its own), then runs ``jobs/nightly.py`` on it as its own process under :mod:`measure` (output to
``bench_nightly.log`` in the warehouse) and turns the chain's ``stage NAME: done in S s, figures``
lines into a Markdown table. With ``--submit MASTER`` the chain goes through ``python -m
acq_spark.cluster submit --master MASTER --driver-memory M`` (spark-submit owns the JVM's memory);
without it, ``python jobs/nightly.py`` with ``spark.driver_memory`` from ``--driver-memory``.
"""

from __future__ import annotations

import argparse
import re
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
    ap.add_argument("--submit", default=None, metavar="MASTER", help="run under spark-submit on this master")
    ap.add_argument("--driver-memory", default="8g")
    args = ap.parse_args(argv)
    warehouse = Path(args.warehouse or f"/tmp/acq_bench/nightly_{args.pairs}")
    common = [
        "--config", str(ROOT / "conf" / "local.yaml"),
        "--set", f"warehouse={warehouse}",
        "--set", f"simulate.n_pairs={args.pairs}",
        "--set", "spark.progress=false",
        "--set", f"spark.driver_memory={args.driver_memory}",
        *[x for o in args.overrides for x in ("--set", o)],
    ]  # fmt: skip
    python = sys.executable
    simulated = ""
    if not (warehouse / "creative_daily" / "_delta_log").is_dir():
        warehouse.mkdir(parents=True, exist_ok=True)
        status, wall, peak = measure([python, str(ROOT / "jobs" / "simulate.py"), *common], warehouse / "simulate.log")
        if status:
            raise SystemExit(f"simulate failed (exit {status}); see {warehouse / 'simulate.log'}")
        simulated = f"Simulation (not in the chain): {wall:.1f} s wall, peak {peak / 2**30:.2f} GiB.\n"
    nightly = [python, str(ROOT / "jobs" / "nightly.py")]
    if args.submit:
        submit = ["--master", args.submit, "--driver-memory", args.driver_memory]
        nightly = [python, "-m", "acq_spark.cluster", "submit", *submit, "nightly"]
    load = load_average()
    log = warehouse / "bench_nightly.log"
    status, wall, peak = measure([*nightly, *common], log)
    if status:
        raise SystemExit(f"nightly failed (exit {status}); see {log}")
    lines = [
        f"## The nightly chain at {args.pairs:,} pairs, per stage ({stamp()})\n",
        f"Machine: {machine()}. Command: `python benchmarks/bench_nightly.py --pairs {args.pairs}"
        + (f" --submit '{args.submit}'" if args.submit else "")
        + f" --driver-memory {args.driver_memory}"
        + "".join(f" --set {o}" for o in args.overrides)
        + f"`. Load before {load}, after {load_average()}.",
        simulated + f"Whole chain: **{wall:.1f} s wall, peak memory {peak / 2**30:.2f} GiB** (process tree).\n",
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
