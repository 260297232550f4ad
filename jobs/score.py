"""Score the decision day's pairs at every creative level with the latest model (distributed).

python jobs/score.py [--config FILE] [--set score.beta=0.1]
"""

from __future__ import annotations

from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.session import get_spark
from acq_spark.scoring.job import run_scoring


def main() -> int:
    _, cfg = parse_job_args(__doc__.splitlines()[0])
    with job_lock(cfg, "score"):
        spark = get_spark(cfg.spark, app_name="acq-score", scores=True)
        result = run_scoring(spark, cfg)
        print(f"scored {result.pairs:,} pairs for {result.decision_day} with {result.model_version}")
        return 0


if __name__ == "__main__":
    run_main(main)
