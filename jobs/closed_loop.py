"""The closed loop on the simulated world: N nights of nightly → the world logs the decided day → next night.

python jobs/closed_loop.py --nights 3 [--config FILE] [--set key=value]
make closed-loop NIGHTS=3

Needs a simulated world in the warehouse (make simulate, or make run). One row per night goes to the
closed_loop table; the last night's report has the closed-loop section.
"""

from __future__ import annotations

import argparse

from acq_spark.pipeline.closed_loop import night_line, run_closed_loop
from acq_spark.platform.catalog import report_dir
from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.session import get_spark


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nights", type=int, required=True, help="nights to run (each decides and logs one day)")


def main() -> int:
    args, cfg = parse_job_args(__doc__.splitlines()[0], extend=_options)
    with job_lock(cfg, "closed-loop"):
        spark = get_spark(cfg.spark, app_name="acq-closed-loop", scores=True)
        nights = run_closed_loop(spark, cfg, args.nights)
        for night in nights:
            print(f"{night.dt}: {night_line(night)}")
        print(f"report: {report_dir(cfg.warehouse, nights[-1].dt)}/report.md")
        return 0


if __name__ == "__main__":
    run_main(main)
