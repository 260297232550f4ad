"""The paper's Table 4 on the simulated world: ACQ vs the rule-based baseline vs the oracle, same budget.

python jobs/evaluate_allocation.py [--config FILE] [--set budget.ratio_of_last_day=0.8]
"""

from __future__ import annotations

from acq_spark.evaluation.table4 import run_table4, table4_markdown
from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.session import get_spark


def main() -> int:
    _, cfg = parse_job_args(__doc__.splitlines()[0])
    with job_lock(cfg, "evaluate_allocation"):
        spark = get_spark(cfg.spark, app_name="acq-table4")
        out = run_table4(spark, cfg)
        print(table4_markdown(out))
        return 0


if __name__ == "__main__":
    run_main(main)
