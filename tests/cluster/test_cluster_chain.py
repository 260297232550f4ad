"""The nightly chain and the allocation job on the real standalone cluster.

* The whole chain (``jobs/simulate.py``, then ``jobs/nightly.py``), submitted as a user would (``python -m
  acq_spark.cluster submit`` with ``make dist``'s archive) to workers that share no folder with the driver
  (the checkout hidden, a private ``/tmp`` each), with the warehouse only in a bucket (moto's server) and
  the AWS environment alone, allocates exactly as the same chain in local mode on the same world
  (training is deterministic: seeds and TensorFlow op determinism).
* A worker killed while the allocation job is solving: the job still finishes, with the allocation
  the in-memory solver gives on the same scores.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from s3_store import use_store

from acq_spark import fs
from acq_spark.allocation.solver import solve_numpy
from acq_spark.cluster import ClusterError, StandaloneCluster, SubmittedJob
from acq_spark.cluster.processes import alive
from acq_spark.config import PROJECT_ROOT
from acq_spark.nightly import run_nightly
from acq_spark.schemas import SCORES_SCHEMA
from acq_spark.simulate.job import run_simulation
from acq_spark.tables import replace_days

pytestmark = pytest.mark.cluster

WORLD = ["simulate.n_pairs=400", "train.epochs=2", "train.patience=1", "train.batch_size=1024", "train.evaluate=false"]
ALLOCATION_COLUMNS = ["dt", "account_id", "photo_id", "level", "n_creatives", "r", "lambda"]


def _sets(overrides: list[str]) -> list[str]:
    return [arg for item in overrides for arg in ("--set", item)]


def test_the_nightly_chain_on_a_cluster_sharing_no_folder_with_a_bucket_warehouse_allocates_as_local_mode(
    bucket_cluster, start_on_bucket_cluster, s3_server, spark, make_cfg
):
    warehouse = f"s3a://{s3_server.new_bucket()}/wh"
    on_cluster = _sets([f"warehouse={warehouse}", *WORLD])
    simulating = start_on_bucket_cluster("simulate", *on_cluster)
    local = make_cfg(*WORLD)
    run_simulation(spark, local)
    simulating.wait(timeout=600)
    nightly = start_on_bucket_cluster("nightly", *on_cluster)
    local_report = Path(run_nightly(spark, local))  # meanwhile, the same chain in local mode
    result = nightly.wait(timeout=1200)

    for pid in bucket_cluster.worker_pids:  # the workers really see neither the checkout nor the driver's /tmp
        mounts = Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
        hidden = [line.split()[4] for line in mounts if "acq-hidden" in line]
        assert {str(PROJECT_ROOT), tempfile.gettempdir()} <= set(hidden)
    output = result.stdout + result.stderr  # spark-submit merges the Python driver's stderr into stdout
    assert "--archives" in result.stderr.splitlines()[0] and "environment/bin/python" in result.stderr.splitlines()[0]
    for stage in ("validate", "features", "train", "score", "allocation solve", "report"):
        assert f"stage {stage}" in output, f"no timing line for stage {stage!r}"
    cluster_report = re.findall(r"^report: (.+)$", result.stdout, re.MULTILINE)[-1]
    assert cluster_report.startswith(f"{warehouse}/reports/") and local_report.is_file()
    with use_store(spark, s3_server.environment()):
        assert fs.is_file(cluster_report) and fs.is_file(f"{warehouse}/models/LATEST")
        actual_df = spark.read.format("delta").load(f"{warehouse}/allocation").select(*ALLOCATION_COLUMNS).cache()
        expected_df = spark.read.format("delta").load(local.table("allocation")).select(*ALLOCATION_COLUMNS)
        assert expected_df.count() == 400
        assert_df_equality(actual_df, expected_df, ignore_row_order=True)
        actual_df.unpersist()


# Big enough that a pass over the scores takes seconds on two 1-core executors, so the kill lands
# inside the solve; small enough for the default suite.
FAULT_PAIRS = 400_000
FAULT_DAY = dt.date(2026, 1, 16)
LEVELS = (1, 2, 3, 5, 8, 13, 20, 50, 100)


def _write_scores(spark, path: str, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random concave-ish scores for ``n`` pairs on FAULT_DAY; returns (account, photo, r)."""
    rng = np.random.default_rng(7)
    gains = rng.exponential(size=(n, len(LEVELS))) * np.exp(-0.35 * np.arange(len(LEVELS)))
    r = np.cumsum(gains, axis=1) * rng.lognormal(0.0, 1.0, (n, 1))
    account, photo = np.arange(n, dtype=np.int64) // 8, np.arange(n, dtype=np.int64)
    import pandas as pd

    pdf = pd.DataFrame(
        {
            "dt": [FAULT_DAY] * n,
            "account_id": account,
            "photo_id": photo,
            "pvalue": list(r),
            "explore": list(np.zeros_like(r)),
            "r": list(r),
            "cost_7d": np.zeros(n),
        }
    )
    replace_days(spark.createDataFrame(pdf, SCORES_SCHEMA).repartition(8), path, [FAULT_DAY])
    return account, photo, r


def _wait_for_line(job: SubmittedJob, text: str, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(text in (job.log_dir / name).read_text(errors="replace") for name in ("stdout", "stderr")):
            return
        if not job.running:
            job.wait(timeout=1)
            raise AssertionError(f"the job finished before {text!r} appeared")
        time.sleep(0.05)
    raise ClusterError(f"{text!r} did not appear within {timeout:.0f} s")


def test_the_allocation_job_survives_losing_a_worker_mid_solve(
    standalone_cluster: StandaloneCluster, start, spark, tmp_path
):
    warehouse = tmp_path / "warehouse"
    account, photo, r = _write_scores(spark, str(warehouse / "scores"), FAULT_PAIRS)
    budget = 12 * FAULT_PAIRS
    job = start(
        "allocate",
        *_sets([f"warehouse={warehouse}", f"run_date={FAULT_DAY}", f"budget.total_creatives={budget}",
                "publish.max_input_age_days=null"]),  # scores only: no creative_daily to date
    )
    _wait_for_line(job, "stage allocation solve: started")
    killed_pid = standalone_cluster.kill_worker(1)
    result = job.wait(timeout=900)

    assert not alive(killed_pid) and standalone_cluster.worker_states()[1] == "DEAD"
    assert "stage allocation write: done" in result.stdout + result.stderr
    levels, record = solve_numpy(r, LEVELS, budget, keys=(account, photo))
    actual = spark.read.format("delta").load(str(warehouse / "allocation")).where(F.col("dt") == F.lit(FAULT_DAY))
    actual_pdf = actual.select("photo_id", "level", "lambda").toPandas().sort_values("photo_id")
    assert len(actual_pdf) == FAULT_PAIRS
    np.testing.assert_array_equal(actual_pdf["level"].to_numpy(), levels)
    assert actual_pdf["lambda"].iloc[0] == pytest.approx(record.lam, rel=1e-12)
