"""Synthetic scores for the allocation benchmarks: concave-ish non-decreasing curves over the levels.

r_ik = a_i · (1 − exp(−c_k / s_i)) + small noise (so some pairs are not concave), sorted
non-decreasing per pair. The budget binds: a share of Σ_i c_K (every pair at its top level).
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

LEVELS: tuple[int, ...] = (1, 2, 3, 5, 8, 13, 20, 50, 100)
BUDGET_SHARE = 0.4
DATA_DIR = Path(os.environ.get("ACQ_BENCH_DIR", "/tmp/acq_bench"))


def make_r(n: int, levels: Sequence[int] = LEVELS, seed: int = 0) -> np.ndarray:
    """(n, K) float64 values: a·(1 − exp(−c/s)) with log-normal a, s, plus 1% noise, sorted per row."""
    rng = np.random.default_rng(seed)
    c = np.asarray(levels, dtype=np.float64)
    out = np.empty((n, c.size))
    step = 1_000_000
    for i in range(0, n, step):
        m = min(step, n - i)
        a = rng.lognormal(0.0, 1.0, m)
        s = rng.lognormal(np.log(10.0), 1.0, m)
        block = a[:, None] * -np.expm1(-c[None, :] / s[:, None])
        block += 0.01 * a[:, None] * rng.standard_normal((m, c.size))
        block.sort(axis=1)
        out[i : i + m] = block
    return out


def budget_for(n: int, levels: Sequence[int] = LEVELS, share: float = BUDGET_SHARE) -> int:
    """The binding budget: ``share`` of every pair at its most expensive level."""
    return int(share * n * levels[-1])


def write_parquet(r: np.ndarray, path: Path, rows_per_file: int = 1_000_000) -> Path:
    """The scores table (account_id, photo_id, r list<double>) as Parquet files under ``path``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from acq_spark.scoring.worker import list_column

    path.mkdir(parents=True, exist_ok=True)
    n = r.shape[0]
    for j, i in enumerate(range(0, n, rows_per_file)):
        block = r[i : i + rows_per_file]
        ids = np.arange(i, i + block.shape[0], dtype=np.int64)
        table = pa.table({"account_id": ids // 8, "photo_id": ids, "r": list_column(block)})
        pq.write_table(table, path / f"part-{j:05d}.parquet", row_group_size=128 * 1024)
    (path / "_SUCCESS").touch()
    return path


def scores_dataset(n: int, seed: int = 0) -> tuple[np.ndarray, Path]:
    """The r matrix of ``n`` pairs and its Parquet copy (written once, reused across runs)."""
    r = make_r(n, seed=seed)
    path = DATA_DIR / f"scores_{n}_{seed}"
    if not (path / "_SUCCESS").exists():
        write_parquet(r, path)
    return r, path


def machine() -> str:
    """One line: cores, CPU model, RAM, Python."""
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    return f"{os.cpu_count()} cores, {model}, {mem:.0f} GiB RAM, Python {platform.python_version()}"


def load_average() -> str:
    """The 1/5/15-minute load averages, as ``uptime`` shows them."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def stamp() -> str:
    """The date and time now (UTC)."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def git_head() -> str:
    """The short commit hash of the repository."""
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"
