"""Allocation: the multiple-choice knapsack over creative levels (spec §7).

Layers, after DuaLip: per-block evaluation of the Lagrangian and hull-step statistics (NumPy:
``hull``, ``dual``, ``histogram``, ``fill``), passes over all pairs (``evaluator`` in memory,
``spark_eval`` with Arrow batches), the driver-side search for λ* (``search``), and the thin
drivers (``solver``, ``rule_based``, ``estimate``, ``job``).
"""

from __future__ import annotations

from acq_spark.allocation.solver import SolveRecord, solve, solve_numpy

__all__ = ["SolveRecord", "solve", "solve_numpy"]
