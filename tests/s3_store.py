"""An S3-compatible store for the tests: moto's server on loopback, a way to point a session at it, and an outage.

moto keeps its buckets in memory, so stopping its server loses them. :class:`Outage` is a network outage
in front of it instead: a TCP proxy the test can cut (live connections closed, new ones refused) and
restore, the data kept, as when a store's load balancer or the network to it goes away.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from acq_spark.platform import fs, s3a

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


class Outage:
    """A TCP proxy ``127.0.0.1:port`` → ``127.0.0.1:target``: :meth:`cut` closes its connections and refuses new
    ones (connection refused, as from a host whose server is down), :meth:`restore` listens again on the same port."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._live: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.restore()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def restore(self) -> None:
        """Accept and forward connections again (on the same port); nothing to do while not cut."""
        if self._listener is not None:
            return
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Stop listening (new connections are refused) and close every live connection."""
        with self._lock:
            listener, self._listener = self._listener, None
            live, self._live = self._live, set()
        if listener is not None:
            _close(listener)  # shutdown() wakes the accept() blocked in the other thread; close() alone would not
        for sock in live:
            _close(sock)

    def close(self) -> None:
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed by cut()
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                _close(client)
                continue
            with self._lock:
                cut = self._listener is not listener
                if not cut:
                    self._live.update((client, server))
            if cut:
                _close(client)
                _close(server)
                return
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._live.difference_update((source, sink))
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@contextlib.contextmanager
def use_store(spark, environ: Mapping[str, str], extra: Mapping[str, str] | None = None) -> Iterator[None]:
    """Point the Python side and the running session's Hadoop configuration at the store ``environ`` names.

    ``extra``: further ``fs.s3a.*`` settings for the block. A bucket's s3a file system is made (and cached)
    by its first use, so they hold for the buckets first used inside the block.
    """
    settings = {**s3a.derived_settings(environ), **(extra or {})}
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
