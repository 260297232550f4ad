"""An S3-compatible store for the tests: moto's server on loopback, and a way to point a session at it."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from acq_spark import fs, s3a

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "acq-test-key-id", "AWS_SECRET_ACCESS_KEY": "acq-test-secret-7f3a9c"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class MotoServer:
    """``python -m moto.server`` on ``127.0.0.1:port``; ``auth=True`` checks credentials (none are valid)."""

    process: subprocess.Popen
    port: int

    @classmethod
    def start(cls, auth: bool = False, timeout: float = 30.0) -> MotoServer:
        port = free_port()
        env = {**os.environ, **({"INITIAL_NO_AUTH_ACTION_COUNT": "0"} if auth else {})}
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = cls(process, port)
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{server.endpoint}/moto-api/", timeout=1).close()
                return server
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    server.stop()
                    raise RuntimeError(f"moto's server did not start on port {port}") from None
                time.sleep(0.1)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """The standard AWS environment for this server: all the project needs to use it."""
        return {**CREDENTIALS, "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": self.endpoint}

    def new_bucket(self) -> str:
        import boto3

        name = f"acq-{uuid.uuid4().hex[:12]}"
        env = self.environment()
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=env["AWS_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        client.create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@contextlib.contextmanager
def use_store(spark, environ: Mapping[str, str]) -> Iterator[None]:
    """Point the Python side and the running session's Hadoop configuration at the store ``environ`` names."""
    settings = s3a.derived_settings(environ)
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    before = {key: hadoop.get(key) for key in settings}
    for key, value in settings.items():
        hadoop.set(key, value)
    fs.configure(settings)
    try:
        yield
    finally:
        for key, value in before.items():
            hadoop.unset(key) if value is None else hadoop.set(key, value)
        fs.configure(s3a.derived_settings(os.environ))
