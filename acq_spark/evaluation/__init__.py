"""Offline evaluations against the simulated world's truth (the paper's Table 4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from acq_spark import lazy_face

if TYPE_CHECKING:  # the names lazy_face gives, for the type checker
    from acq_spark.evaluation.table4 import Table4 as Table4
    from acq_spark.evaluation.table4 import run_table4 as run_table4

_LAZY = {"Table4": "table4", "run_table4": "table4"}
__all__ = [*_LAZY]
__getattr__ = lazy_face(__name__, _LAZY)
