"""The exact LP relaxation of the MCKP with HiGHS (SciPy), for one synthetic problem; prints JSON.

    python benchmarks/highs_lp.py N [SEED]

Variables x_ik ∈ [0, 1] (n·K); rows: Σ_k x_ik = 1 per pair, Σ_ik c_k x_ik ≤ C. The dual value of
the budget row (−marginal, SciPy minimises −Σ r x) is λ; the optimum is the LP upper bound.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth import LEVELS, budget_for, make_r


def solve_lp(r: np.ndarray, levels: tuple[int, ...], budget: int) -> dict[str, float]:
    """HiGHS on the LP relaxation; returns objective, λ (budget dual), seconds, status."""
    n, k = r.shape
    c = np.asarray(levels, dtype=np.float64)
    rows = np.repeat(np.arange(n), k)
    a_eq = sp.csr_matrix((np.ones(n * k), (rows, np.arange(n * k))), shape=(n, n * k))
    a_ub = sp.csr_matrix(np.tile(c, n)[None, :])
    start = time.perf_counter()
    res = linprog(
        -r.ravel(), A_ub=a_ub, b_ub=[float(budget)], A_eq=a_eq, b_eq=np.ones(n),
        bounds=(0.0, 1.0), method="highs",
    )
    seconds = time.perf_counter() - start
    return {
        "status": int(res.status),
        "message": str(res.message),
        "objective": float(-res.fun) if res.x is not None else float("nan"),
        "lam": float(-res.ineqlin.marginals[0]) if res.x is not None else float("nan"),
        "seconds": seconds,
    }


def main() -> None:
    n = int(sys.argv[1])
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    out = solve_lp(make_r(n, seed=seed), LEVELS, budget_for(n))
    out["n"] = n
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
