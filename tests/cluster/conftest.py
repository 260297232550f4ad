"""Fixtures for tests against a real Spark standalone cluster on "foreign hosts" (master + 2 worker JVMs).

The cluster runs from a Spark installation outside the checkout, and each worker starts in a private
mount namespace where the checkout (and so its ``.venv``) is an empty folder: executors and their
Python workers can only run what the submitted application ships, ``make dist``'s environment
archive. The warehouse is a temporary folder that the driver and the workers both see (a shared
filesystem). One cluster serves the whole session; ``standalone_cluster`` replaces any worker a test
killed before handing the cluster to the next test. ``bucket_cluster`` (one per module) shares no folder
with the driver at all: its host lives outside the system temporary folder and each worker gets a
private ``/tmp`` too, so its warehouse must be in a bucket (moto's server). Jobs run through
``spark-submit`` subprocesses (the test process already holds the local ``spark`` session; a JVM holds
one SparkContext only), and their Delta output is then read back with that local session. Mark cluster
tests ``@pytest.mark.cluster``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from acq_spark.cluster import StandaloneCluster, SubmittedJob, start_job
from acq_spark.cluster.dist import Dist
from acq_spark.cluster.standalone import can_hide_folders, copy_spark_home
from acq_spark.cluster.submit import start_process, submit_env
from acq_spark.config import PROJECT_ROOT

TEST_CONFIG = PROJECT_ROOT / "conf" / "test.yaml"
# Tiny, short jobs on a small shared machine: JIT only to C1 and the serial GC (≈20% faster here).
_JAVA_OPTS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
CLUSTER_CONF = {
    # schedule nothing until both executors are up, so every job really spreads over both workers
    "spark.cores.max": "2",
    "spark.scheduler.minRegisteredResourcesRatio": "1.0",
    "spark.scheduler.maxRegisteredResourcesWaitingTime": "120s",
    "spark.executor.extraJavaOptions": _JAVA_OPTS,
}
MEMORY = {"driver_memory": "1g", "executor_memory": "768m"}
JOB_TIMEOUT = 600.0


@pytest.fixture(scope="session")
def dist() -> Dist:
    """``make dist``'s output (``make test`` builds it first)."""
    return Dist.load()


@pytest.fixture(scope="session")
def _session_cluster(tmp_path_factory: pytest.TempPathFactory, dist: Dist) -> Iterator[StandaloneCluster]:
    reason = can_hide_folders()
    if reason:
        pytest.skip(f"the foreign-host cluster hides the checkout with a private mount namespace: {reason}")
    host = tmp_path_factory.mktemp("foreign-host")
    spark_home = copy_spark_home(host / "spark")
    cluster = StandaloneCluster(
        n_workers=2, cores=1, memory="1g", base_dir=host / "cluster", spark_home=spark_home, hide=[PROJECT_ROOT]
    )
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def bucket_cluster(dist: Dist) -> Iterator[StandaloneCluster]:
    """A foreign-host cluster sharing no folder with the driver: checkout hidden, a private ``/tmp`` per worker."""
    reason = can_hide_folders()
    if reason:
        pytest.skip(f"the foreign-host cluster hides the checkout with a private mount namespace: {reason}")
    system_tmp = Path(tempfile.gettempdir())
    host = Path(tempfile.mkdtemp(prefix="acq-foreign-host-", dir="/var/tmp"))  # not under the hidden /tmp
    spark_home = copy_spark_home(host / "spark")
    cluster = StandaloneCluster(
        n_workers=2, cores=1, memory="1g", base_dir=host / "cluster", spark_home=spark_home,
        hide=[PROJECT_ROOT, system_tmp],
    )  # fmt: skip
    try:
        yield cluster.start()
    finally:
        cluster.stop()
        shutil.rmtree(host, ignore_errors=True)


def submit_cli(
    master_url: str, job: str, args: Sequence[str], env: Mapping[str, str], log_dir: Path
) -> SubmittedJob:
    """``python -m acq_spark.cluster submit --master URL JOB ARGS`` as a user runs it, with ``env`` added."""
    conf = [arg for key, value in CLUSTER_CONF.items() for arg in ("--conf", f"{key}={value}")]
    memory = ["--driver-memory", MEMORY["driver_memory"], "--executor-memory", MEMORY["executor_memory"]]
    command = [sys.executable, "-m", "acq_spark.cluster", "submit", "--master", master_url, *memory, *conf, job]
    return start_process([*command, *args], {**submit_env(master_url), **env}, log_dir)


@pytest.fixture
def standalone_cluster(_session_cluster: StandaloneCluster) -> StandaloneCluster:
    """The running cluster, every worker slot ALIVE (workers killed by an earlier test are replaced)."""
    _session_cluster.ensure_workers()
    return _session_cluster


def _job_args(args: tuple[str, ...]) -> list[str]:
    return ["--config", str(TEST_CONFIG), *args]


def _launcher(cluster_jobs: list[SubmittedJob], launch: Callable[..., SubmittedJob]) -> Callable[..., SubmittedJob]:
    def run(script: str | Path, *args: str) -> SubmittedJob:
        cluster_jobs.append(launch(script, len(cluster_jobs), _job_args(args)))
        return cluster_jobs[-1]

    return run


def _kill_running(cluster_jobs: list[SubmittedJob]) -> None:
    for job in cluster_jobs:
        if job.running:
            job.kill()


@pytest.fixture
def start(
    standalone_cluster: StandaloneCluster, dist: Dist, tmp_path: Path
) -> Iterator[Callable[..., SubmittedJob]]:
    """``start("simulate", "--set", "warehouse=...")``: launch a job on the cluster with ``conf/test.yaml``.

    Returns the running job at once (its output goes to ``tmp_path/driver-<n>``); any job still
    running at teardown is killed.
    """
    jobs: list[SubmittedJob] = []

    def launch(script: str | Path, n: int, args: list[str]) -> SubmittedJob:
        url, log_dir = standalone_cluster.master_url, tmp_path / f"driver-{n}"
        return start_job(script, url, args, CLUSTER_CONF, log_dir=log_dir, dist=dist, **MEMORY)

    yield _launcher(jobs, launch)
    _kill_running(jobs)


@pytest.fixture
def start_cli(standalone_cluster: StandaloneCluster, tmp_path: Path) -> Iterator[Callable[..., SubmittedJob]]:
    """Like ``start``, through the user's command: ``python -m acq_spark.cluster submit --master URL JOB ...``."""
    jobs: list[SubmittedJob] = []

    def launch(script: str | Path, n: int, args: list[str]) -> SubmittedJob:
        return submit_cli(standalone_cluster.master_url, str(script), args, {}, tmp_path / f"cli-{n}")

    yield _launcher(jobs, launch)
    _kill_running(jobs)


@pytest.fixture
def submit(start: Callable[..., SubmittedJob]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Like ``start`` but waits: the finished job, or :class:`ClusterError` with the tail of its output."""

    def run(script: str | Path, *args: str, timeout: float = JOB_TIMEOUT) -> subprocess.CompletedProcess[str]:
        return start(script, *args).wait(timeout=timeout)

    return run


@pytest.fixture
def start_on_bucket_cluster(
    bucket_cluster: StandaloneCluster, s3_server, tmp_path: Path
) -> Iterator[Callable[..., SubmittedJob]]:
    """``start_on_bucket_cluster("nightly", "--set", ...)``: the user's command on :func:`bucket_cluster`, with
    ``conf/test.yaml`` and the AWS environment of moto's server (the only way to the warehouse)."""
    jobs: list[SubmittedJob] = []
    env = s3_server.environment()

    def launch(script: str | Path, n: int, args: list[str]) -> SubmittedJob:
        return submit_cli(bucket_cluster.master_url, str(script), args, env, tmp_path / f"bucket-cli-{n}")

    yield _launcher(jobs, launch)
    _kill_running(jobs)
