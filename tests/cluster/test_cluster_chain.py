"""The nightly chain and the allocation job on the real standalone cluster.

* The nightly (``jobs/nightly.py``), submitted as a user would (``python -m acq_spark.cluster submit``, from an
  empty working folder, with ``make dist`` installed on the hosts) to workers that share no folder with the
  driver (the checkout hidden, a private ``/tmp`` each), with the warehouse only in a bucket (moto's server)
  and the AWS environment alone, allocates exactly as the same chain in local mode on the same world
  (training is deterministic: seeds and TensorFlow op determinism). It writes nothing locally, and no
  credentials reach its logs, run records or report. (``--archives``, the environment shipped with the
  application, is tested once, by ``tests/cluster/test_cluster.py``.)
* A second nightly on the same bucket, started while the first holds the warehouse, fails fast naming it.
* kill -9 of the allocation job while it writes to the bucket leaves the published day; a re-run publishes.
* A worker killed while the allocation job is solving: the job still finishes, with the allocation
  the in-memory solver gives on the same scores.

The first four tests assert on one nightly, the module fixture ``bucket_chain``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pytest
from chispa import assert_df_equality
from cluster_submit import TEST_CONFIG, submit_cli
from pyarrow import fs as pafs
from pyspark.sql import functions as F
from s3_store import use_store
from spark_settings import CODEGEN

from acq_spark import PROJECT_ROOT
from acq_spark.allocation.publish import read_pointer, read_published
from acq_spark.allocation.solver import solve_numpy
from acq_spark.cluster import ClusterError, StandaloneCluster, SubmittedJob
from acq_spark.cluster.processes import alive
from acq_spark.cluster.submit import start_process
from acq_spark.config import load_config
from acq_spark.errors import EXIT_LOCKED
from acq_spark.ingest.schemas import SCORES_SCHEMA
from acq_spark.pipeline.nightly import run_nightly
from acq_spark.platform import fs
from acq_spark.platform.delta_tables import delta_version, replace_days
from acq_spark.simulate.job import run_simulation

pytestmark = pytest.mark.cluster

WORLD = ["simulate.n_pairs=300", "train.epochs=2", "train.patience=1", "train.batch_size=1024", "train.evaluate=false"]
ALLOCATION_COLUMNS = ["dt", "account_id", "photo_id", "level", "n_creatives", "r", "lambda"]


def _sets(overrides: list[str]) -> list[str]:
    return [arg for item in overrides for arg in ("--set", item)]


def start_local_job(
    job: str, warehouse: str, store_env: dict[str, str], cwd: Path, log_dir: Path, *extra: str
) -> SubmittedJob:
    """``python jobs/<job>.py`` in local mode with the test config, ``warehouse``, ``extra`` settings and only the
    store's AWS environment, from ``cwd``; its output in ``log_dir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | store_env
    sets = _sets([f"warehouse={warehouse}", *WORLD, *extra])
    command = [sys.executable, str(PROJECT_ROOT / "jobs" / f"{job}.py"), "--config", str(TEST_CONFIG), *sets]
    return start_process(command, env, log_dir, cwd=cwd)


@pytest.fixture(scope="module")
def bucket_chain(_session_cluster: StandaloneCluster, installed: Path, s3_server, spark, tmp_path_factory):
    """The nightly on the cluster with its warehouse in a bucket, the same world in local mode, and a second
    nightly started while the first held the warehouse.

    Yields a namespace: ``warehouse`` (the bucket's), ``env`` (the store's), ``work`` (the jobs' empty working
    folder), ``result`` (the cluster nightly), ``local`` (the local-mode config), ``lost`` (the second
    nightly's exit status and output).
    """
    cluster = _session_cluster
    cluster.ensure_workers()
    env, logs = s3_server.environment(), tmp_path_factory.mktemp("bucket-chain-logs")
    warehouse = f"s3a://{s3_server.new_bucket()}/wh"
    work = tmp_path_factory.mktemp("cwd")
    on_cluster = ["--config", str(TEST_CONFIG), *_sets([f"warehouse={warehouse}", *WORLD])]
    # the reference's allocation is all that is compared: its Table 4 would only take the cluster's cores
    local_warehouse = tmp_path_factory.mktemp("local") / "warehouse"
    local = load_config(TEST_CONFIG, [f"warehouse={local_warehouse}", *WORLD, "report.table4=false"])
    with use_store(spark, env):
        run_simulation(spark, load_config(TEST_CONFIG, [f"warehouse={warehouse}", *WORLD]))
        run_simulation(spark, local)
        nightly = submit_cli(cluster.master_url, "nightly", on_cluster, env, logs / "nightly", work, installed)
        try:
            _wait_for_line(nightly, "lock: run ")
            second = start_local_job("nightly", warehouse, env, work, logs / "second").wait(timeout=300, check=False)
            lost = (second.returncode, second.stdout + second.stderr)
            run_nightly(spark, local)  # meanwhile, the same chain in local mode
            result = nightly.wait(timeout=1200)
        finally:
            if nightly.running:
                nightly.kill()
        yield SimpleNamespace(warehouse=warehouse, env=env, work=work, result=result, local=local, lost=lost)


def test_the_nightly_chain_on_a_cluster_sharing_no_folder_with_a_bucket_warehouse_allocates_as_local_mode(
    bucket_chain, _session_cluster, installed, spark
):
    chain, result = bucket_chain, bucket_chain.result
    for pid in _session_cluster.worker_pids:  # the workers really see neither the checkout nor the driver's /tmp
        mounts = Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
        hidden = [line.split()[4] for line in mounts if "acq-hidden" in line]
        assert {str(PROJECT_ROOT), tempfile.gettempdir()} <= set(hidden)
    output = result.stdout + result.stderr  # spark-submit merges the Python driver's stderr into stdout
    submitted = result.stderr.splitlines()[0]  # the hosts' installed environment, nothing shipped
    assert f"spark.pyspark.python={installed}/environment/bin/python" in submitted and "--archives" not in submitted
    for stage in ("validate", "features", "train", "score", "allocation solve", "report"):
        assert f"stage {stage}" in output, f"no timing line for stage {stage!r}"
    cluster_report = re.findall(r"^report: (.+)$", result.stdout, re.MULTILINE)[-1]
    assert cluster_report.startswith(f"{chain.warehouse}/reports/")
    assert fs.is_file(cluster_report) and fs.is_file(f"{chain.warehouse}/models/LATEST")
    actual_df = spark.read.format("delta").load(f"{chain.warehouse}/allocation").select(*ALLOCATION_COLUMNS)
    expected_df = spark.read.format("delta").load(chain.local.table("allocation")).select(*ALLOCATION_COLUMNS)
    assert expected_df.count() == 300
    assert_df_equality(actual_df.cache(), expected_df, ignore_row_order=True)
    actual_df.unpersist()


def test_a_nightly_started_while_another_holds_the_bucket_fails_fast_naming_it_and_the_other_publishes(bucket_chain):
    warehouse, (status, lost) = bucket_chain.warehouse, bucket_chain.lost
    output = bucket_chain.result.stdout + bucket_chain.result.stderr
    assert status == EXIT_LOCKED, lost[-3000:]
    winner = next(line.split("run ", 1)[1].split()[0] for line in output.splitlines() if "lock: run " in line)
    assert f"error: warehouse {warehouse} is locked by run {winner} (job nightly on host" in lost
    assert "stage validate" not in lost, "the loser starts no stage"
    assert "nightly chain for" in output
    assert fs.list_names(f"{warehouse}/_lock", ".json") == [], "the winner's claim is gone after its run"


def test_the_nightly_on_a_bucket_writes_nothing_locally_and_no_credentials_anywhere(bucket_chain):
    warehouse, env, work = bucket_chain.warehouse, bucket_chain.env, bucket_chain.work
    output = bucket_chain.result.stdout
    report = [line.split(": ", 1)[1] for line in output.splitlines() if line.startswith("report: ")][-1]
    day = fs.name_of(report.rsplit("/", 1)[0])
    assert report == f"{warehouse}/reports/{day}/report.md"
    version = fs.read_latest(f"{warehouse}/models", "model artifact")
    tree = fs.read_latest(f"{warehouse}/artifacts/cost_tree", "cost tree")
    features = fs.read_latest(f"{warehouse}/artifacts/features", "features' artifacts")
    for name in (f"models/{version}/model.keras", f"artifacts/cost_tree/{tree}",
                 f"artifacts/features/{features}/vocab.json", f"published/{day}.json",
                 f"reports/{day}/report.html", f"reports/{day}/lambda_search.png"):
        assert fs.is_file(f"{warehouse}/{name}"), name
    assert "![λ search](lambda_search.png)" in fs.read_text(report)  # relative links: readable where it lies
    (record,) = fs.list_names(f"{warehouse}/runs/nightly", ".json")
    assert json.loads(fs.read_text(f"{warehouse}/runs/nightly/{record}"))["published"]
    assert list(work.iterdir()) == [], "nothing written under the working folder"

    secrets = (env["AWS_SECRET_ACCESS_KEY"], env["AWS_ACCESS_KEY_ID"])
    texts = [output, bucket_chain.result.stderr, bucket_chain.lost[1], fs.read_text(report),
             fs.read_text(f"{warehouse}/reports/{day}/report.html")]
    texts += [fs.read_text(f"{warehouse}/runs/{kind}/{name}") for kind, name in _records(warehouse)]
    assert not [s for s in secrets for t in texts if s in t], "credentials in a log, run record or report"


def _records(warehouse: str) -> list[tuple[str, str]]:
    filesystem, root = fs.resolve(f"{warehouse}/runs")
    files = filesystem.get_file_info(pafs.FileSelector(root, recursive=True))
    return [tuple(f.path.removeprefix(root + "/").split("/", 1)) for f in files if f.type == pafs.FileType.File]


def test_an_allocation_killed_during_its_write_leaves_the_published_day_and_a_rerun_succeeds(
    spark, bucket_chain, tmp_path
):
    """kill -9 of the nightly's allocation stage (``jobs/allocate.py`` in local mode, the same ``run_allocate``, on
    the scores the cluster nightly left) while its new data files are being written to the bucket."""
    warehouse, env, work = bucket_chain.warehouse, bucket_chain.env, bucket_chain.work
    (day,) = fs.list_names(f"{warehouse}/published", ".json")
    day = day.removesuffix(".json")
    before = read_pointer(warehouse, day)
    published = read_published(spark, warehouse, day)[0].select(*ALLOCATION_COLUMNS)
    expected_rows = sorted(published.collect())
    filesystem, allocation = fs.resolve(f"{warehouse}/allocation")
    selector = pafs.FileSelector(allocation, recursive=True)

    def data_files() -> set[str]:
        return {f.path for f in filesystem.get_file_info(selector) if f.path.endswith(".parquet")}

    old_files = data_files()
    quick = ["lock.stale_after_minutes=0.05", "lock.heartbeat_seconds=1"]  # a killed run's claim is stale in 3 s
    allocating = start_local_job("allocate", warehouse, env, work, tmp_path / "killed", *quick)
    # moto answers one request at a time: list the table only once the write has started, not all along
    _wait_for_line(allocating, "stage allocation write: started", timeout=600)
    deadline = time.monotonic() + 300
    while not data_files() - old_files:  # the allocation's new data files are being written
        assert allocating.running, "the job ended before its allocation write"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    allocating.kill()
    killed_at = time.monotonic()

    assert read_pointer(warehouse, day) == before
    assert delta_version(spark, f"{warehouse}/allocation") == before["versions"]["allocation"]
    assert sorted(read_published(spark, warehouse, day)[0].select(*ALLOCATION_COLUMNS).collect()) == expected_rows

    time.sleep(max(0.0, killed_at + 5 - time.monotonic()))  # the killed run's claim is stale (3 s) by now
    rerun = start_local_job("allocate", warehouse, env, work, tmp_path / "rerun", *quick).wait(timeout=900)
    assert "taking over the stale lock of run" in rerun.stdout + rerun.stderr
    after = read_pointer(warehouse, day)
    assert after["run_id"] != before["run_id"]
    assert after["versions"]["allocation"] > before["versions"]["allocation"]
    assert read_published(spark, warehouse, day)[0].count() == 300


# Big enough that a pass over the scores takes seconds on two 1-core executors, so the kill lands
# inside the solve; small enough for the default suite.
FAULT_PAIRS = 400_000
FAULT_DAY = dt.date(2026, 1, 16)
LEVELS = (1, 2, 3, 5, 8, 13, 20, 50, 100)


def _write_scores(spark, path: str, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random concave-ish scores for ``n`` pairs on FAULT_DAY; returns (account, photo, r).

    Handed to Spark as one Arrow table: from pandas, the arrays of 400k rows took half a minute.
    """
    rng = np.random.default_rng(7)
    gains = rng.exponential(size=(n, len(LEVELS))) * np.exp(-0.35 * np.arange(len(LEVELS)))
    r = np.cumsum(gains, axis=1) * rng.lognormal(0.0, 1.0, (n, 1))
    account, photo = np.arange(n, dtype=np.int64) // 8, np.arange(n, dtype=np.int64)

    def per_level(values: np.ndarray) -> pa.Array:
        return pa.FixedSizeListArray.from_arrays(pa.array(values.ravel()), len(LEVELS)).cast(pa.list_(pa.float64()))

    table = pa.table({
        "dt": pa.array(np.full(n, np.datetime64(FAULT_DAY, "D"))),
        "account_id": account,
        "photo_id": photo,
        "pvalue": per_level(r),
        "explore": per_level(np.zeros_like(r)),
        "r": per_level(r),
        "cost_7d": np.zeros(n),
    })  # fmt: skip
    replace_days(spark.createDataFrame(table, SCORES_SCHEMA).repartition(8), path, [FAULT_DAY])
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
    standalone_cluster: StandaloneCluster, start, spark, shared_path
):
    warehouse = shared_path / "warehouse"
    account, photo, r = _write_scores(spark, str(warehouse / "scores"), FAULT_PAIRS)
    budget = 12 * FAULT_PAIRS
    job = start(
        "allocate",
        *_sets([f"warehouse={warehouse}", f"run_date={FAULT_DAY}", f"budget.total_creatives={budget}",
                "publish.max_input_age_days=null",  # scores only: no creative_daily to date
                *(f"spark.conf.{key}={value}" for key, value in CODEGEN.items())]),  # 400k rows: as production
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
