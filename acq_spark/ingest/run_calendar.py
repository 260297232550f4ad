"""The run calendar: the facts about the days of one run, computed once from the validated input.

The decision day, the last input day, the label days and the creatives of the last input day (the
valid rows' n_creatives mapped to the levels, spec §2). Validation builds it (:func:`input_calendar`,
one small Spark job) and every stage takes it as an argument; the feature spec records it for the
stages that run on their own (:meth:`RunCalendar.from_spec`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from acq_spark.errors import InputRowsError
from acq_spark.ingest.levels import has_level, level_creatives

MIN_LABEL_DAYS = 2  # training needs a training day and a validation day (training.data.split_days)


class DayTotals(NamedTuple):
    """One input day: its rows, its level-mapped creatives and its rows with a level (training examples)."""

    rows: int
    creatives: int
    labelled: int | None = None


@dataclass(frozen=True)
class RunCalendar:
    """The calendar of one run.

    Attributes:
        decision_day: the day scoring rows are for (``run_date``, else the day after the last input day).
        last_input_day: the latest input day before the decision day.
        label_days: training label days: the last ``train_days`` input days before the decision day
            that have at least one earlier input day, ascending.
        last_day_creatives: Σ n_creatives of the valid rows of ``last_input_day``, each mapped to the
            largest level ≤ n (0 below the smallest), as the features see them; None when not counted.
        per_day: the rows and level-mapped creatives of every input day the facts came from (empty
            when not counted); detail, left out of equality.
    """

    decision_day: dt.date
    last_input_day: dt.date
    label_days: tuple[dt.date, ...]
    last_day_creatives: int | None = None
    per_day: Mapping[dt.date, DayTotals] = field(default_factory=dict, compare=False, repr=False)

    @property
    def examples_per_day(self) -> dict[dt.date, int]:
        """The training examples (input rows with a level) of each label day; empty when not counted."""
        counted = {d: self.per_day[d].labelled for d in self.label_days if d in self.per_day}
        return {d: int(n) for d, n in counted.items() if n is not None} if len(counted) == len(self.label_days) else {}

    @property
    def input_rows(self) -> int:
        """The valid rows of the input days before the decision day (0 when not counted)."""
        return sum(t.rows for day, t in self.per_day.items() if day < self.decision_day)

    def to_dict(self) -> dict[str, Any]:
        """The calendar as JSON values (the feature spec and the run record hold it)."""
        return {
            "decision_day": self.decision_day.isoformat(),
            "last_input_day": self.last_input_day.isoformat(),
            "label_days": [d.isoformat() for d in self.label_days],
            "last_day_creatives": self.last_day_creatives,
            "per_day": {d.isoformat(): list(t) for d, t in sorted(self.per_day.items())},
        }

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> RunCalendar:
        """The calendar a feature spec (``artifacts/feature_spec.json``, the features stage's result) records."""
        last = spec.get("last_day_creatives")
        return cls(
            decision_day=dt.date.fromisoformat(spec["decision_day"]),
            last_input_day=dt.date.fromisoformat(spec["last_input_day"]),
            label_days=tuple(dt.date.fromisoformat(d) for d in spec["label_days"]),
            last_day_creatives=None if last is None else int(last),
            per_day={dt.date.fromisoformat(d): DayTotals(*t) for d, t in spec.get("per_day", {}).items()},
        )


def plan_calendar(
    input_days: Iterable[dt.date] | Mapping[dt.date, DayTotals],
    train_days: int,
    run_date: dt.date | None = None,
) -> RunCalendar:
    """Work out the :class:`RunCalendar` from the days present in the input.

    Args:
        input_days: the distinct ``dt`` values of the input (any order), or their :class:`DayTotals`
            (which give ``last_day_creatives`` and ``per_day``).
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
    per_day = dict(input_days) if isinstance(input_days, Mapping) else {}
    last = per_day.get(before[-1], DayTotals(0, 0)).creatives if per_day else None
    return RunCalendar(decision_day, before[-1], labels, last, per_day)


def require_label_days(calendar: RunCalendar, needed: int = MIN_LABEL_DAYS) -> None:
    """Stop a run whose input is too short to train on, before it writes anything.

    Raises:
        InputRowsError: fewer than ``needed`` label days; says how many input days the run needs.
    """
    if len(calendar.label_days) < needed:
        have = len(calendar.label_days) + 1  # every input day before the decision day but the first is a label day
        raise InputRowsError(
            f"creative_daily: {have} input day(s) before the decision day {calendar.decision_day} (the last "
            f"{calendar.last_input_day}); training needs at least {needed + 1}: one day of history, then {needed} "
            f"label days (training and validation); nothing was written"
        )


def day_totals_columns(levels: Sequence[int], kept: Column | None = None) -> list[Column]:
    """The aggregates of a day's :class:`DayTotals` over its rows where ``kept`` (every row when None).

    ``rows``, ``creatives`` (level-mapped) and ``labelled`` (rows with a level): the one definition the
    calendar and validation's per-day figures share.
    """
    n = F.col("n_creatives")
    kept = F.lit(True) if kept is None else kept
    return [
        F.count(F.when(kept, 1)).alias("rows"),
        F.sum(F.when(kept, level_creatives(n, levels))).alias("creatives"),
        F.count(F.when(kept & has_level(n, levels), 1)).alias("labelled"),
    ]


def input_totals(df: DataFrame, levels: Sequence[int]) -> dict[dt.date, DayTotals]:
    """Rows, level-mapped creatives and rows with a level per input day of ``df`` (one small row per day)."""
    totals = df.groupBy("dt").agg(*day_totals_columns(levels))
    return {r["dt"]: DayTotals(int(r["rows"]), int(r["creatives"] or 0), int(r["labelled"])) for r in totals.collect()}


def input_calendar(df: DataFrame, levels: Sequence[int], train_days: int, run_date: dt.date | None) -> RunCalendar:
    """The run calendar of the validated rows ``df`` (one small Spark job)."""
    return plan_calendar(input_totals(df, levels), train_days, run_date)
