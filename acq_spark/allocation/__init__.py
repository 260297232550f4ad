"""Allocation: the multiple-choice knapsack over creative levels (spec §7), in the layers of DuaLip.

``kernels/`` (per-block NumPy); ``passes`` / ``spark_passes`` (one pass executor, two back-ends);
``search``, ``fill``, ``solver`` (the driver); ``job``, ``tables``, ``guard``, ``estimate`` (the stage);
``record`` (what the stage hands on).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from acq_spark import lazy_face
from acq_spark.allocation.record import AllocationRecord
from acq_spark.allocation.solver import SolveRecord, solve, solve_numpy

if TYPE_CHECKING:  # the names lazy_face gives, for the type checker
    from acq_spark.allocation.job import run_allocate as run_allocate

_LAZY = {"run_allocate": "job"}
__all__ = ["AllocationRecord", "SolveRecord", "solve", "solve_numpy", *_LAZY]
__getattr__ = lazy_face(__name__, _LAZY)
