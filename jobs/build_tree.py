"""Build the equal-frequency cost-bin tree from training_examples and store it as a versioned artifact.

python jobs/build_tree.py [--config FILE] [--set tree.n_positive_leaves=32]
"""

from __future__ import annotations

from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.run_log import StageTimer
from acq_spark.platform.session import get_spark
from acq_spark.tree.job import run_build_tree


def main() -> int:
    _, cfg = parse_job_args(__doc__.splitlines()[0])
    with job_lock(cfg, "build_tree"):
        spark = get_spark(cfg.spark, app_name="acq-build-tree")
        tree = run_build_tree(spark, cfg, StageTimer())
        print(f"cost tree {tree.version}: {tree.n_leaves} leaves (zero leaf included), {tree.n_nodes} classifiers")
        return 0


if __name__ == "__main__":
    run_main(main)
