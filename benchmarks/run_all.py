"""Every benchmark of BENCHMARKS.md in turn (``make bench``); each prints its Markdown section.

Each runs in its own process (its own Spark application and memory settings). Long: HiGHS alone
takes tens of minutes at 200k–500k pairs (its results are cached under ``$ACQ_BENCH_DIR``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("bench_allocation.py", "bench_table3.py", "bench_scoring.py", "bench_nightly.py")


def main() -> int:
    failed = []
    for script in SCRIPTS:
        print(f"\n<!-- {script} -->", flush=True)
        if subprocess.run([sys.executable, str(HERE / script), *sys.argv[1:]]).returncode:
            failed.append(script)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
