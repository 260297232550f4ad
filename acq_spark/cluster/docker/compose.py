"""The compose cluster of ``docker-compose.yml``: a master, two workers and an S3 server, on compose v1 or v2.

:class:`Compose` runs compose with a project name and the variables the file reads; :meth:`Compose.up`
checks the published port first, waits until the master lists every worker ALIVE and the S3 server
answers, and makes the bucket; :meth:`Compose.down` removes the containers, networks and volumes.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from acq_spark import PROJECT_ROOT
from acq_spark.cluster.docker.engine import compose_command, last_line, run
from acq_spark.errors import DockerError

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
PROJECT_IMAGE = "acq-spark:latest"
WORKERS = ("spark-worker-1", "spark-worker-2")
BUCKET = "acq"  # conf/cluster.yaml's warehouse is s3a://acq/warehouse
DEFAULTS = {"ACQ_S3_PORT": "9000", "COMPOSE_PROJECT_NAME": "acq-spark"}
# Each worker keeps an application's jars and unpacked environment (about 3 GB) in its container until
# cleaned up, and the next application's may arrive first: without the room, tar fails mid-job inside a worker.
# The compose tests took up to 15 GB more once the images were built (BENCHMARKS.md); a CI run that passed the
# check at 8 GB ran out of room in a worker.
MIN_FREE_GB = 16.0
# The driver runs in the master's container and submits as on any cluster: the archive, the jars.
SUBMIT = ["/opt/acq/driver-env/bin/python", "-m", "acq_spark.cluster", "submit", "--dist", "/opt/acq/dist",
          "--master", "spark://spark-master:7077"]  # fmt: skip


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


@dataclass
class Compose:
    """``docker compose`` (or ``docker-compose``) on :data:`COMPOSE_FILE` with ``env`` (see :data:`DEFAULTS`)."""

    env: dict[str, str] = field(default_factory=dict)
    file: Path = COMPOSE_FILE

    def __post_init__(self) -> None:
        self.env = {**DEFAULTS, **{k: os.environ[k] for k in DEFAULTS if k in os.environ}, **self.env}
        self.command = [*compose_command(), "-f", str(self.file), "-p", self.env["COMPOSE_PROJECT_NAME"]]

    @property
    def s3_endpoint(self) -> str:
        """The S3 server as the host sees it (published on 127.0.0.1 only)."""
        return f"http://127.0.0.1:{self.env['ACQ_S3_PORT']}"

    def args(self, *args: str) -> list[str]:
        return [*self.command, *args]

    def environ(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def run(self, *args: str, timeout: float = 600.0, check: bool = True) -> subprocess.CompletedProcess[str]:
        """compose ``args``, output captured; a failure raises :class:`DockerError` with its last line."""
        done = subprocess.run(self.args(*args), capture_output=True, text=True, env=self.environ(),
                              timeout=timeout, check=False)  # fmt: skip
        if check and done.returncode != 0:
            raise DockerError(f"`compose {' '.join(args[:2])}` failed: {last_line(done.stderr or done.stdout)}")
        return done

    def exec_args(self, service: str, *command: str, env: Mapping[str, str] | None = None) -> list[str]:
        """The compose line that runs ``command`` in ``service``'s container (no TTY: output can go to files)."""
        return self.args("exec", "-T", *(f"--env={k}={v}" for k, v in (env or {}).items()), service, *command)

    def submit_args(self, job: str, job_args: Sequence[str], spark_args: Sequence[str] = ()) -> list[str]:
        """``python -m acq_spark.cluster submit`` of ``/opt/acq/jobs/<job>.py``, conf/cluster.yaml, in the master."""
        command = [*SUBMIT, *spark_args, f"/opt/acq/jobs/{job}.py", "--config", "/opt/acq/conf/cluster.yaml"]
        return self.exec_args("spark-master", *command, *job_args)

    def container(self, service: str) -> str:
        """The id of ``service``'s container."""
        ids = self.run("ps", "-q", service).stdout.split()
        if not ids:
            raise DockerError(f"no container for service {service}")
        return ids[0]

    def up(self, timeout: float = 180.0) -> None:
        """Start the cluster and wait for every worker and the S3 server; then make the bucket.

        Raises:
            DockerError: the published port is taken, or the cluster was not up within ``timeout``.
        """
        port = int(self.env["ACQ_S3_PORT"])
        if not port_is_free(port):
            raise DockerError(f"port 127.0.0.1:{port} is already taken: set ACQ_S3_PORT to a free port")
        require_free_disk(docker_root(), float(self.env.get("ACQ_MIN_FREE_GB", MIN_FREE_GB)))
        self.run("up", "-d")
        deadline = time.monotonic() + timeout
        while not (self._workers_alive() and self._s3_answers()):
            if time.monotonic() > deadline:
                logs = self.run("logs", "--tail", "3", check=False).stdout.strip().splitlines()
                raise DockerError(f"the compose cluster was not up within {timeout:.0f} s: {' | '.join(logs[-6:])}")
            time.sleep(1)
        self.make_bucket(BUCKET)

    def _workers_alive(self) -> bool:
        probe = ("import json, urllib.request as u; "
                 "print(json.load(u.urlopen('http://localhost:8080/json/', timeout=3))['aliveworkers'])")  # fmt: skip
        done = self.run("exec", "-T", "spark-master", "python3.11", "-c", probe, timeout=30, check=False)
        return done.returncode == 0 and done.stdout.strip() == str(len(WORKERS))

    def _s3_answers(self) -> bool:
        try:
            urllib.request.urlopen(f"{self.s3_endpoint}/moto-api/", timeout=3).close()
        except OSError:
            return False
        return True

    def make_bucket(self, name: str) -> str:
        """Create bucket ``name`` on the S3 server (through its published port); an existing one is kept."""
        try:
            urllib.request.urlopen(urllib.request.Request(f"{self.s3_endpoint}/{name}", method="PUT"), timeout=10)
        except urllib.error.HTTPError as exc:
            if exc.code != 409:  # 409: it is there already
                raise DockerError(f"bucket {name} not created on {self.s3_endpoint}: HTTP {exc.code}") from None
        return name

    def down(self) -> None:
        """Remove the containers, the networks and the volumes (none is declared; anonymous ones too)."""
        self.run("down", "--volumes", "--remove-orphans", "--timeout", "5")


def docker_root() -> str:
    """Where the engine keeps images and the containers' files (``docker info``'s DockerRootDir)."""
    return run(["docker", "info", "--format", "{{.DockerRootDir}}"], 60).stdout.strip()


def require_free_disk(folder: str, need_gb: float) -> None:
    """Raises DockerError when ``folder``'s file system has less than ``need_gb`` GB (10^9 bytes) free."""
    free = shutil.disk_usage(folder).free / 1e9
    if free < need_gb:
        raise DockerError(
            f"{free:.1f} GB free under {folder}, where Docker keeps the containers' files: the compose cluster "
            f"needs about {need_gb:g} GB (each worker unpacks about 3 GB per application); free some space"
        )


def image_exists(tag: str = PROJECT_IMAGE) -> bool:
    return run(["docker", "image", "inspect", tag], 60, check=False).returncode == 0
