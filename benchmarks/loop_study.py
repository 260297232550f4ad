"""The closed loop under several settings from one simulated world: the share of the oracle night by night.

    python benchmarks/loop_study.py --nights 14 [--pairs 100000] [--parallel 2] \\
        [--arm NAME=KEY=VALUE,KEY=VALUE ...]

Simulates one world (``--pairs`` pairs, the default world's other settings) under ``$ACQ_BENCH_DIR/loop-study``,
copies it for each arm and runs ``jobs/closed_loop.py --nights N`` in each copy with the arm's ``--set``
overrides (at most ``--parallel`` arms at once; each arm's log is beside its warehouse; ``--table-only`` runs
nothing and reads the arms' warehouses as an earlier run left them; ``--run NAME`` runs only the named arms
and reads the others so; ``--pin NAME`` runs the named arm's first night as usual and the others with that
night's model, training nothing: the loop without its learning). Then prints a
markdown table, one row per night: each arm's ACQ share of the oracle (and, with the holdout on, the
measured uplift beside the true one; with exploration or the holdout, the share of what was published), and
each arm's mean over the nights. Without ``--arm`` the arms
are β = 0, 0.01 and 0.03, and β = 0 with the holdout on.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import DATA_DIR, git_head, load_average, machine, stamp

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ARMS = {
    "β=0": [],
    "β=0.01": ["score.beta=0.01"],
    "β=0.03": ["score.beta=0.03"],
    "β=0, holdout": ["experiment.enabled=true"],
}


def parse_arm(text: str) -> tuple[str, list[str]]:
    """``NAME=KEY=VALUE,KEY=VALUE``: a comma inside ``[...]`` belongs to a YAML list value."""
    name, _, sets = text.partition("=")
    return name, [s for s in re.split(r",(?![^\[]*\])", sets) if s]


def job(script: str, warehouse: Path, sets: list[str], log: Path, *extra: str) -> float:
    """Run ``jobs/<script>`` on ``warehouse`` (conf/local.yaml, progress off); its wall seconds."""
    args = [sys.executable, str(ROOT / "jobs" / script), "--config", str(ROOT / "conf/local.yaml"),
            "--set", f"warehouse={warehouse}", "--set", "spark.progress=false", *extra]  # fmt: skip
    for s in sets:
        args += ["--set", s]
    start = time.perf_counter()
    with log.open("w") as out:
        code = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT).returncode
    if code:
        raise SystemExit(f"{script} failed (exit {code}); see {log}")
    return time.perf_counter() - start


def read_nights(warehouses: dict[str, Path]) -> dict[str, list[dict]]:
    from acq_spark.config import load_config
    from acq_spark.platform.catalog import CLOSED_LOOP
    from acq_spark.platform.delta_tables import read_table
    from acq_spark.platform.session import get_spark

    spark = get_spark(load_config(ROOT / "conf/test.yaml").spark, app_name="loop-study")
    tables = {name: read_table(spark, str(w / CLOSED_LOOP), what="closed_loop") for name, w in warehouses.items()}
    nights = {name: [r.asDict() for r in table.orderBy("dt").collect()] for name, table in tables.items()}
    for name, rows in nights.items():
        for row in rows:
            row["published_share_of_oracle"] = published_share(warehouses[name], row["dt"])
    return nights


def published_share(warehouse: Path, day) -> float | None:
    """The share of the oracle of what the night published, when it mixed methods (Table 4's ``published`` row)."""
    from acq_spark.evaluation.table4 import PUBLISHED, Table4

    path = warehouse / "reports" / str(day) / "table4.json"
    return Table4.from_dict(json.loads(path.read_text())).share_of_oracle(PUBLISHED) if path.exists() else None


def pct(value: float | None, fmt: str = ".2%") -> str:
    return "–" if value is None else format(value, fmt)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=14)
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--arm", action="append", default=[], help="NAME=KEY=VALUE,KEY=VALUE (--set overrides)")
    parser.add_argument("--dir", type=Path, default=DATA_DIR / "loop-study")
    parser.add_argument("--table-only", action="store_true", help="run nothing: the table of the arms' warehouses")
    parser.add_argument("--run", action="append", default=[], metavar="NAME",
                        help="run only these arms; the others are read as an earlier run left them")  # fmt: skip
    parser.add_argument("--pin", action="append", default=[], metavar="NAME",
                        help="these arms score every night after the first with the first night's model")  # fmt: skip
    args = parser.parse_args()
    arms = dict(parse_arm(a) for a in args.arm) or DEFAULT_ARMS
    world = args.dir / f"world-{args.pairs}"
    args.dir.mkdir(parents=True, exist_ok=True)
    if not (world / "truth").exists():
        shutil.rmtree(world, ignore_errors=True)
        job("simulate.py", world, [f"simulate.n_pairs={args.pairs}"], args.dir / f"simulate-{args.pairs}.log")
    warehouses = {name: args.dir / f"arm{i}-{args.pairs}" for i, name in enumerate(arms)}

    def run(name: str) -> float:
        shutil.rmtree(warehouses[name], ignore_errors=True)
        shutil.copytree(world, warehouses[name])
        log = warehouses[name].with_suffix(".log")
        if name not in args.pin:
            seconds = job("closed_loop.py", warehouses[name], arms[name], log, "--nights", str(args.nights))
        else:
            seconds = job("closed_loop.py", warehouses[name], arms[name], log.with_suffix(".1.log"), "--nights", "1")
            first = (warehouses[name] / "models" / "LATEST").read_text().strip()
            pinned = [*arms[name], f"score.model_version={first}"]
            seconds += job("closed_loop.py", warehouses[name], pinned, log, "--nights", str(args.nights - 1))
        print(f"{name}: {args.nights} nights in {seconds:.0f} s ({log})", flush=True)
        return seconds

    print(f"# {stamp()} · {machine()} · git {git_head()} · load before {load_average()}")
    print(f"# {args.nights} nights, {args.pairs:,} pairs, {len(arms)} arms, {args.parallel} at once")
    unknown = (set(args.run) | set(args.pin)) - set(arms)
    if unknown:
        raise SystemExit(f"--run/--pin {sorted(unknown)}: no such arm (arms: {list(arms)})")
    to_run = [] if args.table_only else [name for name in arms if not args.run or name in args.run]
    seconds = {name: float("nan") for name in arms}
    with ThreadPoolExecutor(args.parallel) as pool:
        seconds.update(zip(to_run, pool.map(run, to_run), strict=True))
    nights = read_nights(warehouses)
    print(f"# load after {load_average()}")
    print("| night | " + " | ".join(arms) + " |")
    print("|---|" + "---|" * len(arms))
    for i in range(args.nights):
        cells = []
        for name in arms:
            row = nights[name][i] if i < len(nights[name]) else {}
            cell = pct(row.get("acq_share_of_oracle"))
            if row.get("published_share_of_oracle") is not None:
                cell += f" (published {pct(row['published_share_of_oracle'])})"
            if row.get("holdout"):
                cell += f" (uplift {pct(row.get('uplift'), '+.1%')}, true {pct(row.get('true_uplift'), '+.1%')})"
            cells.append(cell)
        day = next((nights[n][i]["dt"] for n in arms if i < len(nights[n])), "?")
        print(f"| {i + 1} ({day}) | " + " | ".join(cells) + " |")
    means = []
    for name in arms:
        shares = [r["acq_share_of_oracle"] for r in nights[name] if r["acq_share_of_oracle"] is not None]
        published = [r["published_share_of_oracle"] for r in nights[name] if r["published_share_of_oracle"] is not None]
        mean = pct(sum(shares) / len(shares)) if shares else "–"
        means.append(mean + (f" (published {pct(sum(published) / len(published))})" if published else ""))
    print("| mean | " + " | ".join(means) + " |")
    rules = [pct(nights[n][-1]["rule_share_of_oracle"]) if nights[n] else "–" for n in arms]
    print("| rule, last night | " + " | ".join(rules) + " |")
    print("| wall s | " + " | ".join(f"{seconds[n]:.0f}" for n in arms) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
