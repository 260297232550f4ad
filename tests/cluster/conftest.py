"""Fixtures for tests against a real Spark standalone cluster (master + 2 worker JVMs on 127.0.0.1).

One cluster serves the whole session; ``standalone_cluster`` replaces any worker a test killed
before handing the cluster to the next test. Jobs run through ``spark-submit`` subprocesses (the
test process already holds the local ``spark`` session; a JVM holds one SparkContext only), and
their Delta output is then read back with that local session. Put cluster tests in this folder and
mark them ``@pytest.mark.cluster``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from acq_spark.cluster import StandaloneCluster, SubmittedJob, start_job
from acq_spark.cluster.submit import LOG4J
from acq_spark.config import PROJECT_ROOT

TEST_CONFIG = PROJECT_ROOT / "conf" / "test.yaml"
# Tiny, short jobs on a small shared machine: JIT only to C1 and the serial GC (≈20% faster here).
_JAVA_OPTS = f"-Dlog4j2.configurationFile=file:{LOG4J} -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
CLUSTER_CONF = {
    # schedule nothing until both executors are up, so every job really spreads over both workers
    "spark.cores.max": "2",
    "spark.scheduler.minRegisteredResourcesRatio": "1.0",
    "spark.scheduler.maxRegisteredResourcesWaitingTime": "120s",
    "spark.driver.extraJavaOptions": _JAVA_OPTS,
    "spark.executor.extraJavaOptions": _JAVA_OPTS,
}
JOB_TIMEOUT = 600.0


@pytest.fixture(scope="session")
def _session_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandaloneCluster]:
    cluster = StandaloneCluster(n_workers=2, cores=1, memory="1g", base_dir=tmp_path_factory.mktemp("standalone"))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def standalone_cluster(_session_cluster: StandaloneCluster) -> StandaloneCluster:
    """The running cluster, every worker slot ALIVE (workers killed by an earlier test are replaced)."""
    _session_cluster.ensure_workers()
    return _session_cluster


def _job_args(args: tuple[str, ...]) -> list[str]:
    return ["--config", str(TEST_CONFIG), *args]


@pytest.fixture
def start(standalone_cluster: StandaloneCluster, tmp_path: Path) -> Iterator[Callable[..., SubmittedJob]]:
    """``start("simulate", "--set", "warehouse=...")``: launch a job on the cluster with ``conf/test.yaml``.

    Returns the running job at once (its output goes to ``tmp_path/driver-<n>``); any job still
    running at teardown is killed.
    """
    jobs: list[SubmittedJob] = []

    def launch(script: str | Path, *args: str) -> SubmittedJob:
        log_dir = tmp_path / f"driver-{len(jobs)}"
        jobs.append(start_job(script, standalone_cluster.master_url, _job_args(args), CLUSTER_CONF, log_dir=log_dir))
        return jobs[-1]

    yield launch
    for job in jobs:
        if job.running:
            job.kill()


@pytest.fixture
def submit(start: Callable[..., SubmittedJob]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Like ``start`` but waits: the finished job, or :class:`ClusterError` with the tail of its output."""

    def run(script: str | Path, *args: str, timeout: float = JOB_TIMEOUT) -> subprocess.CompletedProcess[str]:
        return start(script, *args).wait(timeout=timeout)

    return run
