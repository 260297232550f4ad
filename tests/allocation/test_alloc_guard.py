"""The publish guard's checks as pure functions of a day's figures (no Spark)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from acq_spark.allocation.guard import PublishFacts, check_before_solve, check_budget_used, check_run_calendar
from acq_spark.config import PublishConfig
from acq_spark.errors import InfeasibleBudgetError, PublishGuardError
from acq_spark.ingest.run_calendar import DayTotals, plan_calendar

DAY = dt.date(2026, 1, 16)
GUARD = PublishConfig(min_pairs_share_of_previous=0.5, min_budget_used_share=0.5, max_input_age_days=2)
NORMAL = PublishFacts(
    day=DAY, pairs=2_000, last_input_day=DAY - dt.timedelta(days=1), previous_day=DAY - dt.timedelta(days=1),
    previous_pairs=2_100, today=DAY,
)


def test_a_normal_day_passes_every_check():
    check_before_solve(NORMAL, GUARD)
    check_budget_used(DAY, 29_390, 29_398, GUARD)
    first_day = PublishFacts(day=DAY, pairs=5)  # nothing published before, input not read: only "no scores" applies
    check_before_solve(first_day, GUARD)


@pytest.mark.parametrize(
    ("change", "guard", "message"),
    [
        ({"pairs": 0}, GUARD, r"scores hold no pairs for 2026-01-16, so nothing is published"),
        (
            {"pairs": 999},
            GUARD,
            r"999 pairs for 2026-01-16 are 47\.6% of the 2,100 published for 2026-01-15, below "
            r"publish\.min_pairs_share_of_previous=0\.5; .*--set publish\.min_pairs_share_of_previous=0\)",
        ),
        (
            {"last_input_day": DAY - dt.timedelta(days=15)},
            GUARD,
            r"last input day 2026-01-01 is 15 days before the decision day 2026-01-16, more than "
            r"publish\.max_input_age_days=2.*--set publish\.max_input_age_days=null",
        ),
        (
            {"today": DAY + dt.timedelta(days=3)},
            PublishConfig(max_days_before_today=0),
            r"decision day 2026-01-16 is 3 days before today 2026-01-19, more than publish\.max_days_before_today=0",
        ),
    ],
)
def test_a_bad_day_fails_before_solving_naming_figure_threshold_and_override(change, guard, message):
    facts = dataclasses.replace(NORMAL, **change)
    with pytest.raises(PublishGuardError, match=message):
        check_before_solve(facts, guard)


def test_a_budget_used_far_below_the_cap_fails():
    message = r"uses 0 of the 29,398 creatives .*\(0\.0%\), below publish\.min_budget_used_share=0\.5"
    with pytest.raises(PublishGuardError, match=message):
        check_budget_used(DAY, 0, 29_398, GUARD)
    check_budget_used(DAY, 14_699, 29_398, GUARD)  # exactly half is enough


def test_zero_or_null_thresholds_turn_the_checks_off():
    off = PublishConfig(min_pairs_share_of_previous=0.0, min_budget_used_share=0.0, max_input_age_days=None)
    check_before_solve(dataclasses.replace(NORMAL, pairs=1, last_input_day=dt.date(2025, 1, 1)), off)
    check_budget_used(DAY, 0, 29_398, off)
    with pytest.raises(PublishGuardError, match="no pairs"):  # an empty day is never published
        check_before_solve(dataclasses.replace(NORMAL, pairs=0), off)


LEVELS = (1, 2, 3, 5, 8, 13, 20, 50, 100)
INPUT = {DAY - dt.timedelta(days=d): DayTotals(rows=2_000, creatives=29_398) for d in (1, 2, 3)}  # 2,000 pairs a day


@pytest.mark.parametrize(
    ("run_date", "budget", "error", "message"),
    [
        (DAY + dt.timedelta(days=364), 29_398, PublishGuardError, r"last input day 2026-01-15 is 365 days before"),
        (None, 1_999, InfeasibleBudgetError, r"budget of 1,999 creatives is below the minimum 2,000 \(2,000 pairs"),
        (None, 400_001, PublishGuardError, r"2,000 pairs to allocate for 2026-01-16 can take at most 200,000 of the "
         r"400,001 creatives of its budget \(50\.0%\), below publish\.min_budget_used_share=0\.5 \(100 creatives each"),
    ],
)
def test_a_run_the_guard_would_stop_at_publish_fails_on_its_calendar_and_budget_alone(run_date, budget, error, message):
    check_run_calendar(plan_calendar(INPUT, 14), 29_398, LEVELS, GUARD, today=DAY)
    check_run_calendar(plan_calendar(INPUT, 14), 400_000, LEVELS, GUARD, today=DAY)  # exactly half is in reach
    with pytest.raises(error, match=message):
        check_run_calendar(plan_calendar(INPUT, 14, run_date), budget, LEVELS, GUARD, today=DAY)


def test_a_calendar_without_counts_checks_only_its_days():
    uncounted = plan_calendar(list(INPUT), 14)
    check_run_calendar(uncounted, 1, LEVELS, GUARD, today=DAY)  # the scores' pairs decide the budget at publish
    with pytest.raises(PublishGuardError, match=r"decision day 2026-01-16 is 3 days before today"):
        check_run_calendar(uncounted, 1, LEVELS, PublishConfig(max_days_before_today=0), today=DAY + dt.timedelta(3))
