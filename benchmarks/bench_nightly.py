"""The nightly chain at N pairs, per stage: wall time of each stage, the whole run and its peak memory.

    python benchmarks/bench_nightly.py [--pairs 1000000] [--warehouse /tmp/acq_bench/nightly_1000000]
        [--submit 'local[2]' --driver-memory 2g] [--no-duckdb] [--lambda-sample 0.01]

Simulates the world once (reused when the warehouse already has ``creative_daily``; its time is a row
of its own), then runs ``jobs/nightly.py`` on it as its own process under :mod:`measure` (output to
``bench_nightly.log`` in the warehouse) and turns the chain's ``stage NAME: done in S s, figures``
lines into a Markdown table. With ``--submit MASTER`` the chain goes through ``python -m
acq_spark.cluster submit --master MASTER --driver-memory M`` (spark-submit owns the JVM's memory);
without it, ``python jobs/nightly.py`` with ``spark.driver_memory`` from ``--driver-memory``.

After the chain, in the same run: the DuckDB reference of the feature stage (:mod:`duckdb_features`, 2
threads, on the Parquet files the run read) and the ratio of the Spark feature stages to it; with
``--lambda-sample F``, ``jobs/estimate_lambda.py`` on that share of the pairs (its time and budget error).
"""

from __future__ import annotations

import argparse
import re
import shlex
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
    ap.add_argument("--no-duckdb", action="store_true", help="skip the DuckDB reference of the feature stage")
    ap.add_argument("--lambda-sample", type=float, default=None, metavar="F", help="estimate λ on this share")
    given = sys.argv[1:] if argv is None else argv
    args = ap.parse_args(given)
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
        wall, peak = run("simulate", [python, str(ROOT / "jobs" / "simulate.py"), *common], warehouse / "simulate.log")
        simulated = f"Simulation (not in the chain): {wall:.1f} s wall, peak {peak / 2**30:.2f} GiB.\n"
    nightly = [python, str(ROOT / "jobs" / "nightly.py")]
    if args.submit:
        submit = ["--master", args.submit, "--driver-memory", args.driver_memory]
        nightly = [python, "-m", "acq_spark.cluster", "submit", *submit, "nightly"]
    load = load_average()
    log = warehouse / "bench_nightly.log"
    wall, peak = run("nightly", [*nightly, *common], log)
    lines = [
        f"## The nightly chain at {args.pairs:,} pairs, per stage ({stamp()})\n",
        f"Machine: {machine()}. Command: `python benchmarks/bench_nightly.py {shlex.join(given)}`. "
        f"Load before {load}, after {load_average()}.",
        simulated + f"Whole chain: **{wall:.1f} s wall, peak memory {peak / 2**30:.2f} GiB** (process tree).\n",
        "| stage | seconds | figures |",
        "|---|---:|---|",
    ]
    features = 0.0
    for text in log.read_text().splitlines():
        match = STAGE_LINE.search(text)
        if match:
            lines.append(f"| {match['name']} | {float(match['seconds']):.1f} | {match['figures'] or ''} |")
            features += float(match["seconds"]) if match["name"].startswith("features:") else 0.0
    print("\n".join(lines), flush=True)  # the chain's table first: a failing extra below keeps it
    extras = []
    if not args.no_duckdb:
        extras += ["", duckdb_reference(python, warehouse, features)]
    if args.lambda_sample:
        extras += ["", lambda_sample(python, common, warehouse, args.lambda_sample)]
    print("\n".join(extras), flush=True)
    return lines + extras


def run(name: str, cmd: list[str], log: Path) -> tuple[float, int]:
    """``cmd`` under :func:`measure`, output in ``log``: (wall seconds, peak bytes); exits naming the log on failure."""
    status, wall, peak = measure(cmd, log)
    if status:
        raise SystemExit(f"{name} failed (exit {status}); see {log}")
    return wall, peak


def duckdb_reference(python: str, warehouse: Path, features: float) -> str:
    """The DuckDB reference on the run's files, and the Spark feature stages' time over its time."""
    log = warehouse / "duckdb_features.log"
    cmd = [python, str(HERE / "duckdb_features.py"), "--warehouse", str(warehouse), "--threads", "2"]
    wall, peak = run("duckdb reference", cmd, log)
    match = re.search(r"duckdb features: ([0-9,]+) rows in ([0-9.]+) s", log.read_text())
    rows, seconds = match[1], float(match[2])
    return (
        f"DuckDB reference of the feature stage (2 threads, same Parquet input): {rows} rows in {seconds:.1f} s "
        f"(process {wall:.1f} s wall, peak {peak / 2**30:.2f} GiB). Spark's feature stages: {features:.1f} s, "
        f"**{features / seconds:.2f}×** DuckDB's."
    )


def lambda_sample(python: str, common: list[str], warehouse: Path, fraction: float) -> str:
    """``jobs/estimate_lambda.py`` on ``fraction`` of the pairs: its wall time and the line it prints."""
    log = warehouse / "estimate_lambda.log"
    cmd = [python, str(ROOT / "jobs" / "estimate_lambda.py"), *common, "--sample-fraction", str(fraction)]
    wall, _peak = run("estimate_lambda", cmd, log)
    found = [t for t in log.read_text().splitlines() if "budget error" in t]
    return f"λ from a {fraction:.0%} sample: {wall:.1f} s wall (process, Spark start-up included): {found[-1].strip()}"


if __name__ == "__main__":
    main()
