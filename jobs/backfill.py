"""Run the nightly chain for each day of a range, in order (days already published from the same input are skipped).

python jobs/backfill.py --from 2026-01-11 --to 2026-01-15 [--force] [--config FILE] [--set key=value]
make backfill FROM=2026-01-11 TO=2026-01-15
"""

from __future__ import annotations

import argparse
import datetime as dt

from acq_spark.pipeline.backfill import run_backfill
from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.session import get_spark


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="first", required=True, type=dt.date.fromisoformat, help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="last", required=True, type=dt.date.fromisoformat, help="last day, YYYY-MM-DD")
    parser.add_argument("--force", action="store_true", help="re-run days already published from the same input")


def main() -> int:
    args, cfg = parse_job_args(__doc__.splitlines()[0], extend=_options)
    with job_lock(cfg, "backfill"):
        spark = get_spark(cfg.spark, app_name="acq-backfill", scores=True)
        done = run_backfill(spark, cfg, args.first, args.last, force=args.force)
        for day in done:
            print(f"{day.day}: {day.status} in {day.seconds:.1f} s (run {day.run_id})")
        return 0


if __name__ == "__main__":
    run_main(main)
