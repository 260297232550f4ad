"""Validate creative_daily against the input contract (spec §2) and print its summary.

    python jobs/validate.py [--config FILE] [--set input.path=/data/creative_daily --set input.format=parquet]
"""

from __future__ import annotations

from typing import Any

from acq_spark.ingest.validation import valid_input
from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.run_log import StageTimer
from acq_spark.platform.session import get_spark


def format_summary(summary: dict[str, Any]) -> str:
    """The input summary (``ValidationResult.summary``) as a small aligned text table."""
    lines = ["input summary (creative_daily, clean rows)"]
    for key, value in summary.items():
        shown = f"{value:,.4f}" if isinstance(value, float) else (f"{value:,}" if isinstance(value, int) else value)
        lines.append(f"  {key:<20} {shown}")
    return "\n".join(lines)


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
