"""Allocation: the multiple-choice knapsack over creative levels (spec §7), in the layers of DuaLip.

1. ``kernels/``: per-block NumPy kernels (hull steps, the Lagrangian's sums, slope histograms, ties,
   the final levels; the rule-based baseline's steps) and the small results they return.
2. ``passes`` (in memory) and ``spark_passes`` (Arrow batches per partition): one pass = a kernel per
   block and ``+`` of the results, written once for both back-ends.
3. ``search`` (λ*), ``fill`` (the tie-break) and ``solver`` (a solve and its record), on the driver,
   over the passes' small results only.

The job wires tables: ``job`` (the stage), ``tables`` (what it reads and writes), ``guard`` (the
publish guard), ``estimate`` (λ from a sample).
"""

from __future__ import annotations

from acq_spark.allocation.solver import SolveRecord, solve, solve_numpy

__all__ = ["SolveRecord", "solve", "solve_numpy"]
