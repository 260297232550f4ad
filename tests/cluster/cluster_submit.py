"""How the cluster tests submit: the settings every job gets and the user's own submit command."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from acq_spark import PROJECT_ROOT
from acq_spark.cluster import SubmittedJob
from acq_spark.cluster.processes import alive
from acq_spark.cluster.submit import start_process, submit_env

TEST_CONFIG = PROJECT_ROOT / "conf" / "test.yaml"
# Tiny, short jobs on a small shared machine: JIT only to C1 and the serial GC (≈20% faster here).
_JAVA_OPTS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
CLUSTER_CONF = {
    # schedule nothing until both executors are up, so every job really spreads over both workers
    "spark.cores.max": "2",
    "spark.scheduler.minRegisteredResourcesRatio": "1.0",
    "spark.scheduler.maxRegisteredResourcesWaitingTime": "120s",
    "spark.executor.extraJavaOptions": _JAVA_OPTS,
}
MEMORY = {"driver_memory": "1g", "executor_memory": "768m"}


def submit_cli(
    master_url: str,
    job: str,
    args: Sequence[str],
    env: Mapping[str, str],
    log_dir: Path,
    cwd: Path | None = None,
    installed: Path | None = None,
) -> SubmittedJob:
    """``python -m acq_spark.cluster submit --master URL JOB ARGS`` as a user runs it, with ``env`` added, from
    ``cwd`` (default: this process's working folder), with ``--installed`` where the hosts have ``dist``."""
    conf = [arg for key, value in CLUSTER_CONF.items() for arg in ("--conf", f"{key}={value}")]
    memory = ["--driver-memory", MEMORY["driver_memory"], "--executor-memory", MEMORY["executor_memory"]]
    command = [sys.executable, "-m", "acq_spark.cluster", "submit", "--master", master_url, *memory, *conf]
    command += [*(["--installed", str(installed)] if installed else []), job]
    return start_process([*command, *args], {**submit_env(master_url), **env}, log_dir, cwd=cwd)


HOSTS_ROOT, HOST_PREFIX, OWNER = Path("/var/tmp"), "acq-foreign-host-", "owner.pid"


def remove_abandoned_hosts(root: Path = HOSTS_ROOT) -> list[Path]:
    """Remove the hosts' folders whose test process is gone: a killed run leaves its copy of Spark and the
    installed environment (about 6 GB), which the next runs would otherwise pile up until the disk is full."""
    removed = []
    for host in root.glob(f"{HOST_PREFIX}*"):
        try:
            owner = int((host / OWNER).read_text())
        except (OSError, ValueError):
            owner = None  # not written yet by a session starting now, or from before the owner file
        if owner is not None and not alive(owner):
            shutil.rmtree(host, ignore_errors=True)
            removed.append(host)
    return removed
