"""The run calendar: decision day, last input day, label days, creatives per day."""

from __future__ import annotations

import datetime as dt

import pytest

from acq_spark.errors import InputRowsError
from acq_spark.ingest.run_calendar import DayTotals, RunCalendar, plan_calendar, require_label_days


def day(i: int) -> dt.date:
    return dt.date(2026, 1, 1) + dt.timedelta(days=i)


def test_label_days_are_the_last_days_with_an_earlier_day():
    assert plan_calendar([day(2), day(0), day(1), day(5)], train_days=14) == RunCalendar(
        decision_day=day(6), last_input_day=day(5), label_days=(day(1), day(2), day(5))
    )
    assert plan_calendar([day(0), day(1), day(2), day(3)], train_days=2).label_days == (day(2), day(3))


def test_run_date_ignores_later_input_days():
    days = plan_calendar([day(0), day(1), day(2), day(3)], train_days=14, run_date=day(2))
    assert days == RunCalendar(decision_day=day(2), last_input_day=day(1), label_days=(day(1),))


def test_no_day_before_the_decision_day_is_an_error():
    with pytest.raises(InputRowsError, match="no input day before"):
        plan_calendar([day(3)], train_days=14, run_date=day(3))
    with pytest.raises(InputRowsError, match="no rows"):
        plan_calendar([], train_days=14)


def test_too_few_input_days_to_train_on_is_an_error_saying_how_many():
    require_label_days(plan_calendar([day(0), day(1), day(2)], train_days=14))
    with pytest.raises(InputRowsError, match=r"1 input day\(s\) before the decision day .*at least 3: one day of hist"):
        require_label_days(plan_calendar([day(4)], train_days=14))
    with pytest.raises(InputRowsError, match=r"2 input day\(s\) .*then 2 label days"):
        require_label_days(plan_calendar([day(0), day(1)], train_days=14))


def test_day_totals_give_the_last_days_creatives_and_the_rows_before_the_decision_day():
    totals = {day(0): DayTotals(rows=4, creatives=10), day(1): DayTotals(rows=3, creatives=7), day(2): DayTotals(2, 5)}
    calendar = plan_calendar(totals, train_days=14, run_date=day(2))
    assert (calendar.last_input_day, calendar.last_day_creatives, calendar.input_rows) == (day(1), 7, 7)
    assert RunCalendar.from_spec(calendar.to_dict()).per_day == totals
