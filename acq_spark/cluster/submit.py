"""``spark-submit`` of a project job to a cluster, the driver in client mode on this machine.

A job's own configuration reaches ``SparkSession.builder``, whose settings win over the ones given
to ``spark-submit``; so besides ``--master`` the master URL and the executor memory are also
appended to the job's command line as ``--set`` overrides (``job_overrides=True``). Output goes to
files, not pipes, so a chatty driver never blocks on a full pipe while a test waits on it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from acq_spark.cluster.processes import ClusterError, kill_session, tail
from acq_spark.cluster.standalone import SPARK_HOME
from acq_spark.config import PROJECT_ROOT
from acq_spark.jars import local_delta_jars

LOG4J = PROJECT_ROOT / "conf" / "log4j2.properties"


def resolve_script(script: str | Path) -> Path:
    """``"simulate"`` → ``<project>/jobs/simulate.py``; a path to a ``.py`` file is taken as it is."""
    path = Path(script)
    if path.suffix != ".py":
        path = PROJECT_ROOT / "jobs" / f"{script}.py"
    elif not path.is_absolute() and not path.exists():
        path = PROJECT_ROOT / path
    if not path.is_file():
        raise ClusterError(f"no job script at {path}")
    return path.resolve()


def submit_command(
    script: str | Path,
    master_url: str,
    args: Sequence[str] = (),
    conf: Mapping[str, str] | None = None,
    *,
    driver_memory: str = "1g",
    executor_memory: str = "768m",
    job_overrides: bool = True,
) -> list[str]:
    """The ``spark-submit`` command line: Delta's local jars, the venv's Python on both sides, quiet logs."""
    python = sys.executable
    settings = {
        "spark.pyspark.python": python,
        "spark.pyspark.driver.python": python,
        "spark.executorEnv.PYSPARK_PYTHON": python,
        "spark.driver.memory": driver_memory,
        "spark.executor.memory": executor_memory,
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{LOG4J}",
        "spark.executor.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{LOG4J}",
        **(conf or {}),
    }
    command = [
        str(SPARK_HOME / "bin" / "spark-submit"),
        "--master",
        master_url,
        "--deploy-mode",
        "client",
        "--jars",
        ",".join(str(j) for j in local_delta_jars()),
    ]
    for key, value in settings.items():
        command += ["--conf", f"{key}={value}"]
    command += [str(resolve_script(script)), *args]
    if job_overrides:
        command += ["--set", f"spark.master={master_url}", "--set", f"spark.executor_memory={executor_memory}"]
    return command


@dataclass
class SubmittedJob:
    """A running ``spark-submit``: its command, process and the files its stdout and stderr go to."""

    command: list[str]
    process: subprocess.Popen[bytes]
    log_dir: Path
    owns_dir: bool

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """End the driver (spark-submit's JVM and its Python process)."""
        kill_session(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def wait(self, timeout: float = 900.0, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Wait for the job; return its exit status and output.

        Raises:
            ClusterError: it exited non-zero (when ``check``) or ran past ``timeout`` seconds (then it
                is killed); the message has the tail of its stderr and stdout.
        """
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise ClusterError(f"job timed out after {timeout:.0f}s: {self._describe()}") from None
        out, err = (p.read_text(errors="replace") for p in (self.log_dir / "stdout", self.log_dir / "stderr"))
        if check and self.process.returncode != 0:
            raise ClusterError(f"job failed (exit {self.process.returncode}): {self._describe()}")
        if self.owns_dir:
            shutil.rmtree(self.log_dir, ignore_errors=True)
        return subprocess.CompletedProcess(self.command, self.process.returncode, out, err)

    def _describe(self) -> str:
        script = next((c for c in self.command if c.endswith(".py")), "?")
        return (
            f"{script} (full output kept in {self.log_dir})\n--- stderr (tail) ---\n{tail(self.log_dir / 'stderr', 60)}"
            f"\n--- stdout (tail) ---\n{tail(self.log_dir / 'stdout', 20)}"
        )


def start_job(
    script: str | Path,
    master_url: str,
    args: Sequence[str] = (),
    conf: Mapping[str, str] | None = None,
    *,
    log_dir: str | Path | None = None,
    **options: object,
) -> SubmittedJob:
    """Start ``spark-submit`` in the background (see :func:`submit_command` for ``options``)."""
    command = submit_command(script, master_url, args, conf, **options)  # type: ignore[arg-type]
    folder = Path(log_dir or tempfile.mkdtemp(prefix="acq-submit-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_CONF_DIR", "PYSPARK_SUBMIT_ARGS")}
    env.update(SPARK_HOME=str(SPARK_HOME), PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    if "://127.0.0.1:" in master_url or "://localhost:" in master_url:
        env["SPARK_LOCAL_IP"] = "127.0.0.1"
    with (folder / "stdout").open("wb") as out, (folder / "stderr").open("wb") as err:
        process = subprocess.Popen(
            command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, cwd=PROJECT_ROOT, start_new_session=True
        )
    return SubmittedJob(command, process, folder, owns_dir=log_dir is None)


def submit_job(
    script: str | Path,
    master_url: str,
    args: Sequence[str] = (),
    conf: Mapping[str, str] | None = None,
    *,
    timeout: float = 900.0,
    check: bool = True,
    **options: object,
) -> subprocess.CompletedProcess[str]:
    """Run ``jobs/<script>.py`` on the cluster at ``master_url`` and wait for it.

    Args:
        script: a job name (``"simulate"``) or a path to a ``.py`` script.
        master_url: ``spark://host:port``.
        args: the job's own arguments, e.g. ``["--config", "conf/test.yaml", "--set", "warehouse=/tmp/w"]``.
        conf: extra ``spark.*`` settings for ``spark-submit`` (override the defaults).
        timeout: seconds before the job is killed and an error raised.
        check: raise when the job exits non-zero.
        **options: ``driver_memory``, ``executor_memory`` (≤ the workers' memory), ``job_overrides``, ``log_dir``.

    Returns:
        The finished process, with ``stdout`` and ``stderr`` as text.

    Raises:
        ClusterError: the job failed or timed out; the message has the tail of its output.
    """
    return start_job(script, master_url, args, conf, **options).wait(timeout=timeout, check=check)
