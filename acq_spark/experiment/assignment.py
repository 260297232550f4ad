"""Which arm an account is in, and how the budget splits between the arms (a budget-split design).

The arm is a salted hash of ``account_id`` alone, so an account stays in its arm night after night
whatever pairs it has, however the rows are partitioned. Each arm gets a share of the budget in
proportion to its creatives on the last input day and spends only that share (Liu et al., "Trustworthy
Online Marketplace Experimentation with Budget-split Design", 2021): one arm cannot take creatives from
the other, so the arms' outcomes do not interfere through the budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column
from pyspark.sql import functions as F

from acq_spark.config import ExperimentConfig
from acq_spark.errors import InputRowsError
from acq_spark.simulate.randomness import uniform

TREATMENT = "treatment"
CONTROL = "control"
ARMS = (TREATMENT, CONTROL)


def arm_of(account_id: Column, holdout_share: float, salt: str) -> Column:
    """``control`` for a ``holdout_share`` of the accounts (a hash of ``salt`` and the account), else ``treatment``."""
    return F.when(uniform(0, salt, account_id) < F.lit(holdout_share), F.lit(CONTROL)).otherwise(F.lit(TREATMENT))


def arm_column(experiment: ExperimentConfig) -> Column:
    """The arm of each row's ``account_id`` under the configured holdout (:func:`arm_of`)."""
    return arm_of(F.col("account_id"), experiment.holdout_share, experiment.salt)


@dataclass(frozen=True)
class ArmBudgets:
    """Each arm's creatives on the last input day and its share of the budget (they sum to the budget)."""

    creatives: Mapping[str, int]
    budgets: Mapping[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"creatives": dict(self.creatives), "budgets": dict(self.budgets)}


def split_budget(budget: int, creatives: Mapping[str, int]) -> ArmBudgets:
    """Split ``budget`` between the arms in proportion to ``creatives`` (each arm's, on the last input day).

    Raises:
        InputRowsError: an arm ran no creatives on the last input day, so it has no share to spend.
    """
    empty = [arm for arm in ARMS if creatives.get(arm, 0) <= 0]
    if empty:
        raise InputRowsError(
            f"experiment: the {' and '.join(empty)} arm ran no creatives on the last input day, so the budget "
            f"cannot be split in proportion ({dict(creatives)}); change experiment.holdout_share or experiment.salt"
        )
    total = sum(creatives[arm] for arm in ARMS)
    control = round(budget * creatives[CONTROL] / total)
    return ArmBudgets({arm: int(creatives[arm]) for arm in ARMS}, {TREATMENT: budget - control, CONTROL: control})
