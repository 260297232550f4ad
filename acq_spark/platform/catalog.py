"""The warehouse catalog: locations under ``warehouse`` that several stages write or read.

A stage asks here for such a location instead of building it by hand.
"""

from __future__ import annotations

import datetime as dt

from acq_spark.config import table_path

REPORTS = "reports"


def report_dir(warehouse: str, day: dt.date | str) -> str:
    """``<warehouse>/reports/<day>``: the day's report, Table 2 (``table2.md``) and Table 4 (``table4.*``)."""
    return table_path(warehouse, f"{REPORTS}/{day}")
