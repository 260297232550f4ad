"""The publish guard: checks a day's figures before ``allocation`` / ``account_rules`` are written.

An empty or stale allocation must never replace a good one. Each check stops the job with
:class:`PublishGuardError`, naming the figure, its ``publish.*`` threshold and how to override it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from acq_spark.config import PublishConfig
from acq_spark.errors import PublishGuardError

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


def check_before_solve(facts: PublishFacts, guard: PublishConfig) -> None:
    """Check the input's age, the decision day against today, and the number of pairs.

    Raises:
        PublishGuardError: the first check that fails, in that order.
    """
    day = facts.day
    if guard.max_input_age_days is not None and facts.last_input_day is not None:
        age = (day - facts.last_input_day).days
        if age > guard.max_input_age_days:
            raise PublishGuardError(
                f"publish guard: the last input day {facts.last_input_day} is {age} days before the decision day "
                f"{day}, more than publish.max_input_age_days={guard.max_input_age_days}: the features would be "
                f"stale; {_override('max_input_age_days', 'null')}"
            )
    if guard.max_days_before_today is not None and facts.today is not None:
        behind = (facts.today - day).days
        if behind > guard.max_days_before_today:
            raise PublishGuardError(
                f"publish guard: the decision day {day} is {behind} days before today {facts.today}, more than "
                f"publish.max_days_before_today={guard.max_days_before_today} (are the latest input days "
                f"missing?); {_override('max_days_before_today', 'null')}"
            )
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


def check_budget_used(day: dt.date, budget_used: int, budget: int, guard: PublishConfig) -> None:
    """Check that the solved allocation uses at least ``publish.min_budget_used_share`` of the budget.

    Raises:
        PublishGuardError: the allocation uses less.
    """
    if budget <= 0 or guard.min_budget_used_share <= 0:
        return
    share = budget_used / budget
    if share < guard.min_budget_used_share:
        raise PublishGuardError(
            f"publish guard: the allocation of {day} uses {budget_used:,} of the {budget:,} creatives of its "
            f"budget ({share:.1%}), below publish.min_budget_used_share={guard.min_budget_used_share} (too few "
            f"pairs for the budget?); {_override('min_budget_used_share', 0)}"
        )
