"""Train the cost model (UBTM by default) on the driver and save a versioned artifact.

    python jobs/train_ubtm.py [--config FILE] [--set train.variant=sub] [--evaluate]

``--evaluate`` also trains every UBTM variant and every baseline on the same data and writes the
paper's Table 2 (AUC, MSE, PAUC, GAUC on the validation day) as a Delta table and as Markdown.
"""

from __future__ import annotations

from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.session import get_spark
from acq_spark.training.job import run_training


def main() -> int:
    args, cfg = parse_job_args(
        __doc__.splitlines()[0],
        extend=lambda p: p.add_argument("--evaluate", action="store_true", help="also build the Table-2 comparison"),
    )
    with job_lock(cfg, "train_ubtm"):
        spark = get_spark(cfg.spark, app_name="acq-train")
        artifact = run_training(spark, cfg, evaluate=args.evaluate)
        print(f"model artifact: {artifact.path}")
        return 0


if __name__ == "__main__":
    run_main(main)
