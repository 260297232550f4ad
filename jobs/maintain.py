"""Delta maintenance of every table in the warehouse: retention properties, OPTIMIZE (Z-order), VACUUM.

    python jobs/maintain.py [--config FILE] [--set maintenance.retention_days=14]
"""

from __future__ import annotations

from acq_spark.pipeline.maintenance import maintain_warehouse
from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.session import get_spark


def main() -> int:
    _, cfg = parse_job_args(__doc__.splitlines()[0])
    with job_lock(cfg, "maintain"):
        spark = get_spark(cfg.spark, app_name="acq-maintain")
        done = maintain_warehouse(spark, cfg.table(""), cfg.maintenance)
        for table in done:
            vacuumed = "" if table.files_vacuumed is None else f", {table.files_vacuumed} old files deleted"
            zorder = f", Z-ordered {table.zordered}" if table.zordered else ""
            print(f"{table.name}: {table.files_removed} files rewritten into {table.files_added}{zorder}{vacuumed}")
        return 0


if __name__ == "__main__":
    run_main(main)
