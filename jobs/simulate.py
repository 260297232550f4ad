"""Write the simulated world (spec §8): creative_daily, truth and the world's parameters.

    python jobs/simulate.py [--config conf/local.yaml] [--set simulate.n_pairs=1000000] [--force]

Refuses to write when creative_daily (input.path) or truth already holds data, unless --force.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from acq_spark.platform.catalog import TRUTH
from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.session import get_spark
from acq_spark.simulate.job import run_simulation


def add_force(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force", action="store_true", help="replace creative_daily and truth even when they already hold data"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args, cfg = parse_job_args(__doc__.splitlines()[0], argv, extend=add_force)
    with job_lock(cfg, "simulate"):
        spark = get_spark(cfg.spark, app_name="acq-simulate")
        params = run_simulation(spark, cfg, force=args.force)
        print(f"simulated {params.n_pairs:,} pairs x {params.n_days} days -> {cfg.input_path} ({cfg.input.format})")
        print(f"truth for {params.decision_date} -> {cfg.table(TRUTH)}")
        return 0


if __name__ == "__main__":
    run_main(main)
