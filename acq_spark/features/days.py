"""Which days a feature run covers: the decision day, the last input day and the label days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from acq_spark.errors import InputRowsError


@dataclass(frozen=True)
class FeatureDays:
    """The calendar of one feature run.

    Attributes:
        decision_day: the day scoring rows are for (``run_date``, else the day after the last input day).
        last_input_day: the latest input day before the decision day.
        label_days: training label days: the last ``train_days`` input days before the decision day
            that have at least one earlier input day, ascending.
    """

    decision_day: dt.date
    last_input_day: dt.date
    label_days: tuple[dt.date, ...]


def plan_days(input_days: Iterable[dt.date], train_days: int, run_date: dt.date | None = None) -> FeatureDays:
    """Work out the :class:`FeatureDays` from the days present in the input.

    Args:
        input_days: the distinct ``dt`` values of the input (any order).
        train_days: how many label days to keep at most.
        run_date: the configured decision day, or None for the day after the last input day.

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
    return FeatureDays(decision_day=decision_day, last_input_day=before[-1], label_days=labels)
