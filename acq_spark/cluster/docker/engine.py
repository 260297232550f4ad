"""The Docker engine on this machine: Debian's packages when missing, ``dockerd`` started by hand, compose v1 or v2.

Machines of this kind have no systemd, so ``dockerd`` is started in the background when no engine
answers, and its pid goes to a state file: :func:`stop_engine` stops that daemon and no other (an engine
that was already running is left alone). Compose is ``docker compose`` (v2) where the CLI has the plugin,
else ``docker-compose`` (v1, Debian's package): both read the same ``docker-compose.yml``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from acq_spark.cluster.processes import alive, cmdline, tail
from acq_spark.errors import DockerError

STATE_DIR = Path("/var/tmp/acq-docker")
ENGINE_STATE = STATE_DIR / "engine.json"
DEBIAN_PACKAGES = {"dockerd": "docker.io", "docker": "docker.io", "docker-compose": "docker-compose",
                   "debootstrap": "debootstrap"}  # fmt: skip


def run(command: list[str], timeout: float = 600.0, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``command`` with its output captured as text; a failure raises :class:`DockerError` with its last line."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise DockerError(f"{command[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise DockerError(f"`{' '.join(command[:3])} ...` did not finish within {timeout:.0f} s") from None
    if check and done.returncode != 0:
        raise DockerError(f"`{' '.join(command[:3])} ...` failed: {last_line(done.stderr or done.stdout)}")
    return done


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def has_compose_v2() -> bool:
    return shutil.which("docker") is not None and run(["docker", "compose", "version"], 60, check=False).returncode == 0


def compose_command() -> list[str]:
    """``docker compose`` (v2) where the CLI has the plugin, else ``docker-compose`` (v1).

    Raises:
        DockerError: neither is installed.
    """
    if has_compose_v2():
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise DockerError("no compose: neither `docker compose` (v2) nor `docker-compose` (v1) is installed")


def missing_packages(need_debootstrap: bool = True) -> list[str]:
    """The Debian packages to install for the engine, compose and (``need_debootstrap``) the base image."""
    tools = ["dockerd", "docker"] + ([] if has_compose_v2() else ["docker-compose"])
    tools += ["debootstrap"] if need_debootstrap else []
    return sorted({DEBIAN_PACKAGES[tool] for tool in tools if shutil.which(tool) is None})


def install_packages(packages: list[str]) -> None:
    """``apt-get install`` ``packages`` (after ``apt-get update``).

    Raises:
        DockerError: not root, no apt-get, or apt-get failed (its last line).
    """
    if not packages:
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        why = "no apt-get" if shutil.which("apt-get") is None else "not root"
        raise DockerError(f"no Docker engine and no way to install it ({why}): install {' '.join(packages)}")
    print(f"docker: installing {' '.join(packages)} (apt-get)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", *packages]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise DockerError(
                f"no Docker engine and no way to install it: `{' '.join(command[:2])}` failed: {last_line(done.stderr)}"
            )


def engine_answers(timeout: float = 20.0) -> bool:
    """Whether a Docker engine answers the CLI (``docker info``)."""
    if shutil.which("docker") is None:
        return False
    try:
        return run(["docker", "info", "--format", "{{.ServerVersion}}"], timeout, check=False).returncode == 0
    except DockerError:
        return False


def start_engine(state: Path = ENGINE_STATE, timeout: float = 90.0, extra_args: tuple[str, ...] = ()) -> int | None:
    """Start ``dockerd`` in the background unless an engine answers; its pid (None: one was already running).

    Raises:
        DockerError: ``dockerd`` is not installed, exited, or did not answer within ``timeout`` seconds
            (the message ends with the last line of its log).
    """
    if engine_answers():
        return None
    if shutil.which("dockerd") is None:
        raise DockerError("no Docker engine answers and dockerd is not installed (apt-get install docker.io)")
    state.parent.mkdir(parents=True, exist_ok=True)
    log = state.with_suffix(".log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["dockerd", "--storage-driver=overlay2", *extra_args],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    state.write_text(json.dumps({"pid": process.pid, "log": str(log)}) + "\n")
    deadline = time.monotonic() + timeout
    while not engine_answers(timeout=5):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_engine(state)
            code = process.returncode
            why = f"exited ({code})" if code is not None else f"no answer in {timeout:.0f} s"
            raise DockerError(f"dockerd did not start, {why}; the last line of {log}: {tail(log, 1).strip()}")
        time.sleep(0.5)
    print(f"docker: dockerd started (pid {process.pid}, log {log})", flush=True)
    return process.pid


def stop_engine(state: Path = ENGINE_STATE, timeout: float = 60.0) -> int | None:
    """Stop the ``dockerd`` that :func:`start_engine` started (its pid in ``state``); None if it started none."""
    if not state.is_file():
        return None
    pid = int(json.loads(state.read_text())["pid"])
    if alive(pid) and "dockerd" in cmdline(pid):  # the pid may have been reused since
        os.kill(pid, signal.SIGTERM)  # dockerd stops its containers and its containerd, then exits
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, 0)  # reap it when it is our child (in this process)
    except ChildProcessError:
        pass
    state.unlink()
    print(f"docker: dockerd (pid {pid}) stopped", flush=True)
    return pid
