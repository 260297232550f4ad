"""Distributed inference: every scoring row × every level → pvalue, explore and r (spec §6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from acq_spark import lazy_face

if TYPE_CHECKING:  # the names lazy_face gives, for the type checker
    from acq_spark.scoring.job import ScoredDay as ScoredDay
    from acq_spark.scoring.job import run_scoring as run_scoring

_LAZY = {"ScoredDay": "job", "run_scoring": "job"}
__all__ = [*_LAZY]
__getattr__ = lazy_face(__name__, _LAZY)
