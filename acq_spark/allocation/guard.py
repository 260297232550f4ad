"""The publish guard: checks a day's figures before ``allocation`` / ``account_rules`` are written.

An empty or stale allocation must never replace a good one. Each check stops the job with
:class:`PublishGuardError`, naming the figure, its ``publish.*`` threshold and how to override it.
The checks that need only the run calendar and the configuration (:func:`check_run_calendar`) are also
made as soon as validation has the calendar, so a run they doom stops before it builds anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from acq_spark.allocation.search import check_feasible
from acq_spark.config import PublishConfig
from acq_spark.errors import PublishGuardError
from acq_spark.ingest.run_calendar import RunCalendar

NOTHING = "nothing is published"


@dataclass(frozen=True)
class PublishFacts:
    """What the guard looks at before solving.

    Attributes:
        day: the decision day.
        pairs: pairs with scores for ``day``.
        last_input_day: the latest input day before ``day`` (None: the input was not read).
        previous_day: the latest day before ``day`` with a published allocation (None: there is none).
        previous_pairs: pairs of that allocation.
        today: the driver's date (UTC), for ``publish.max_days_before_today``.
    """

    day: dt.date
    pairs: int
    last_input_day: dt.date | None = None
    previous_day: dt.date | None = None
    previous_pairs: int | None = None
    today: dt.date | None = None


def _override(key: str, value: object) -> str:
    return f"{NOTHING} (to publish anyway: --set publish.{key}={value})"


def utc_today() -> dt.date:
    """Today on the driver, UTC: what ``publish.max_days_before_today`` counts from."""
    return dt.datetime.now(dt.UTC).date()


def check_days(day: dt.date, last_input_day: dt.date | None, today: dt.date | None, guard: PublishConfig) -> None:
    """Check the decision day against the last input day (the input's age) and against today.

    Raises:
        PublishGuardError: the input is older than ``publish.max_input_age_days``, or the day is further
            behind today than ``publish.max_days_before_today``.
    """
    if guard.max_input_age_days is not None and last_input_day is not None:
        age = (day - last_input_day).days
        if age > guard.max_input_age_days:
            raise PublishGuardError(
                f"publish guard: the last input day {last_input_day} is {age} days before the decision day "
                f"{day}, more than publish.max_input_age_days={guard.max_input_age_days}: the features would be "
                f"stale; {_override('max_input_age_days', 'null')}"
            )
    if guard.max_days_before_today is not None and today is not None:
        behind = (today - day).days
        if behind > guard.max_days_before_today:
            raise PublishGuardError(
                f"publish guard: the decision day {day} is {behind} days before today {today}, more than "
                f"publish.max_days_before_today={guard.max_days_before_today} (are the latest input days "
                f"missing?); {_override('max_days_before_today', 'null')}"
            )


def check_before_solve(facts: PublishFacts, guard: PublishConfig) -> None:
    """Check the input's age, the decision day against today, and the number of pairs.

    Raises:
        PublishGuardError: the first check that fails, in that order.
    """
    day = facts.day
    check_days(day, facts.last_input_day, facts.today, guard)
    if facts.pairs == 0:
        raise PublishGuardError(
            f"publish guard: the scores hold no pairs for {day}, so {NOTHING} (were scoring_rows or scores "
            f"rebuilt for another day? re-run the features and scoring for {day})"
        )
    if facts.previous_pairs and guard.min_pairs_share_of_previous > 0:
        share = facts.pairs / facts.previous_pairs
        if share < guard.min_pairs_share_of_previous:
            raise PublishGuardError(
                f"publish guard: {facts.pairs:,} pairs for {day} are {share:.1%} of the {facts.previous_pairs:,} "
                f"published for {facts.previous_day}, below publish.min_pairs_share_of_previous="
                f"{guard.min_pairs_share_of_previous}; {_override('min_pairs_share_of_previous', 0)}"
            )


def check_run_calendar(
    calendar: RunCalendar, budget: int, levels: Sequence[int], guard: PublishConfig, today: dt.date | None
) -> None:
    """The checks a run can fail on from its start: they need only the run calendar and the configuration.

    The decision day against the last input day and today (:func:`check_days`), and the budget against what
    the pairs to score can take: they are the pairs of the last input day (one scoring row each), so the
    budget must hold each at the smallest level (the solver's own check) and be within reach of all at the
    largest (:func:`check_budget_reachable`). The allocation makes the same checks again on the day's scores.

    Raises:
        PublishGuardError: the input is too old, the day too far behind today, or the budget out of reach.
        InfeasibleBudgetError: the budget cannot hold every pair at the smallest level.
    """
    check_days(calendar.decision_day, calendar.last_input_day, today, guard)
    last_day = calendar.per_day.get(calendar.last_input_day)
    if last_day is None:  # a calendar without counts (an older feature spec's): the scores decide
        return
    pairs = last_day.rows
    check_feasible(pairs, pairs * int(levels[0]), budget)
    check_budget_reachable(calendar.decision_day, pairs, levels, budget, guard)


def check_budget_reachable(day: dt.date, pairs: int, levels: Sequence[int], budget: int, guard: PublishConfig) -> None:
    """Check that ``pairs`` pairs, each at the largest level, could use ``publish.min_budget_used_share`` of the budget.

    Raises:
        PublishGuardError: even that would use less.
    """
    most = pairs * int(levels[-1])
    hint = f"{levels[-1]} creatives each at the largest level: a budget meant for more pairs?"
    _check_used_share(most, budget, guard, f"the {pairs:,} pairs to allocate for {day} can take at most", hint)


def check_budget_used(day: dt.date, budget_used: int, budget: int, guard: PublishConfig) -> None:
    """Check that the solved allocation uses at least ``publish.min_budget_used_share`` of the budget.

    Raises:
        PublishGuardError: the allocation uses less.
    """
    _check_used_share(budget_used, budget, guard, f"the allocation of {day} uses", "too few pairs for the budget?")


def _check_used_share(used: int, budget: int, guard: PublishConfig, figure: str, hint: str) -> None:
    if budget <= 0 or guard.min_budget_used_share <= 0:
        return
    share = used / budget
    if share < guard.min_budget_used_share:
        raise PublishGuardError(
            f"publish guard: {figure} {used:,} of the {budget:,} creatives of its budget ({share:.1%}), below "
            f"publish.min_budget_used_share={guard.min_budget_used_share} ({hint}); "
            f"{_override('min_budget_used_share', 0)}"
        )
