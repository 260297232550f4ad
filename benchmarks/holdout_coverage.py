"""How often the holdout's interval covers the true uplift: many holdouts and noise draws of one decision day.

    python benchmarks/holdout_coverage.py --warehouse W [--replicates 400] [--share 0.1] [--bootstrap 400]

Needs a nightly's outputs for its decision day (the scores and the published budget) and the simulated world
(``make run``, or a night of ``make closed-loop``). Both policies are solved once for every pair at the day's
budget: ACQ on the model's r, the rule on cost_7d. Each replicate then draws a holdout (each account in the
control arm with probability ``--share``), gives control accounts the rule's levels and the others ACQ's,
draws one day of the world's noise for every pair (the draw of ``simulate.world.logged``, in NumPy), and
measures the uplift of the cost per pair with several intervals: the nightly's
(:func:`acq_spark.experiment.uplift.relative_uplift`), each arm's own variance alone, the arms' pooled
variance alone, a bootstrap over accounts, and the normal interval at the noise's true variance. The true
uplift is each arm's expected cost per pair at its levels, as ``experiment_results`` has it. Prints each
interval's coverage, how many misses lie above and below the truth, and the median width of the log
interval. Read-only on the warehouse.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
from pyspark.sql import functions as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import load_average, machine, stamp

from acq_spark.allocation.publish import latest_pointer_before, read_pointer
from acq_spark.allocation.solver import solve_numpy
from acq_spark.config import load_config
from acq_spark.experiment import uplift as U
from acq_spark.ingest.schemas import KEYS
from acq_spark.platform.catalog import SCORES
from acq_spark.platform.delta_tables import read_table
from acq_spark.platform.session import get_spark
from acq_spark.simulate.job import load_world
from acq_spark.simulate.world import simulate_pairs


def day_pairs(spark, cfg, day) -> dict[str, np.ndarray]:
    """The decision day's scored pairs with their latent parameters (a, mu, sat), r and cost_7d, in key order."""
    p = load_world(cfg)
    world_day = p.day_of(day)
    pairs = simulate_pairs(spark, p, through_day=world_day).select(*KEYS, "a", "mu", "sat")
    scores = read_table(spark, cfg.table(SCORES), what="scores").where(F.col("dt") == F.lit(day))
    rows = scores.select(*KEYS, "r", "cost_7d").join(pairs, on=list(KEYS), how="inner").orderBy(*KEYS).toPandas()
    out = {c: rows[c].to_numpy() for c in ("account_id", "photo_id", "a", "mu", "sat", "cost_7d")}
    out["r"] = np.stack(rows["r"].to_numpy())
    out["season"] = np.full(len(rows), 1.0 + p.season_amplitude * np.sin(world_day * 2 * np.pi / 7))
    return out | {"within_sigma": p.within_sigma, "max_cost": p.max_cost}


def levels_of(d, levels, budget, method) -> np.ndarray:
    keys = (d["account_id"], d["photo_id"])
    chosen, _ = solve_numpy(d["r"], levels, budget, keys=keys, method=method, columns={"cost_7d": d["cost_7d"]})
    return np.asarray(levels)[chosen]


def relative_variance(y: np.ndarray, n: np.ndarray) -> tuple[int, float]:
    """An arm's accounts k and the relative variance per account w = k Var(R) / R² (see the uplift module)."""
    ratio, variance = U.ratio_and_variance(y, n)
    return y.size, y.size * variance / ratio**2


def log_interval(ratio: float, s2: float) -> tuple[float, float]:
    """The uplift's interval ratio · exp(±z s) − 1 for the log ratio's variance ``s2``."""
    s = np.sqrt(s2)
    return ratio * np.exp(-U.Z95 * s) - 1, ratio * np.exp(U.Z95 * s) - 1


def bootstrap_log_ratio(y_t, n_t, y_c, n_c, rng, b):
    """A Poisson bootstrap over accounts of log(R_t / R_c): the percentile interval of the uplift."""
    def ratios(y, n):
        w = rng.poisson(1.0, size=(b, y.size))
        return (w @ y) / np.maximum(w @ n, 1)
    lr = np.log(ratios(y_t, n_t)) - np.log(np.maximum(ratios(y_c, n_c), 1e-300))
    lo, hi = np.quantile(lr, [0.025, 0.975])
    return np.exp(lo) - 1, np.exp(hi) - 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warehouse", required=True)
    ap.add_argument("--config", default="conf/local.yaml")
    ap.add_argument("--day", help="the decision day (default: the last published)")
    ap.add_argument("--replicates", type=int, default=400)
    ap.add_argument("--share", type=float, default=0.1)
    ap.add_argument("--bootstrap", type=int, default=400, help="bootstrap draws per replicate (0: none)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    cfg = load_config(args.config, [f"warehouse={args.warehouse}", "spark.progress=false"])
    spark = get_spark(cfg.spark, app_name="bench-holdout-coverage")
    pointer = read_pointer(cfg.warehouse, args.day) if args.day else latest_pointer_before(cfg.warehouse, dt.date.max)
    if pointer is None:
        raise SystemExit(f"no publish pointer for {args.day or 'any day'} in {cfg.warehouse}")
    day = dt.date.fromisoformat(pointer["dt"])
    budget = int(pointer["budget"])
    d = day_pairs(spark, cfg, day)
    levels = tuple(cfg.levels)
    treat_n, control_n = levels_of(d, levels, budget, "acq"), levels_of(d, levels, budget, "rule_based")
    print(f"# {stamp()} · {machine()} · load {load_average()}")
    print(f"day {day}, {len(treat_n):,} pairs, budget {budget:,}; share {args.share}, "
          f"{args.replicates} replicates, bootstrap {args.bootstrap}")

    accounts, account_index = np.unique(d["account_id"], return_inverse=True)
    rng = np.random.default_rng(args.seed)
    w, cap = d["within_sigma"], d["max_cost"]
    misses: dict[str, list[float]] = {}
    widths: dict[str, list[float]] = {}
    truths, estimates = [], []
    start = time.perf_counter()
    for _ in range(args.replicates):
        control = rng.random(accounts.size)[account_index] < args.share
        n = np.where(control, control_n, treat_n)
        lam = d["a"] * d["season"] * (1 - np.exp(-n / d["sat"]))
        expected = lam * d["mu"]
        positive = rng.random(n.size) > np.exp(-lam)
        cond = expected / np.maximum(1 - np.exp(-lam), 1e-300)
        draw = np.minimum(cond * np.exp(w * rng.standard_normal(n.size) - w * w / 2), cap)
        cost = np.where(positive & (n > 0), draw, 0.0)
        true = expected[~control].mean() / expected[control].mean() - 1
        arms = {}
        for name, mask in (("t", ~control), ("c", control)):
            y = np.bincount(account_index[mask], weights=cost[mask], minlength=accounts.size)
            m = np.bincount(account_index[mask], minlength=accounts.size).astype(float)
            keep = m > 0
            arms[name] = (y[keep], m[keep])
        up = U.relative_uplift(*arms["t"], *arms["c"])
        ratio = up.estimate + 1
        own = {name: relative_variance(*arm) for name, arm in arms.items()}
        pooled = sum((k - 1) * v for k, v in own.values()) / sum(k - 1 for k, _ in own.values())
        # the noise's own variance, known here and not in production: what a steady estimate of it would give
        var = np.where(n > 0, (1 - np.exp(-lam)) * cond**2 * np.exp(w * w) - expected**2, 0.0)
        intervals = {
            "the nightly's: each arm's own or the pooled, the larger": (up.low, up.high),
            "each arm's own": log_interval(ratio, sum(v / k for k, v in own.values())),
            "pooled": log_interval(ratio, sum(pooled / k for k, _ in own.values())),
            "the noise's true variance": log_interval(
                ratio, sum(var[m].sum() / expected[m].sum() ** 2 for m in (~control, control))
            ),
        }
        if args.bootstrap:
            intervals["bootstrap percentile"] = bootstrap_log_ratio(*arms["t"], *arms["c"], rng, args.bootstrap)
        truths.append(true)
        estimates.append(up.estimate)
        for name, (lo, hi) in intervals.items():
            ok = lo <= true <= hi
            misses.setdefault(name, []).append(0.0 if ok else (1.0 if true < lo else -1.0))
            widths.setdefault(name, []).append(np.log((1 + hi) / (1 + lo)) if lo > -1 else np.inf)
    print(f"{time.perf_counter() - start:.0f} s; true uplift mean {np.mean(truths):+.2%} "
          f"(sd {np.std(truths):.2%}); estimate mean {np.mean(estimates):+.2%}, "
          f"median error {np.median(np.array(estimates) - truths):+.2%}")
    err = np.log((1 + np.array(estimates)) / (1 + np.array(truths)))
    print("log error quantiles 2.5/25/50/75/97.5%:", np.round(np.quantile(err, [0.025, 0.25, 0.5, 0.75, 0.975]), 3))
    print("| interval | coverage | misses above truth | below | median width (log) |")
    print("|---|---:|---:|---:|---:|")
    for name, m in misses.items():
        m_arr = np.array(m)
        print(f"| {name} | {np.mean(m_arr == 0):.1%} | {np.sum(m_arr > 0)} | {np.sum(m_arr < 0)} | "
              f"{np.median(widths[name]):.3f} |")


if __name__ == "__main__":
    main()
