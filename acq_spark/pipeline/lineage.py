"""What a run read and wrote, for its run record: the Delta versions of the input and of the tables it wrote,
the configuration (secrets hidden) and the code's version.

A run holds the warehouse's lock (:mod:`acq_spark.platform.lock`), so the tables whose version moved between the
start and the end of the run are exactly the ones it wrote.
"""

from __future__ import annotations

import functools
import subprocess
from typing import Any

from pyspark.sql import SparkSession

import acq_spark
from acq_spark import PROJECT_ROOT
from acq_spark.config import Config, table_path
from acq_spark.platform.delta_tables import delta_version


def table_versions(spark: SparkSession, warehouse: str) -> dict[str, int]:
    """The latest Delta version of every table directly under ``warehouse``, by name."""
    from acq_spark.pipeline.maintenance import delta_tables

    found = {}
    for name in delta_tables(spark, table_path(warehouse, "")):
        version = delta_version(spark, table_path(warehouse, name))
        if version is not None:
            found[name] = version
    return found


def written_tables(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """The tables whose version moved from ``before`` to ``after`` (new ones included), at their new versions."""
    return {name: version for name, version in sorted(after.items()) if before.get(name) != version}


def input_lineage(spark: SparkSession, cfg: Config) -> dict[str, Any]:
    """Where the input was read from, its format and (for Delta) the version read."""
    version = delta_version(spark, cfg.input_path) if cfg.input.format == "delta" else None
    return {"path": cfg.input_path, "format": cfg.input.format, "version": version}


@functools.cache
def code_version() -> str:
    """``git describe --always --dirty`` of the checkout, or the package's version where there is no checkout."""
    try:
        done = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "describe", "--always", "--dirty", "--tags"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        done = None
    if done is not None and done.returncode == 0 and done.stdout.strip():
        return f"{acq_spark.__version__}+git.{done.stdout.strip()}"
    return acq_spark.__version__


def run_lineage(
    spark: SparkSession, cfg: Config, input_read: dict[str, Any], before: dict[str, int]
) -> dict[str, Any]:
    """The run record's lineage: the input read, the tables written (since the versions ``before``), config, code."""
    return {
        "input": input_read,
        "tables_written": written_tables(before, table_versions(spark, cfg.warehouse)),
        "config": cfg.to_dict(),
        "code_version": code_version(),
    }
