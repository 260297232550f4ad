"""Fixtures for the compose cluster's tests: the cluster of ``docker-compose.yml`` up for the module, then down.

``make compose-test`` starts the engine and builds the images first; here the engine must answer and
the project image must exist, or the test fails with one line saying so (never a skip). The cluster runs
under its own compose project name and a free port, so a user's ``make cluster-up`` is not touched; at
teardown ``down`` must leave no container, network or volume of that project behind.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from acq_spark.cluster import SubmittedJob
from acq_spark.cluster.docker import Compose, DockerError
from acq_spark.cluster.docker.compose import PROJECT_IMAGE, image_exists
from acq_spark.cluster.docker.engine import engine_answers
from acq_spark.cluster.processes import free_ports
from acq_spark.cluster.submit import start_process

PROJECT = "acq-compose-test"
# Small executors, both workers used by every job, light JVMs on a 2-core machine.
SPARK_ARGS = [
    "--driver-memory", "1g", "--executor-memory", "768m",
    "--conf", "spark.cores.max=2",
    "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
    "--conf", "spark.scheduler.maxRegisteredResourcesWaitingTime=120s",
    "--conf", "spark.executor.extraJavaOptions=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
]  # fmt: skip


# Wall times of the jobs, printed at the end of the run (README's and BENCHMARKS' figures).
TIMINGS: dict[str, float] = {}


def pytest_terminal_summary(terminalreporter) -> None:
    if TIMINGS:
        figures = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in TIMINGS.items())
        terminalreporter.write_line(f"compose: {figures}")


@pytest.fixture(scope="session")
def timings() -> dict[str, float]:
    """Where a test puts the wall time of a job, by name, for the summary line."""
    return TIMINGS


def leftovers(project: str = PROJECT) -> dict[str, list[str]]:
    """The project's containers, networks and volumes that Docker still has."""
    label = f"label=com.docker.compose.project={project}"
    found = {}
    for kind, command in (("containers", ["ps", "-a"]), ("networks", ["network", "ls"]), ("volumes", ["volume", "ls"])):
        out = subprocess.run(["docker", *command, "-q", "--filter", label], capture_output=True, text=True, check=True)
        found[kind] = out.stdout.split()
    return found


@pytest.fixture(scope="module")
def compose() -> Iterator[Compose]:
    """The compose cluster (master, two 1-core workers, the S3 server) up, with the bucket ``acq``."""
    if not engine_answers():
        pytest.fail("no Docker engine answers: run `make compose-test` (it installs and starts one)", pytrace=False)
    if not image_exists():
        pytest.fail(f"no image {PROJECT_IMAGE}: run `make compose-test` (it builds it)", pytrace=False)
    (port,) = free_ports(1)
    env = {"COMPOSE_PROJECT_NAME": PROJECT, "ACQ_S3_PORT": str(port), "ACQ_WORKER_CORES": "1",
           "ACQ_WORKER_MEMORY": "1g", "ACQ_WORKER_CLEANUP_S": "60"}  # fmt: skip
    cluster = Compose(env)
    try:
        cluster.up()
    except DockerError as exc:
        cluster.down()
        pytest.fail(str(exc), pytrace=False)
    try:
        yield cluster
    finally:
        cluster.down()
    left = leftovers()
    assert not any(left.values()), f"compose down left {left}"


@pytest.fixture(scope="module")
def submit_in_compose(
    compose: Compose, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., SubmittedJob]]:
    """``submit_in_compose("nightly", "--set", ...)``: the user's submit in the master's container, started.

    The driver's output goes to a folder of this machine (``driver-<n>``); a job still running at the
    end of the module is killed with its ``docker exec`` (``down`` ends the driver inside).
    """
    jobs: list[SubmittedJob] = []
    logs = tmp_path_factory.mktemp("compose-drivers")

    def start(job: str, *job_args: str, spark_args: Sequence[str] = SPARK_ARGS) -> SubmittedJob:
        command = compose.submit_args(job, job_args, spark_args)
        jobs.append(start_process(command, compose.environ(), Path(logs) / f"driver-{len(jobs)}"))
        return jobs[-1]

    yield start
    for job in jobs:
        if job.running:
            job.kill()
