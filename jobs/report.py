"""Write (or rewrite) the report of a past run: Markdown + HTML with tables and plots.

python jobs/report.py [--config FILE] --set run_date=2026-01-16 [--out DIR]

With ``--out DIR`` the report already in the warehouse (a bucket, say) is copied into the local folder DIR
for viewing, and nothing is rebuilt.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.session import get_spark
from acq_spark.report.build import build_report, copy_report


def main() -> int:
    args, cfg = parse_job_args(__doc__.splitlines()[0], extend=_out_option)
    with job_lock(cfg, "report"):
        if cfg.run_date is None:
            from acq_spark.training.artifact import load_artifact

            day = load_artifact(cfg.warehouse).feature_spec.decision_day
        else:
            day = cfg.run_date
        if args.out is not None:
            path = copy_report(cfg, day, args.out)
            print(f"report copied: {path} (and {path.with_suffix('.html')})")
            return 0
        spark = get_spark(cfg.spark, app_name="acq-report")
        location = build_report(spark, cfg, day)
        print(f"report: {location} (and {location.removesuffix('.md')}.html)")
        return 0


def _out_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=None, help="copy the report of the day into this local folder")


if __name__ == "__main__":
    run_main(main)
