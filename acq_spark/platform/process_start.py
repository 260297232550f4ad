"""What tells a process's start from any other on its host, and whether a lock claim's process has ended.

Where ``/proc`` says (Linux): the boot id (pids start over at each boot), the pid namespace (a container's
pids are its own) and the process's start in clock ticks since boot (a pid is reused by a later process).
:mod:`acq_spark.platform.lock` writes these into its claim, so that a run on the claim's host knows at once that a
crashed run's process is gone.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
_MACHINE_ID = Path("/etc/machine-id")


def _start_of(pid: int) -> int | None:
    """The start of process ``pid`` in clock ticks since boot (``/proc/<pid>/stat`` field 22); None once it ended.

    Raises:
        OSError, ValueError, IndexError: ``/proc`` does not say (another system, or the pid hidden from us).
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # another user's process: it exists
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name (field 2) may hold spaces and parentheses
    return None if fields[0] == "Z" else int(fields[19])  # a zombie has ended; only its parent has not reaped it


def this_process() -> dict[str, Any]:
    """What tells this process's start from any other process, where ``/proc`` says; empty elsewhere."""
    try:
        identity = {
            "boot_id": _BOOT_ID.read_text().strip(),
            "pid_namespace": os.readlink("/proc/self/ns/pid"),
            "process_start": _start_of(os.getpid()),
        }
    except (OSError, ValueError, IndexError):
        return {}
    try:
        identity["machine_id"] = _MACHINE_ID.read_text().strip() or None
    except OSError:
        identity["machine_id"] = None
    return identity


def ended(claim: dict[str, Any] | None) -> str | None:
    """Why the claim's process is known to have ended, or None when it may still run.

    Known only for a claim of this host written with its process's start. A host name can be shared (two
    machines called ``localhost``, containers on one kernel), so a pid is looked up only in this boot and pid
    namespace, and an earlier boot counts as ended only on the same machine (its machine id).
    """
    if claim is None or claim.get("host") != socket.gethostname() or claim.get("process_start") is None:
        return None
    here = this_process()
    if not here:
        return None
    if claim.get("boot_id") != here["boot_id"]:
        same_machine = here["machine_id"] is not None and claim.get("machine_id") == here["machine_id"]
        return "this host has restarted since it started" if same_machine else None
    pid = claim.get("pid")
    if claim.get("pid_namespace") != here["pid_namespace"] or not isinstance(pid, int) or pid <= 0:
        return None
    try:
        start = _start_of(pid)
    except (OSError, ValueError, IndexError):
        return None
    if start is None:
        return f"pid {pid} has ended"
    if start != claim["process_start"]:
        return f"pid {pid} now belongs to another process"
    return None
