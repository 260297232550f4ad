"""The holdout experiment: accounts split into arms, the budget split between them, the uplift measured from the logs.

``assignment`` (which arm an account is in, how the budget splits), ``uplift`` (NumPy: the arms' ratios and
the relative uplift with its confidence interval over accounts), ``measure`` (the nightly's stage: every
earlier decision day it has logs for, into ``experiment_results``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from acq_spark import lazy_face
from acq_spark.experiment.assignment import ARMS, CONTROL, TREATMENT, ArmBudgets, arm_column, arm_of, split_budget
from acq_spark.experiment.uplift import ArmTotals, Uplift, relative_uplift

if TYPE_CHECKING:  # the names lazy_face gives, for the type checker
    from acq_spark.experiment.measure import (
        DayMeasurement as DayMeasurement,
    )
    from acq_spark.experiment.measure import (
        run_experiment_measure as run_experiment_measure,
    )

_LAZY = {"DayMeasurement": "measure", "run_experiment_measure": "measure"}
__all__ = [
    "ARMS",
    "CONTROL",
    "TREATMENT",
    "ArmBudgets",
    "ArmTotals",
    "Uplift",
    "arm_column",
    "arm_of",
    "relative_uplift",
    "split_budget",
    *_LAZY,
]
__getattr__ = lazy_face(__name__, _LAZY)
