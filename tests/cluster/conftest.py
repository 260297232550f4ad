"""Fixtures for tests against a real Spark standalone cluster on "foreign hosts" (master + 2 worker JVMs).

One cluster serves the whole session. It runs from a Spark installation outside the checkout, and each worker
starts in a private mount namespace where the checkout (and so its ``.venv``) is an empty folder and the
system temporary folder is a private ``/tmp`` of its own: executors and their Python workers can only run
``make dist``'s environment, shipped with the application (``--archives``) or installed once on the hosts
(:func:`installed`), and share no folder with the driver's temporary files. A test that needs storage both
sides see either puts its warehouse in a bucket (moto's server) or uses :func:`shared_path`, a folder of the
hosts outside ``/tmp`` (as a shared filesystem would be). ``standalone_cluster`` replaces any worker a test
killed before handing the cluster to the next test. Jobs run through ``spark-submit`` subprocesses (the test
process already holds the local ``spark`` session; a JVM holds one SparkContext only), and their Delta output
is then read back with that local session. Mark cluster tests ``@pytest.mark.cluster``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cluster_submit import CLUSTER_CONF, HOST_PREFIX, HOSTS_ROOT, MEMORY, OWNER, TEST_CONFIG, remove_abandoned_hosts

from acq_spark import PROJECT_ROOT
from acq_spark.cluster import StandaloneCluster, SubmittedJob, start_job
from acq_spark.cluster.dist import Dist
from acq_spark.cluster.standalone import can_hide_folders, copy_spark_home

JOB_TIMEOUT = 600.0


@pytest.fixture(scope="session")
def dist() -> Dist:
    """``make dist``'s output (``make test`` builds it first)."""
    return Dist.load()


@pytest.fixture(scope="session")
def cluster_host() -> Iterator[Path]:
    """The foreign hosts' own folder: outside the system temporary folder, which the workers cannot see."""
    remove_abandoned_hosts()
    host = Path(tempfile.mkdtemp(prefix=HOST_PREFIX, dir=HOSTS_ROOT))
    (host / OWNER).write_text(str(os.getpid()))
    yield host
    shutil.rmtree(host, ignore_errors=True)


@pytest.fixture(scope="session")
def _session_cluster(cluster_host: Path, dist: Dist) -> Iterator[StandaloneCluster]:
    reason = can_hide_folders()
    if reason:
        pytest.skip(f"the foreign-host cluster hides the checkout with a private mount namespace: {reason}")
    spark_home = copy_spark_home(cluster_host / "spark")
    cluster = StandaloneCluster(
        n_workers=2, cores=1, memory="1g", base_dir=cluster_host / "cluster", spark_home=spark_home,
        hide=[PROJECT_ROOT, Path(tempfile.gettempdir())],
    )  # fmt: skip
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def shared_path(cluster_host: Path, request: pytest.FixtureRequest) -> Path:
    """A folder of this test that the driver and every worker see (the hosts' shared filesystem)."""
    folder = cluster_host / "shared" / request.node.name[:60]
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def standalone_cluster(_session_cluster: StandaloneCluster) -> StandaloneCluster:
    """The running cluster, every worker slot ALIVE (workers killed by an earlier test are replaced)."""
    _session_cluster.ensure_workers()
    return _session_cluster


@pytest.fixture(scope="session")
def installed(cluster_host: Path, dist: Dist) -> Path:
    """``make dist``'s output installed once on the hosts (``submit --installed``): every application but the
    ``--archives`` test runs its environment in place instead of shipping and unpacking it per executor."""
    return dist.install(cluster_host / "acq")


@pytest.fixture
def start(
    standalone_cluster: StandaloneCluster, dist: Dist, installed: Path, tmp_path: Path
) -> Iterator[Callable[..., SubmittedJob]]:
    """``start("simulate", "--set", "warehouse=...")``: launch a job on the cluster with ``conf/test.yaml``.

    Returns the running job at once (its output goes to ``tmp_path/driver-<n>``); any job still running at
    teardown is killed. The job runs the hosts' installed environment, or with ``ship=True`` the one
    ``--archives`` ships.
    """
    jobs: list[SubmittedJob] = []

    def launch(script: str | Path, *args: str, ship: bool = False) -> SubmittedJob:
        url, log_dir = standalone_cluster.master_url, tmp_path / f"driver-{len(jobs)}"
        job_args = ["--config", str(TEST_CONFIG), *args]
        options = {"dist": dist, "installed": None if ship else installed, **MEMORY}
        jobs.append(start_job(script, url, job_args, CLUSTER_CONF, log_dir=log_dir, **options))
        return jobs[-1]

    yield launch
    for job in jobs:
        if job.running:
            job.kill()


@pytest.fixture
def submit(start: Callable[..., SubmittedJob]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Like ``start`` but waits: the finished job, or :class:`ClusterError` with the tail of its output."""

    def run(
        script: str | Path, *args: str, timeout: float = JOB_TIMEOUT, ship: bool = False
    ) -> subprocess.CompletedProcess[str]:
        return start(script, *args, ship=ship).wait(timeout=timeout)

    return run
