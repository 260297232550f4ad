"""The warehouse catalog: locations under ``warehouse`` that several stages write or read.

A stage asks here for such a location instead of building it by hand: the day's reports folder and the
run records (``runs/allocation/<dt>/<run_id>.json`` by the allocation, ``runs/nightly/<dt>_<run_id>.json``
by the nightly; run ids sort by time).
"""

from __future__ import annotations

import datetime as dt

from acq_spark.config import table_path

REPORTS = "reports"
ALLOCATION_RECORDS = "runs/allocation"
NIGHTLY_RECORDS = "runs/nightly"


def report_dir(warehouse: str, day: dt.date | str) -> str:
    """``<warehouse>/reports/<day>``: the day's report, Table 2 (``table2.md``) and Table 4 (``table4.*``)."""
    return table_path(warehouse, f"{REPORTS}/{day}")


def allocation_records_dir(warehouse: str, day: dt.date | str) -> str:
    """The folder of the allocation run records of ``day``, one per run."""
    return table_path(warehouse, f"{ALLOCATION_RECORDS}/{day}")


def allocation_record(warehouse: str, day: dt.date | str, run_id: str) -> str:
    """The allocation run record of run ``run_id`` for ``day``."""
    return f"{allocation_records_dir(warehouse, day)}/{run_id}.json"


def nightly_records_dir(warehouse: str) -> str:
    """The folder of the nightly run records, ``<dt>_<run_id>.json`` each."""
    return table_path(warehouse, NIGHTLY_RECORDS)


def nightly_record(warehouse: str, day: dt.date | str, run_id: str) -> str:
    """The nightly run record of run ``run_id`` for ``day``."""
    return f"{nightly_records_dir(warehouse)}/{day}_{run_id}.json"
