"""The whole nightly chain as one Spark application; prints where the report is.

python jobs/nightly.py [--config FILE] [--set run_date=2026-01-16]
python -m acq_spark.cluster submit --master spark://HOST:7077 nightly --config conf/cluster.yaml  (ships dist/)
"""

from __future__ import annotations

from acq_spark.pipeline.nightly import run_nightly
from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.session import get_spark


def main() -> int:
    _, cfg = parse_job_args(__doc__.splitlines()[0])
    with job_lock(cfg, "nightly"):
        spark = get_spark(cfg.spark, app_name="acq-nightly", scores=True)
        report = run_nightly(spark, cfg)
        print(f"report: {report}")
        print(f"        {report.removesuffix('.md')}.html")
        return 0


if __name__ == "__main__":
    run_main(main)
