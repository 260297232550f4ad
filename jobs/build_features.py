"""Build point-in-time features: training_examples, scoring_rows, vocabularies and the feature spec.

python jobs/build_features.py [--config FILE] [--set features.train_days=7 --set run_date=2026-01-16]
"""

from __future__ import annotations

from acq_spark.features.job import run_build_features
from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.run_log import StageTimer
from acq_spark.platform.session import get_spark


def main() -> int:
    _, cfg = parse_job_args(__doc__.splitlines()[0])
    with job_lock(cfg, "build_features"):
        spark = get_spark(cfg.spark, app_name="acq-build-features")
        spec = run_build_features(spark, cfg, StageTimer()).spec
        print(
            f"features as of {spec.decision_day}: {len(spec.numeric_features)} numeric, "
            f"{len(spec.sparse_features)} sparse, {len(spec.label_days)} label days"
        )
        return 0


if __name__ == "__main__":
    run_main(main)
