"""The standalone cluster itself: one master and N worker JVMs on 127.0.0.1, from a Spark's ``spark-class``.

Each JVM leads its own session, so stopping (or killing) a worker also ends the executors and
Python workers it launched. Executors run the Python the submitted application names
(``spark.pyspark.python``): with ``make dist``'s archive, ``./environment/bin/python``.

A "foreign host": ``spark_home`` a Spark installation outside the checkout (:func:`copy_spark_home`),
and ``hide`` folders (the checkout, and so its venv) that each worker cannot see: every worker starts
in a private mount namespace (``unshare -m``, root only) with an empty tmpfs over each of them, so its
executors and their Python workers see exactly what a cluster host without the project would.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyspark

from acq_spark.cluster.processes import alive, free_ports, kill_session, link_or_copy, tail
from acq_spark.errors import ClusterError

SPARK_HOME = Path(pyspark.__file__).resolve().parent
_DEPLOY = "org.apache.spark.deploy"
# Nothing of this machine's Python set-up leaks into the daemons: the application says what runs.
_NOT_PASSED_TO_DAEMONS = frozenset(
    {"SPARK_CONF_DIR", "PYSPARK_SUBMIT_ARGS", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON", "PYTHONPATH", "VIRTUAL_ENV"}
)


@dataclass
class Daemon:
    """One master or worker JVM: its pid (= session id), ports, log file and work folder."""

    role: str
    pid: int
    port: int
    ui_port: int
    log: str
    work_dir: str = ""


def hidden_from(folders: Sequence[Path], command: list[str]) -> list[str]:
    """``command`` run in a private mount namespace where each of ``folders`` is an empty tmpfs.

    A hidden system temporary folder (``/tmp``) becomes the host's own, writable one (1 GiB, mode 1777,
    as a host's ``/tmp`` is); any other hidden folder is a small empty tmpfs. ``unshare`` execs ``sh``,
    which mounts and then execs ``command``: the pid stays the command's.
    """
    mount = (
        'if [ "$1" = /tmp ]; then o=size=1g,mode=1777; else o=size=1m,mode=0755; fi; '
        'mount -t tmpfs -o "$o" acq-hidden "$1"'
    )
    script = f'while [ "$1" != -- ]; do {mount}; shift; done; shift; exec "$@"'
    return ["unshare", "-m", "--propagation", "private", "sh", "-ec", script, "sh", *map(str, folders), "--", *command]


def can_hide_folders() -> str | None:
    """None when :func:`hidden_from` works here; otherwise why not (e.g. not root, ``unshare`` refused)."""
    probe = hidden_from([Path(tempfile.gettempdir())], ["true"])
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare not usable: {exc}"
    return None if done.returncode == 0 else f"unshare -m refused: {done.stderr.strip() or done.returncode}"


def copy_spark_home(dest: str | Path) -> Path:
    """A Spark installation at ``dest`` outside the checkout: the installed pyspark's, hard-linked where possible."""
    dest = Path(dest)
    if not (dest / "bin" / "spark-class").is_file():
        tmp = dest.with_name(f".{dest.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(SPARK_HOME, tmp, symlinks=True, copy_function=link_or_copy)
        os.replace(tmp, dest)
    return dest


class StandaloneCluster:
    """A master and ``n_workers`` workers (``cores`` cores, ``memory`` each) on 127.0.0.1.

    Args:
        n_workers: how many worker JVMs.
        cores: cores per worker (one executor per worker and application).
        memory: memory per worker, e.g. ``"1g"``; executors must ask for no more.
        base_dir: where logs, work and local dirs go; a temporary folder (removed at stop) when None.
        timeout: seconds to wait for the master and the workers to come up.
        daemon_java_opts: JVM options of the master and workers (not of executors): light by default,
            since they mostly wait, and JIT threads would take CPU from the jobs on a small machine.
        spark_home: the Spark installation the daemons run from (default: the installed pyspark's).
        hide: folders the workers, their executors and Python workers cannot see (needs root).
    """

    def __init__(
        self,
        n_workers: int = 2,
        cores: int = 1,
        memory: str = "1g",
        base_dir: str | Path | None = None,
        timeout: float = 90.0,
        daemon_java_opts: str = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1",
        spark_home: str | Path | None = None,
        hide: Sequence[str | Path] = (),
    ) -> None:
        self.n_workers, self.cores, self.memory, self.timeout = n_workers, cores, memory, timeout
        self.spark_home = Path(spark_home or SPARK_HOME)
        self.hide = [Path(h) for h in hide]
        self.daemon_java_opts = daemon_java_opts
        self._owns_dir = base_dir is None
        self.base_dir = Path(base_dir or tempfile.mkdtemp(prefix="acq-cluster-"))
        self.master: Daemon | None = None
        self.workers: list[Daemon] = []
        self._procs: dict[int, subprocess.Popen[bytes]] = {}
        self._started = 0

    # -- life cycle ---------------------------------------------------------------------------
    def start(self, detach: bool = False) -> StandaloneCluster:
        """Start the master, then the workers; return once the master lists them all ALIVE.

        Args:
            detach: leave the JVMs running when this Python process exits (``python -m ... start``).

        Raises:
            ClusterError: a JVM exited or the timeout passed; the message has the tail of the logs.
        """
        if not detach:
            atexit.register(self.stop)
        try:
            self.master = self._launch("master", f"{_DEPLOY}.master.Master", [])
            self.wait_until(lambda s: s.get("status") == "ALIVE", "the master")
            for i in range(self.n_workers):
                self.workers.append(self._start_worker(i))
            self.wait_for_workers()
        except BaseException:
            self.stop()
            raise
        return self

    def _launch(self, role: str, cls: str, args: list[str], work: str = "") -> Daemon:
        port, ui = free_ports(2)
        log = self.base_dir / "logs" / f"{role}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in _NOT_PASSED_TO_DAEMONS}
        env.update(
            SPARK_HOME=str(self.spark_home),
            SPARK_LOCAL_IP="127.0.0.1",
            SPARK_LOG_DIR=str(log.parent),
            SPARK_DAEMON_MEMORY="512m",
            SPARK_DAEMON_JAVA_OPTS=self.daemon_java_opts,
        )
        if work:
            env.update(SPARK_WORKER_DIR=work, SPARK_LOCAL_DIRS=str(Path(work) / "local"))
        else:  # no REST submission server: it would also take the fixed port 6066
            env["SPARK_MASTER_OPTS"] = "-Dspark.master.rest.enabled=false"
        command = [str(self.spark_home / "bin" / "spark-class"), cls, "--host", "127.0.0.1", "--port", str(port)]
        command += ["--webui-port", str(ui), *args]
        if work and self.hide:
            command = hidden_from(self.hide, command)
        with log.open("ab") as out:
            proc = subprocess.Popen(
                command,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.base_dir,
                start_new_session=True,
            )
        self._procs[proc.pid] = proc
        return Daemon(role, proc.pid, port, ui, str(log), work)

    def _start_worker(self, i: int) -> Daemon:
        self._started += 1
        role = f"worker-{i}" if i >= len(self.workers) else f"worker-{i}.{self._started}"  # a replacement
        work = self.base_dir / role
        (work / "local").mkdir(parents=True, exist_ok=True)
        args = ["--cores", str(self.cores), "--memory", self.memory, "--work-dir", str(work), self.master_url]
        return self._launch(role, f"{_DEPLOY}.worker.Worker", args, str(work))

    def stop(self) -> None:
        """Stop every JVM this cluster started (workers first, with their executors); safe to repeat."""
        atexit.unregister(self.stop)
        daemons = [*self.workers, *([self.master] if self.master else [])]
        for d in daemons:
            kill_session(d.pid, signal.SIGTERM, require="spark")
        deadline = time.monotonic() + 10
        while any(alive(d.pid) for d in daemons) and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.2)
        for d in daemons:
            kill_session(d.pid, signal.SIGKILL, require="spark")
        self._reap(block=True)
        self.master, self.workers = None, []
        if self._owns_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def _reap(self, block: bool = False) -> None:
        for pid, proc in list(self._procs.items()):
            if (proc.wait(timeout=10) if block else proc.poll()) is not None:
                del self._procs[pid]

    def __enter__(self) -> StandaloneCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- state --------------------------------------------------------------------------------
    @property
    def master_url(self) -> str:
        """``spark://127.0.0.1:<port>``."""
        if self.master is None:
            raise ClusterError("the cluster is not running")
        return f"spark://127.0.0.1:{self.master.port}"

    @property
    def ui_url(self) -> str:
        """The master's web UI (its JSON view is ``<ui_url>/json/``)."""
        return f"http://127.0.0.1:{self.master.ui_port if self.master else 0}"

    @property
    def worker_pids(self) -> list[int]:
        """The worker JVMs' pids, by slot."""
        return [w.pid for w in self.workers]

    def master_state(self) -> dict[str, Any]:
        """The master's JSON status: ``workers`` (with ``state``), ``activeapps``, ``status``, ..."""
        with urllib.request.urlopen(f"{self.ui_url}/json/", timeout=5) as response:
            return json.load(response)

    def worker_states(self) -> list[str]:
        """Each slot's worker state in the master (``ALIVE``, ``DEAD``, or ``MISSING``)."""
        latest = {w["port"]: w["state"] for w in self.master_state().get("workers", [])}
        return [latest.get(w.port, "MISSING") for w in self.workers]

    def logs_tail(self, lines: int = 25) -> str:
        """The tail of every daemon's log, headed by its role."""
        daemons = [*([self.master] if self.master else []), *self.workers]
        return "\n".join(f"--- {d.role} ({d.log}) ---\n{tail(d.log, lines)}" for d in daemons)

    def wait_until(
        self, ready: Callable[[dict[str, Any]], bool], what: str, timeout: float | None = None
    ) -> dict[str, Any]:
        """Poll the master's JSON until ``ready(state)``; fail fast when a JVM exits."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            gone = [d.role for d in [self.master, *self.workers] if d and not alive(d.pid)]
            if gone:
                raise ClusterError(f"{', '.join(gone)} exited while waiting for {what}\n{self.logs_tail()}")
            try:
                state = self.master_state()
                if ready(state):
                    return state
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ClusterError(f"timed out waiting for {what} at {self.ui_url}\n{self.logs_tail()}")
            time.sleep(0.25)

    def wait_for_workers(self, timeout: float | None = None) -> None:
        """Block until the master lists every worker slot as ALIVE."""
        ports = {w.port for w in self.workers}
        self.wait_until(
            lambda s: ports <= {w["port"] for w in s["workers"] if w["state"] == "ALIVE"},
            f"{len(ports)} workers to register",
            timeout,
        )

    # -- faults -------------------------------------------------------------------------------
    def kill_worker(self, i: int) -> int:
        """SIGKILL worker ``i`` with its executors and Python workers (a machine lost); returns its pid."""
        pid = self.workers[i].pid
        kill_session(pid, signal.SIGKILL, require="spark")
        if pid in self._procs:
            self._procs.pop(pid).wait(timeout=10)
        return pid

    def ensure_workers(self) -> None:
        """Replace dead workers (new JVM, new ports) and wait until every slot is ALIVE again."""
        for i, w in enumerate(self.workers):
            if not alive(w.pid):
                self.workers[i] = self._start_worker(i)
        self.wait_for_workers()

    def save(self, path: str | Path) -> None:
        """Write the cluster's state (pids, ports, folders) as JSON, for :meth:`load`."""
        state = {
            "base_dir": str(self.base_dir),
            "owns_dir": self._owns_dir,
            "daemons": [asdict(d) for d in [self.master, *self.workers] if d],
        }
        Path(path).write_text(json.dumps(state, indent=2))

    @classmethod
    def load(cls, path: str | Path) -> StandaloneCluster:
        """The cluster described by a state file written by :meth:`save`."""
        state = json.loads(Path(path).read_text())
        daemons = [Daemon(**d) for d in state["daemons"]]
        cluster = cls(n_workers=len(daemons) - 1, base_dir=state["base_dir"])
        cluster._owns_dir = state["owns_dir"]
        cluster.master, cluster.workers = daemons[0], daemons[1:]
        return cluster
