"""Run a command; report its wall time and the peak memory of its whole process tree.

The peak is the largest sum of resident memory over the command and all its descendants (the
Python driver, the Spark JVM it launches, Python workers), sampled every 0.2 s from /proc.

    python benchmarks/measure.py NAME -- CMD [ARGS...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def tree_pids(root: int) -> list[int]:
    """``root`` and every process descended from it."""
    tree, todo, out = _children(), [root], []
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(tree.get(pid, []))
    return out


def tree_rss(root: int) -> int:
    """Bytes resident in ``root`` and its descendants."""
    total = 0
    for pid in tree_pids(root):
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except OSError:
            pass
    return total


def measure(cmd: list[str], log: Path | None = None) -> tuple[int, float, int]:
    """Run ``cmd`` (stdout and stderr to ``log`` if given); return (exit status, wall s, peak tree RSS bytes)."""
    start = time.perf_counter()
    out = log.open("w") if log else None
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT if out else None)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.2)
    if out:
        out.close()
    return proc.returncode, time.perf_counter() - start, peak


def main() -> int:
    name, sep, *cmd = sys.argv[1:]
    if sep != "--" or not cmd:
        raise SystemExit(__doc__)
    status, wall, peak = measure(cmd)
    print(f"{name}: wall {wall:.1f} s, peak memory (process tree RSS) {peak / 2**30:.2f} GiB, exit {status}")
    return status


if __name__ == "__main__":
    sys.exit(main())
