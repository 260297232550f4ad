"""Allocation: the multiple-choice knapsack over creative levels (spec §7), in the layers of DuaLip.

``kernels/`` (per-block NumPy); ``passes`` / ``spark_passes`` (one pass executor, two back-ends);
``search``, ``fill``, ``solver`` (the driver); ``job``, ``tables``, ``guard``, ``estimate`` (the stage);
``record`` (what the stage hands on).
"""

from __future__ import annotations

from acq_spark.allocation.record import AllocationRecord
from acq_spark.allocation.solver import SolveRecord, solve, solve_numpy

__all__ = ["AllocationRecord", "SolveRecord", "solve", "solve_numpy"]
