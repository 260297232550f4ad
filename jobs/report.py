"""Write (or rewrite) the report of a past run: Markdown + HTML with tables and plots.

python jobs/report.py [--config FILE] --set run_date=2026-01-16
"""

from __future__ import annotations

from acq_spark.cli import parse_job_args, run_main
from acq_spark.report.build import build_report
from acq_spark.spark import get_spark


def main() -> int:
    _, cfg = parse_job_args(__doc__.splitlines()[0])
    spark = get_spark(cfg.spark, app_name="acq-report")
    if cfg.run_date is None:
        from acq_spark.training.artifact import load_artifact

        day = load_artifact(cfg.warehouse).feature_spec["decision_day"]
    else:
        day = cfg.run_date
    path = build_report(spark, cfg, day)
    print(f"report: {path} (and {path.with_suffix('.html')})")
    return 0


if __name__ == "__main__":
    run_main(main)
