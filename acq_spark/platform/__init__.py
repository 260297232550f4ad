"""The platform every stage stands on: storage, Delta tables, the Spark session, logging, the lock and the command line.

``fs`` (artifacts, pointers, run records on a folder or a bucket), ``s3a`` (the object store's settings
from the AWS environment), ``outage`` (a store that stopped answering), ``storage`` (what a path holds),
``delta_tables`` (Delta reads and writes by day), ``session`` and ``jars`` (the Spark session and
Delta's jars), ``caching``, ``run_log`` (the run id, a log line per stage and its timer), ``lock`` and
``process_start`` (one writing run per warehouse), ``cli`` (the command line every job shares).
``session`` and ``jars`` are imported from their modules (``python -m acq_spark.platform.jars`` resolves
the jars), so that this face stays free of them.
"""

from __future__ import annotations

from acq_spark.platform import fs, s3a
from acq_spark.platform.caching import cached
from acq_spark.platform.cli import job_lock, parse_job_args, run_main
from acq_spark.platform.delta_tables import overwrite_table, read_table, replace_days, table_exists
from acq_spark.platform.lock import warehouse_lock
from acq_spark.platform.run_log import LOG, StageTimer, current_run_id, set_run_id, setup_logging

__all__ = [
    "LOG",
    "StageTimer",
    "cached",
    "current_run_id",
    "fs",
    "job_lock",
    "overwrite_table",
    "parse_job_args",
    "read_table",
    "replace_days",
    "run_main",
    "s3a",
    "set_run_id",
    "setup_logging",
    "table_exists",
    "warehouse_lock",
]
