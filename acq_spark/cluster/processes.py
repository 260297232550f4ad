"""Process plumbing for the local cluster: free ports, log tails, liveness, killing whole sessions, hard links.

Every JVM the cluster starts leads its own session (``start_new_session``); the executors and
Python workers it launches stay in that session even when they make their own process group
(pyspark's ``daemon.py`` does), so "kill the session" ends all of them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
from pathlib import Path


def free_ports(n: int) -> list[int]:
    """``n`` distinct ports that are free on 127.0.0.1 right now (all bound at once, then released)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def tail(path: str | Path, lines: int = 25) -> str:
    """The last ``lines`` lines of a text file (a placeholder when it cannot be read)."""
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} not readable)"


def _proc_stat(pid: int | str) -> list[str]:
    """Fields of ``/proc/<pid>/stat`` after the command name: state, ppid, pgrp, session, ..."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def session_members(sid: int) -> list[int]:
    """The pids of every process in session ``sid`` (empty where there is no ``/proc``)."""
    members = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if int(_proc_stat(entry.name)[3]) == sid:
                members.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return members


def cmdline(pid: int) -> str:
    """The command line of ``pid`` ("" when it is gone or unreadable)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def kill_session(sid: int, sig: int = signal.SIGKILL, require: str | None = None) -> None:
    """Send ``sig`` to the process group ``sid`` and to every other member of session ``sid``.

    Args:
        sid: the session (= pid of its leader).
        sig: the signal.
        require: only signal processes whose command line contains this text: a guard, for pids read
            back from a state file, against signalling an unrelated process that reused a pid.
    """

    def ours(pid: int) -> bool:
        return require is None or require in cmdline(pid)

    targets = [(pid, os.kill) for pid in session_members(sid) if pid != sid and ours(pid)]
    if ours(sid) or not Path("/proc").is_dir():
        targets.insert(0, (sid, os.killpg))
    for pid, kill in targets:
        try:
            kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie counts as gone)."""
    try:
        return _proc_stat(pid)[0] != "Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True


def link_or_copy(src: str | Path, dst: str | Path) -> str | Path:
    """A hard link ``dst`` to ``src``, or a copy where the two are on other file systems; returns ``dst``."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst
