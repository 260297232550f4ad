"""Allocate creatives for the decision day: scores → allocation, account_rules and a run record.

    python jobs/allocate.py [--config FILE] [--set allocation.method=rule_based --set budget.total_creatives=50000]
"""

from __future__ import annotations

from acq_spark.allocation import publish
from acq_spark.allocation.job import run_allocate
from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.run_log import StageTimer, current_run_id
from acq_spark.platform.session import get_spark


def main() -> int:
    _, cfg = parse_job_args(__doc__.splitlines()[0])
    with job_lock(cfg, "allocate"):
        spark = get_spark(cfg.spark, app_name="acq-allocate")
        out = run_allocate(spark, cfg, StageTimer(), run_id=current_run_id())
        solve = out.solve
        print(
            f"allocation {out.day} ({out.method}, {solve.solver}): λ={solve.lam:.6g}, "
            f"{solve.budget_used:,} of {out.budget:,} creatives to {solve.n_pairs:,} pairs "
            f"in {solve.passes} passes; objective {solve.objective:.6g}, run {out.run_id}"
        )
        versions = ", ".join(f"{name} v{version}" for name, version in out.published.items())
        print(f"published {out.day}: {versions} (readers follow {publish.pointer_path(cfg.warehouse, out.day)})")
        return 0


if __name__ == "__main__":
    run_main(main)
