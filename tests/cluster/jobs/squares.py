"""A test job for the cluster: ``(id, square)`` for ``id < --rows``, written to ``<warehouse>/squares`` (Delta).

    spark-submit tests/cluster/jobs/squares.py --config conf/test.yaml --rows 400 --partitions 4 \
        --sleep 2 --markers /tmp/markers --probe /path/to/checkout/pyproject.toml

Each task leaves ``p<partition>-t<task attempt id>.start`` and ``.done`` files in ``--markers`` (JSON: the
partition, task id and attempt, the folder it ran in (an executor folder under a worker's work dir), its Python,
where it imported ``acq_spark`` from, the default configuration's levels and whether it can see the file
``--probe``) and sleeps ``--sleep`` seconds between the two, so a test can see where tasks ran, kill a
worker mid-task and check the retries. Prints one JSON line: where the table is.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from pyspark import TaskContext
from pyspark.sql import types as T

from acq_spark.platform.cli import parse_job_args, run_main
from acq_spark.platform.delta_tables import overwrite_table
from acq_spark.platform.session import get_spark

SCHEMA = T.StructType([T.StructField("id", T.LongType()), T.StructField("square", T.LongType())])


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds each task sleeps")
    parser.add_argument("--markers", required=True, help="folder for the tasks' start/done files")
    parser.add_argument("--probe", default="", help="a file whose visibility each task reports")


def slow_squares(index: int, ids: Iterator[int], markers: str, sleep: float, probe: str) -> Iterator[tuple[int, int]]:
    """The partition's rows, after leaving a start marker and sleeping; a done marker at the end."""
    import acq_spark
    from acq_spark.config import load_config

    ctx = TaskContext.get()
    task, attempt = (ctx.taskAttemptId(), ctx.attemptNumber()) if ctx else (0, 0)
    stem = Path(markers) / f"p{index}-t{task}"
    where = json.dumps(
        {
            "partition": index,
            "task": task,
            "attempt": attempt,
            "folder": os.getcwd(),
            "python": sys.executable,
            "acq_spark": acq_spark.__file__,
            "default_levels": list(load_config().levels),  # the default configuration is package data
            "sees_probe": bool(probe) and Path(probe).exists(),
        }
    )
    stem.with_suffix(".start").write_text(where)
    time.sleep(sleep)
    rows = [(i, i * i) for i in ids]
    stem.with_suffix(".done").write_text(where)
    return iter(rows)


def main() -> int:
    args, cfg = parse_job_args(__doc__.splitlines()[0], extend=_options)
    spark = get_spark(cfg.spark, app_name="acq-cluster-squares")
    Path(args.markers).mkdir(parents=True, exist_ok=True)
    markers, sleep, probe = args.markers, args.sleep, args.probe
    ids = spark.sparkContext.range(args.rows, numSlices=args.partitions)
    rows = ids.mapPartitionsWithIndex(lambda i, part: slow_squares(i, part, markers, sleep, probe))
    overwrite_table(spark.createDataFrame(rows, SCHEMA), cfg.table("squares"), "delta")
    print(json.dumps({"table": cfg.table("squares")}))
    return 0


if __name__ == "__main__":
    run_main(main)
