"""The ``spark-submit`` line that runs a project job anywhere: ``local[N]``, ``spark://``, ``yarn``, ``k8s://``.

For a cluster master it ships what the hosts lack (``make dist``): the environment archive
(``--archives dist/acq-spark-env.tar.gz#environment``, executors run ``./environment/bin/python``),
Delta's jars (``--jars``) and, for the driver, the quiet log4j file. For ``local[N]`` the driver and
its Python workers are this machine's: this interpreter and Delta's local jars. Memory, cores and
the master are given to spark-submit, which owns them: the job's YAML does not override them.

Output of :func:`start_job` goes to files, not pipes, so a chatty driver never blocks on a full pipe
while a test waits on it.
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
from typing import Any

import pyspark

from acq_spark import PROJECT_ROOT
from acq_spark.cluster.dist import ENV_ALIAS, Dist
from acq_spark.cluster.processes import kill_session, tail
from acq_spark.errors import ClusterError, DistError
from acq_spark.platform.jars import local_delta_jars, local_s3a_jars
from acq_spark.resources import LOG4J_CONFIG


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


def spark_submit_binary() -> Path:
    """``$SPARK_HOME/bin/spark-submit`` where ``SPARK_HOME`` is set, else the one of the installed pyspark."""
    home = os.environ.get("SPARK_HOME")
    if home and (Path(home) / "bin" / "spark-submit").is_file():
        return Path(home) / "bin" / "spark-submit"
    return Path(pyspark.__file__).resolve().parent / "bin" / "spark-submit"


def _ship_config(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """For cluster deploy mode: ``--config FILE`` becomes ``--config <name>`` and FILE goes to ``--files``."""
    out, files = list(args), []
    for i, arg in enumerate(out[:-1]):
        if arg == "--config":
            files.append(str(Path(out[i + 1]).resolve()))
            out[i + 1] = Path(out[i + 1]).name
    return out, files


def uses_s3a(args: Sequence[str]) -> bool:
    """Whether a job's arguments (``--set`` values, the ``--config`` file) name an ``s3a://`` location."""
    if any("s3a://" in arg for arg in args):
        return True
    configs = [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "--config"]
    return any(Path(c).is_file() and "s3a://" in Path(c).read_text() for c in configs)


def submit_command(
    script: str | Path,
    master: str,
    args: Sequence[str] = (),
    conf: Mapping[str, str] | None = None,
    *,
    driver_memory: str | None = None,
    executor_memory: str | None = None,
    deploy_mode: str = "client",
    dist: Dist | None = None,
    installed: str | Path | None = None,
) -> list[str]:
    """The ``spark-submit`` command line for ``jobs/<script>.py`` on ``master``.

    Args:
        script: a job name (``"nightly"``) or a path to a ``.py`` script.
        master: ``local[N]``, ``spark://host:port``, ``yarn`` or ``k8s://https://host:port``.
        args: the job's own arguments (``--config``, ``--set``).
        conf: further ``--conf`` settings (site settings, e.g. ``spark.executor.cores``).
        driver_memory: ``--driver-memory``; None leaves it to spark-defaults.
        executor_memory: ``--executor-memory``; None leaves it to spark-defaults.
        deploy_mode: ``client`` (the driver here) or ``cluster`` (YARN, Kubernetes: the driver on the cluster).
        dist: the built ``dist/`` (default: ``<project>/dist``); needed for every master but ``local``.
        installed: where every host of the cluster has ``dist/`` installed (:meth:`Dist.install`): executors
            run its environment and load its s3a jars in place, and no archive is shipped.

    Raises:
        DistError: a cluster master and no complete ``dist/``.
    """
    command = [str(spark_submit_binary()), "--master", master, "--deploy-mode", deploy_mode]
    if driver_memory:
        command += ["--driver-memory", driver_memory]
    if executor_memory:
        command += ["--executor-memory", executor_memory]
    if master.startswith("local"):
        launch = _local_launch(dist, args)
    else:
        launch = _cluster_launch(dist or Dist.load(), args, deploy_mode, installed)
    command += [*launch.options, "--jars", ",".join(str(j) for j in launch.jars)]
    if launch.files:
        command += ["--files", ",".join(launch.files)]
    # in cluster mode the driver starts beside the shipped copy (YARN and Kubernetes localise --files first)
    log4j_path = f"file:{launch.log4j}" if deploy_mode == "client" else "log4j2.properties"
    settings = {**launch.settings, "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={log4j_path}"}
    settings.update(conf or {})
    for key, value in settings.items():
        command += ["--conf", f"{key}={value}"]
    return [*command, str(resolve_script(script)), *launch.args]


@dataclass(frozen=True)
class _Launch:
    """What one kind of master adds to the ``spark-submit`` line: options before ``--jars`` (class path,
    archives), the jars, the driver's log4j file, ``--files``, ``--conf`` settings and the job's arguments."""

    options: list[str]
    jars: list[Path]
    log4j: Path
    settings: dict[str, str]
    files: list[str]
    args: list[str]


def _local_launch(dist: Dist | None, args: Sequence[str]) -> _Launch:
    """For ``local[N]``: the jars and log4j file of ``dist`` (default: ``<project>/dist`` when built, else Delta's
    local jars and the packaged log4j file), the s3a jars on the driver's class path, this interpreter everywhere."""
    if dist is None:
        try:
            dist = Dist.load()
        except DistError:
            dist = None
    jars = list(dist.jars) if dist else local_delta_jars()
    log4j = dist.log4j if dist else LOG4J_CONFIG
    # local executors live in the driver's JVM: its class path is enough (no copy of the AWS SDK)
    options = ["--driver-class-path", os.pathsep.join(str(j) for j in local_s3a_jars())]
    settings = {"spark.pyspark.python": sys.executable, "spark.pyspark.driver.python": sys.executable}
    return _Launch(options, jars, log4j, settings, [], list(args))


def _cluster_launch(dist: Dist, args: Sequence[str], deploy_mode: str, installed: str | Path | None) -> _Launch:
    """For a cluster master: ``dist``'s jars (and its s3a jars for a job that names ``s3a://``) and its environment,
    shipped as an archive or, with ``installed``, run in place; in cluster deploy mode the config and log4j files
    are shipped with ``--files`` too."""
    jars, log4j = list(dist.jars), dist.log4j
    options: list[str] = []
    settings: dict[str, str] = {}
    if uses_s3a(args):
        if installed:
            settings["spark.executor.extraClassPath"] = f"{Path(installed) / 'jars' / 's3a'}/*"
        else:
            jars += dist.s3a_jars
        if deploy_mode == "client":
            options += ["--driver-class-path", os.pathsep.join(str(j) for j in dist.s3a_jars)]
    if installed:
        settings["spark.pyspark.python"] = str(Path(installed) / ENV_ALIAS / "bin" / "python")
    else:
        options += ["--archives", dist.archives_arg]
        settings["spark.pyspark.python"] = dist.executor_python
    files: list[str] = []
    if deploy_mode == "client":
        settings["spark.pyspark.driver.python"] = sys.executable
    else:
        args, files = _ship_config(args)
        files.append(str(log4j))
    return _Launch(options, jars, log4j, settings, files, list(args))


def submit_env(master: str) -> dict[str, str]:
    """The environment for spark-submit: this one, bound to loopback for a master on 127.0.0.1."""
    dropped = ("PYSPARK_SUBMIT_ARGS", "PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")  # the --conf settings say it
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    if master.startswith("local") or "://127.0.0.1:" in master or "://localhost:" in master:
        env["SPARK_LOCAL_IP"] = "127.0.0.1"
    return env


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


def start_process(
    command: Sequence[str], env: Mapping[str, str], log_dir: str | Path | None = None, cwd: str | Path | None = None
) -> SubmittedJob:
    """Start ``command`` in the background in its own session, its output in ``log_dir/stdout|stderr``, from the
    working folder ``cwd`` (default: this process's)."""
    folder = Path(log_dir or tempfile.mkdtemp(prefix="acq-submit-"))
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "stdout").open("wb") as out, (folder / "stderr").open("wb") as err:
        process = subprocess.Popen(
            list(command), stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=dict(env), cwd=cwd,
            start_new_session=True,
        )  # fmt: skip
    return SubmittedJob(list(command), process, folder, owns_dir=log_dir is None)


def start_job(
    script: str | Path,
    master: str,
    args: Sequence[str] = (),
    conf: Mapping[str, str] | None = None,
    *,
    log_dir: str | Path | None = None,
    **options: Any,
) -> SubmittedJob:
    """Start ``spark-submit`` in the background (see :func:`submit_command` for ``options``)."""
    command = submit_command(script, master, args, conf, **options)
    return start_process(command, submit_env(master), log_dir)


def submit_job(
    script: str | Path,
    master: str,
    args: Sequence[str] = (),
    conf: Mapping[str, str] | None = None,
    *,
    timeout: float = 900.0,
    check: bool = True,
    **options: Any,
) -> subprocess.CompletedProcess[str]:
    """Run ``jobs/<script>.py`` on ``master`` and wait for it.

    Args:
        script: a job name (``"simulate"``) or a path to a ``.py`` script.
        master: the master URL (see :func:`submit_command`).
        args: the job's own arguments, e.g. ``["--config", "conf/test.yaml", "--set", "warehouse=/tmp/w"]``.
        conf: extra ``spark.*`` settings for ``spark-submit``.
        timeout: seconds before the job is killed and an error raised.
        check: raise when the job exits non-zero.
        **options: ``driver_memory``, ``executor_memory``, ``deploy_mode``, ``dist``, ``log_dir``.

    Returns:
        The finished process, with ``stdout`` and ``stderr`` as text.

    Raises:
        ClusterError: the job failed or timed out; the message has the tail of its output.
    """
    return start_job(script, master, args, conf, **options).wait(timeout=timeout, check=check)
