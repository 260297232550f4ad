"""Estimate λ on a sample of the decision day's score partitions and report its budget error on all pairs.

The day and a ratio budget's last-day creatives come from the day's validation record while the input
is unchanged since the nightly validated it, so the input is not read again (only its file listing).

    python jobs/estimate_lambda.py [--config FILE] [--sample-fraction 0.1] [--partitions 100] [--seed 7]
"""

from __future__ import annotations

import argparse

from pyspark.sql import functions as F

from acq_spark.allocation.estimate import estimate_lambda
from acq_spark.allocation.job import day_and_budget
from acq_spark.allocation.tables import check_score_columns, check_score_rows
from acq_spark.ingest.schemas import KEYS
from acq_spark.platform.catalog import ESTIMATE_RECORDS, SCORES
from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.delta_tables import read_table
from acq_spark.platform.fs import write_json
from acq_spark.platform.run_log import new_run_id
from acq_spark.platform.session import get_spark


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sample-fraction", type=float, default=0.1, help="share of partitions to solve on")
    parser.add_argument("--seed", type=int, default=None, help="which partitions (default: the config's seed)")
    parser.add_argument("--partitions", type=int, default=100, help="hash partitions the pairs are split into")


def main() -> int:
    args, cfg = parse_job_args(__doc__.splitlines()[0], extend=_options)
    with job_lock(cfg, "estimate_lambda"):
        spark = get_spark(cfg.spark, app_name="acq-estimate-lambda")
        day, budget, info = day_and_budget(spark, cfg)
        scores = read_table(spark, cfg.table(SCORES), what="scores").where(F.col("dt") == F.lit(day))
        check_score_columns(scores)
        # cached in the estimate's columns before the rows are checked: the check's one job fills the cache
        scores = scores.select(*KEYS, "r").cache()
        check_score_rows(scores, len(cfg.levels))
        est = estimate_lambda(
            scores,
            cfg.levels,
            budget,
            fraction=args.sample_fraction,
            seed=cfg.seed if args.seed is None else args.seed,
            partitions=args.partitions,
            solver=cfg.allocation.solver,
            max_passes=cfg.allocation.max_passes,
            tolerance=cfg.allocation.tolerance,
        )
        run_id = new_run_id()
        record = {"run_id": run_id, "dt": str(day), "budget": {"value": budget, **info}, "estimate": est.to_dict()}
        write_json(f"{cfg.table(ESTIMATE_RECORDS)}/{day}/{run_id}.json", record)
        print(
            f"λ≈{est.lam:.6g} from {est.sampled_partitions}/{est.partitions} partitions ({est.sample_pairs:,} of "
            f"{est.n_pairs:,} pairs), refined in one pass over all of them: uses {est.used:,} of {budget:,} "
            f"creatives, budget error {est.budget_error:+.3%} (the sample's λ {est.sample_lam:.6g} alone: "
            f"{est.sample_budget_error:+.3%}); {est.seconds:.1f} s"
        )
        if "calendar_from" in info:
            print(f"the budget's last input day ({info['last_input_day']}) from {info['calendar_from']}")
        return 0


if __name__ == "__main__":
    run_main(main)
