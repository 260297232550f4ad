"""The run calendar: the decision day, the last input day, the label days and the creatives of the last day.

Computed once, from the validated input, where the features plan their days; the allocation takes
its ratio budget from it (:attr:`FeatureDays.last_day_creatives`), so both see the same rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from acq_spark.errors import InputRowsError

MIN_LABEL_DAYS = 2  # training needs a training day and a validation day (training.data.split_days)


@dataclass(frozen=True)
class FeatureDays:
    """The calendar of one feature run.

    Attributes:
        decision_day: the day scoring rows are for (``run_date``, else the day after the last input day).
        last_input_day: the latest input day before the decision day.
        label_days: training label days: the last ``train_days`` input days before the decision day
            that have at least one earlier input day, ascending.
        last_day_creatives: Σ n_creatives of the valid rows of ``last_input_day``, each mapped to the
            largest level ≤ n (0 below the smallest), as the features see them; None when not counted.
    """

    decision_day: dt.date
    last_input_day: dt.date
    label_days: tuple[dt.date, ...]
    last_day_creatives: int | None = None

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> FeatureDays:
        """The calendar a feature spec (``artifacts/feature_spec.json``, the features stage's result) records."""
        last = spec.get("last_day_creatives")
        return cls(
            decision_day=dt.date.fromisoformat(spec["decision_day"]),
            last_input_day=dt.date.fromisoformat(spec["last_input_day"]),
            label_days=tuple(dt.date.fromisoformat(d) for d in spec["label_days"]),
            last_day_creatives=None if last is None else int(last),
        )


class DayTotals(NamedTuple):
    """One input day: its rows and its level-mapped creatives."""

    rows: int
    creatives: int


def plan_days(
    input_days: Iterable[dt.date],
    train_days: int,
    run_date: dt.date | None = None,
    creatives: Mapping[dt.date, int] | None = None,
) -> FeatureDays:
    """Work out the :class:`FeatureDays` from the days present in the input.

    Args:
        input_days: the distinct ``dt`` values of the input (any order).
        train_days: how many label days to keep at most.
        run_date: the configured decision day, or None for the day after the last input day.
        creatives: level-mapped creatives per input day (:class:`DayTotals`), for ``last_day_creatives``.

    Raises:
        InputRowsError: no input day lies before the decision day.
    """
    days = sorted(set(input_days))
    if not days:
        raise InputRowsError("creative_daily: the input has no rows")
    decision_day = run_date or days[-1] + dt.timedelta(days=1)
    before = [d for d in days if d < decision_day]
    if not before:
        raise InputRowsError(f"creative_daily: no input day before the decision day {decision_day} (first: {days[0]})")
    labels = tuple(before[1:][-train_days:]) if train_days > 0 else ()
    last = None if creatives is None else int(creatives.get(before[-1], 0))
    return FeatureDays(decision_day=decision_day, last_input_day=before[-1], label_days=labels, last_day_creatives=last)


def require_label_days(days: FeatureDays, needed: int = MIN_LABEL_DAYS) -> None:
    """Stop a run whose input is too short to train on, before it writes anything.

    Raises:
        InputRowsError: fewer than ``needed`` label days; says how many input days the run needs.
    """
    if len(days.label_days) < needed:
        have = len(days.label_days) + 1  # every input day before the decision day but the first is a label day
        raise InputRowsError(
            f"creative_daily: {have} input day(s) before the decision day {days.decision_day} (the last "
            f"{days.last_input_day}); training needs at least {needed + 1}: one day of history, then {needed} label "
            f"days (training and validation); nothing was written"
        )
