"""Exit 0 when ``creative_daily`` exists at ``input.path``, 1 otherwise (used by ``make run``).

``make run`` simulates into ``input.path`` when this says 1, so it says 0 for anything Spark
can read there, whatever ``input.format`` says: a Delta table, Parquet files in any layout,
even a Delta log with no commit yet. A local path is checked in plain Python; another URI
(``s3a://``, ``hdfs://``) through a short local Spark session, and when that check fails the
input is taken as present, so that a failed check never leads to writing over data.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence

from acq_spark.config import Config
from acq_spark.platform.cli import parse_job_args
from acq_spark.platform.storage import PathContents, inspect_local_path, inspect_path, is_local


def inspect_remote(cfg: Config) -> PathContents:
    """:func:`inspect_path` for ``cfg.input_path``, in the active session or a local[1] one with ``spark.conf``."""
    from pyspark.sql import SparkSession

    from acq_spark.platform.session import get_spark

    active = SparkSession.getActiveSession()
    # A probe, not a job: one local thread whatever the launcher's master, so it never waits for a cluster.
    probe = dataclasses.replace(cfg.spark, master="local[1]", ui=False, progress=False)
    spark = active or get_spark(probe, app_name="acq-has-input")
    try:
        return inspect_path(spark, cfg.input_path)
    finally:
        if active is None:
            spark.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Say whether there is input at ``input.path``: 0 when there is (or it could not be checked), 1 when not."""
    _, cfg = parse_job_args(__doc__.splitlines()[0], argv)
    path = cfg.input_path
    try:
        contents = inspect_local_path(path) if is_local(path, cfg.spark.conf) else inspect_remote(cfg)
    except Exception as exc:  # any failure to look: assume the input is there rather than simulate over it
        print(f"input at {path} could not be checked ({exc}); taking it as present", file=sys.stderr)
        return 0
    print(f"input {'found' if contents.has_data else 'not found'} at {path} ({cfg.input.format})", file=sys.stderr)
    return 0 if contents.has_data else 1


if __name__ == "__main__":
    sys.exit(main())
