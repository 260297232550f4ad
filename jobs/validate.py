"""Validate creative_daily against the input contract (spec §2) and print its summary.

    python jobs/validate.py [--config FILE] [--set input.path=/data/creative_daily --set input.format=parquet]
"""

from __future__ import annotations

from acq_spark.ingest.summary import format_summary
from acq_spark.ingest.validation import valid_input
from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.run_log import StageTimer
from acq_spark.platform.session import get_spark


def main() -> int:
    _, cfg = parse_job_args(__doc__.splitlines()[0])
    with job_lock(cfg, "validate"):
        spark = get_spark(cfg.spark, app_name="acq-validate")
        timer = StageTimer()
        with timer.stage("validate") as rec, valid_input(spark, cfg) as valid:
            summary = valid.summary
            rec.figures.update(rows=summary["rows"], pairs=summary["pairs"])
        print(format_summary(summary))
        return 0


if __name__ == "__main__":
    run_main(main)
