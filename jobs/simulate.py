"""Write the simulated world (spec §8): creative_daily, truth and the world's parameters.

    python jobs/simulate.py [--config conf/local.yaml] [--set simulate.n_pairs=1000000]
"""

from __future__ import annotations

from acq_spark.cli import parse_job_args, run_main
from acq_spark.simulate.job import run_simulation
from acq_spark.spark import get_spark


def main() -> int:
    _, cfg = parse_job_args(__doc__.splitlines()[0])
    spark = get_spark(cfg.spark, app_name="acq-simulate")
    params = run_simulation(spark, cfg)
    print(f"simulated {params.n_pairs:,} pairs x {params.n_days} days -> {cfg.input_path} ({cfg.input.format})")
    print(f"truth for {params.decision_date} -> {cfg.table('truth')}")
    return 0


if __name__ == "__main__":
    run_main(main)
