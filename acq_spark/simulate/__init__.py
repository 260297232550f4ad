"""The simulated world of spec §8: ``creative_daily`` logs and the truth for the decision day."""

from __future__ import annotations

from typing import TYPE_CHECKING

from acq_spark import lazy_face
from acq_spark.simulate.world import WorldParams, simulate_daily, simulate_day, simulate_pairs, simulate_truth

if TYPE_CHECKING:  # the names lazy_face gives, for the type checker
    from acq_spark.simulate.job import run_simulation as run_simulation

_LAZY = {"run_simulation": "job"}
__all__ = ["WorldParams", "simulate_daily", "simulate_day", "simulate_pairs", "simulate_truth", *_LAZY]
__getattr__ = lazy_face(__name__, _LAZY)
