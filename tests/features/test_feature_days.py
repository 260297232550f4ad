"""The calendar of a feature run: decision day, last input day, label days."""

from __future__ import annotations

import pytest
from feature_sample import day

from acq_spark.errors import InputRowsError
from acq_spark.features.days import FeatureDays, plan_days, require_label_days


def test_label_days_are_the_last_days_with_an_earlier_day():
    assert plan_days([day(2), day(0), day(1), day(5)], train_days=14) == FeatureDays(
        decision_day=day(6), last_input_day=day(5), label_days=(day(1), day(2), day(5))
    )
    assert plan_days([day(0), day(1), day(2), day(3)], train_days=2).label_days == (day(2), day(3))


def test_run_date_ignores_later_input_days():
    days = plan_days([day(0), day(1), day(2), day(3)], train_days=14, run_date=day(2))
    assert days == FeatureDays(decision_day=day(2), last_input_day=day(1), label_days=(day(1),))


def test_no_day_before_the_decision_day_is_an_error():
    with pytest.raises(InputRowsError, match="no input day before"):
        plan_days([day(3)], train_days=14, run_date=day(3))
    with pytest.raises(InputRowsError, match="no rows"):
        plan_days([], train_days=14)


def test_too_few_input_days_to_train_on_is_an_error_saying_how_many():
    require_label_days(plan_days([day(0), day(1), day(2)], train_days=14))
    with pytest.raises(InputRowsError, match=r"1 input day\(s\) before the decision day .*at least 3: one day of hist"):
        require_label_days(plan_days([day(4)], train_days=14))
    with pytest.raises(InputRowsError, match=r"2 input day\(s\) .*then 2 label days"):
        require_label_days(plan_days([day(0), day(1)], train_days=14))
