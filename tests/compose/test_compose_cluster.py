"""The nightly chain on the Docker compose cluster (``make compose-test``; not in ``make test``).

* ``simulate`` and then the nightly, submitted in the master's container with ``python -m acq_spark.cluster
  submit`` (the archive of ``make dist``), the warehouse only in the compose's bucket: one allocation row per
  pair, the report in the bucket, and the workers could run no Python but the shipped environment.
* A worker's container killed (``docker kill``) during the allocation: the nightly completes, and its
  allocation equals the undisturbed run's on the same input.
* ``up`` refuses a port that is taken, and a disk without the room the workers need, with one line each.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from dataclasses import dataclass

import pytest
from chispa import assert_df_equality
from s3_store import use_store

from acq_spark.cluster import SubmittedJob
from acq_spark.cluster.docker import Compose, DockerError
from acq_spark.cluster.docker.compose import BUCKET, WORKERS
from acq_spark.cluster.processes import free_ports
from acq_spark.platform import fs

pytestmark = pytest.mark.compose

N_PAIRS = 400
WORLD = [f"simulate.n_pairs={N_PAIRS}", "train.epochs=2", "train.patience=1", "train.batch_size=1024",
         "train.evaluate=false"]  # fmt: skip
ALLOCATION_COLUMNS = ["dt", "account_id", "photo_id", "level", "n_creatives", "r", "lambda"]
STAGES = ("validate", "features", "train", "score", "allocation solve", "allocation write", "report")
UNDISTURBED = f"s3a://{BUCKET}/undisturbed"


def _sets(*overrides: str) -> list[str]:
    return [arg for item in overrides for arg in ("--set", item)]


def _output(job: SubmittedJob) -> str:
    return "".join((job.log_dir / name).read_text(errors="replace") for name in ("stdout", "stderr"))


def _store(compose: Compose) -> dict[str, str]:
    """The AWS environment of the compose's S3 server, through its port on 127.0.0.1."""
    return {"AWS_ACCESS_KEY_ID": "acq-local", "AWS_SECRET_ACCESS_KEY": "acq-local-secret", "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": compose.s3_endpoint}  # fmt: skip


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


@dataclass
class Run:
    output: str
    seconds: float


@pytest.fixture(scope="module")
def undisturbed(compose: Compose, submit_in_compose, timings) -> Run:
    """simulate, then the nightly, into s3a://acq/undisturbed; the nightly's output and wall time."""
    started = time.perf_counter()
    submit_in_compose("simulate", *_sets(f"warehouse={UNDISTURBED}", *WORLD)).wait(timeout=900)
    timings["simulate"] = time.perf_counter() - started
    result = submit_in_compose("nightly", *_sets(f"warehouse={UNDISTURBED}", *WORLD)).wait(timeout=1500)
    timings["nightly"] = time.perf_counter() - started - timings["simulate"]
    return Run(result.stdout + result.stderr, timings["nightly"])


def test_the_nightly_in_the_compose_allocates_every_pair_with_the_warehouse_only_in_the_bucket(
    compose: Compose, undisturbed: Run, spark
):
    submit_line = next(line for line in undisturbed.output.splitlines() if line.startswith("submit: "))
    assert re.search(r"--archives '?/opt/acq/dist/acq-spark-env\.tar\.gz#environment", submit_line), submit_line
    assert "spark.pyspark.python=./environment/bin/python" in submit_line
    for stage in STAGES:  # features and train log their steps: "stage train: extract: done ..."
        assert re.search(rf"stage {stage}(: [\w /]+)?: done", undisturbed.output), f"no timing line for stage {stage!r}"
    report = re.findall(r"^report: (.+)$", undisturbed.output, re.MULTILINE)[-1]
    assert report.startswith(f"{UNDISTURBED}/reports/")

    containers = {service: compose.container(service) for service in ("spark-master", "s3", *WORKERS)}
    for service, container in containers.items():  # no folder shared: no bind mount, no volume
        assert json.loads(_docker("inspect", "--format", "{{json .Mounts}}", container)) == [], service
    for worker in WORKERS:
        # the workers see no /opt/acq and their own Python has no pyspark: every Python task of every
        # executor ran the shipped ./environment, unpacked in the application's work folder (the nightly's
        # is there still; the simulation's may have been cleaned up already)
        check = compose.run("exec", "-T", worker, "sh", "-c",
                            "ls -A /opt/acq; python3.11 -c 'import pyspark' 2>/dev/null && echo importable; "
                            "ls -d /tmp/spark-work/app-*/*/environment/bin/python", check=False)  # fmt: skip
        shipped = check.stdout.split()
        assert shipped and all(p.endswith("/environment/bin/python") for p in shipped), (worker, check)

    with use_store(spark, _store(compose)):
        assert fs.is_file(report), report
        allocation = spark.read.format("delta").load(f"{UNDISTURBED}/allocation")
        assert allocation.count() == N_PAIRS
        assert allocation.select("dt", "account_id", "photo_id").distinct().count() == N_PAIRS


def test_a_worker_killed_during_the_allocation_changes_nothing_in_it(
    compose: Compose, undisturbed: Run, submit_in_compose, spark, timings
):
    disturbed = f"s3a://{BUCKET}/disturbed"  # the same input: the undisturbed run's creative_daily
    started = time.perf_counter()
    job = submit_in_compose(
        "nightly", *_sets(f"warehouse={disturbed}", f"input.path={UNDISTURBED}/creative_daily", *WORLD)
    )
    deadline = time.monotonic() + 900
    while "stage allocation solve: started" not in _output(job):
        assert job.running, f"the nightly ended before the allocation: {_output(job)[-3000:]}"
        assert time.monotonic() < deadline, "the allocation did not start within 900 s"
        time.sleep(0.05)
    victim = compose.container(WORKERS[1])
    _docker("kill", victim)
    assert "stage allocation write: done" not in _output(job), "the kill landed after the allocation"
    result = job.wait(timeout=1500)
    timings["nightly with a worker killed"] = time.perf_counter() - started

    assert _docker("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", victim).split() == ["exited", "137"]
    assert "stage allocation write: done" in result.stdout + result.stderr
    with use_store(spark, _store(compose)):
        actual_df = spark.read.format("delta").load(f"{disturbed}/allocation").select(*ALLOCATION_COLUMNS)
        expected_df = spark.read.format("delta").load(f"{UNDISTURBED}/allocation").select(*ALLOCATION_COLUMNS)
        assert expected_df.count() == N_PAIRS
        assert_df_equality(actual_df, expected_df, ignore_row_order=True)


def test_up_refuses_a_port_that_is_taken():
    (port,) = free_ports(1)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        compose = Compose({"COMPOSE_PROJECT_NAME": "acq-compose-port-test", "ACQ_S3_PORT": str(port)})
        with pytest.raises(DockerError, match=rf"^port 127\.0\.0\.1:{port} is already taken: set ACQ_S3_PORT"):
            compose.up()


def test_up_refuses_a_disk_without_the_room_the_workers_need():
    (port,) = free_ports(1)
    project = "acq-compose-disk-test"
    compose = Compose({"COMPOSE_PROJECT_NAME": project, "ACQ_S3_PORT": str(port), "ACQ_MIN_FREE_GB": "1e9"})
    with pytest.raises(DockerError, match=r"^[\d.]+ GB free under /\S+, where Docker keeps .* needs about 1e\+09 GB"):
        compose.up()
    label = f"label=com.docker.compose.project={project}"
    assert _docker("ps", "-a", "-q", "--filter", label) == "", "no container was started"
    assert _docker("network", "ls", "-q", "--filter", label) == "", "no network was made"
