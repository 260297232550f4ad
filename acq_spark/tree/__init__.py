"""The equal-frequency cost-bin tree (spec §3): the tree itself and the Spark job that builds it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from acq_spark import lazy_face

if TYPE_CHECKING:  # the names lazy_face gives, for the type checker
    from acq_spark.tree.cost_tree import CostTree as CostTree
    from acq_spark.tree.job import load_latest_tree as load_latest_tree
    from acq_spark.tree.job import run_build_tree as run_build_tree

_LAZY = {"CostTree": "cost_tree", "load_latest_tree": "job", "run_build_tree": "job"}
__all__ = [*_LAZY]
__getattr__ = lazy_face(__name__, _LAZY)
