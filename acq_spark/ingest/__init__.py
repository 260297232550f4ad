"""The input: reading ``creative_daily``, its contract and quarantine, the days a run reads, the run calendar.

``days`` (the one read of the input, the days a run needs, their fingerprint), ``validation`` (the
contract, the quarantine, the outlier guard, ``valid_input``), ``run_calendar`` (the ``RunCalendar``
every stage takes), ``levels`` (the creative levels of a row), ``schemas`` (the pair keys, the
``scores`` schema) and ``presence`` (``python -m
acq_spark.ingest.presence``: is there input at ``input.path``; not in this face, so that it runs as a module).
"""

from __future__ import annotations

from acq_spark.ingest.days import days_to_read, input_fingerprint, read_input
from acq_spark.ingest.levels import has_level, level_creatives
from acq_spark.ingest.run_calendar import DayTotals, RunCalendar, plan_calendar
from acq_spark.ingest.schemas import KEYS, SCORES_SCHEMA
from acq_spark.ingest.validation import ValidationResult, ValidInput, given_or_valid_input, valid_input

__all__ = [
    "KEYS",
    "SCORES_SCHEMA",
    "DayTotals",
    "RunCalendar",
    "ValidInput",
    "ValidationResult",
    "days_to_read",
    "given_or_valid_input",
    "has_level",
    "input_fingerprint",
    "level_creatives",
    "plan_calendar",
    "read_input",
    "valid_input",
]
