"""Build the paper's Table 2 on demand: every UBTM variant and every baseline on the last features' data.

    python jobs/evaluate_models.py [--config FILE] [--set train.baselines=[dnn]]

Trains each model of ``train.evaluate_variants`` and ``train.baselines`` on the training examples
the last features run wrote, evaluates it on the validation day (AUC, MSE, PAUC, GAUC) and writes
Table 2 as the Delta table ``model_eval`` and as ``reports/<dt>/table2.md``. No model is saved or
promoted; the nightly does not build Table 2 unless ``train.evaluate`` is true.
"""

from __future__ import annotations

from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.session import get_spark
from acq_spark.training.job import evaluate_models


def main() -> int:
    _, cfg = parse_job_args(__doc__.splitlines()[0])
    with job_lock(cfg, "evaluate_models"):
        spark = get_spark(cfg.spark, app_name="acq-evaluate-models")
        print(f"Table 2: {evaluate_models(spark, cfg)}")
        return 0


if __name__ == "__main__":
    run_main(main)
