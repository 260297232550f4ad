"""One log line per stage with its timing (and row counts where the stage reports them).

Log lines go to stderr as ``2026-12-02 04:30:01 INFO run=<run id> acq <message>``; the run id is set
once per run by :func:`set_run_id` (the command line of every job does it). While a stage runs, Spark's
job description and job group name it and the run, so the Spark UI shows which stage each job belongs to.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

LOG = logging.getLogger("acq")
LOG_FORMAT = "%(asctime)s %(levelname)s run=%(run_id)s acq %(message)s"
_run_id: str | None = None


def new_run_id() -> str:
    """A sortable, unique run id: UTC time and a random suffix."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def set_run_id(run_id: str | None = None) -> str:
    """Set the id of this process's run (a new one when None), which every log line carries; returns it."""
    global _run_id
    _run_id = run_id or new_run_id()
    return _run_id


def current_run_id() -> str | None:
    """The run id :func:`set_run_id` set, None before."""
    return _run_id


class _RunIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = _run_id or "-"
        return True


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever ``sys.stderr`` is when a line is logged (pytest's capture swaps it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def setup_logging(level: int = logging.INFO) -> None:
    """Send the project's log lines to stderr as ``YYYY-MM-DD HH:MM:SS LEVEL run=<id> acq <message>`` (idempotent)."""
    if not LOG.handlers:
        handler = _Stderr()
        handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
        handler.addFilter(_RunIdFilter())
        LOG.addHandler(handler)
    LOG.setLevel(level)
    LOG.propagate = False


@contextmanager
def spark_job_description(text: str) -> Iterator[None]:
    """Name the Spark jobs started in the block (``text``, and the run id as their job group) in the Spark UI.

    Does nothing when no SparkContext is running; the previous description and group are restored after.
    """
    from pyspark import SparkContext

    sc = SparkContext._active_spark_context
    if sc is None:
        yield
        return
    keys = {"spark.job.description": text, "spark.jobGroup.id": f"acq-{_run_id or 'run'}"}
    previous: dict[str, str | None] = {key: sc.getLocalProperty(key) for key in keys}
    for key, value in keys.items():
        sc.setLocalProperty(key, value)
    try:
        yield
    finally:
        for key, old in previous.items():
            # None removes the property, which pyspark's annotation (value: str) leaves out
            sc.setLocalProperty(key, old)  # type: ignore[arg-type]


@dataclass
class StageRecord:
    """What one stage did: its name, seconds taken and any figures it chose to report."""

    name: str
    seconds: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass
class StageTimer:
    """Collects :class:`StageRecord` s; ``with timer.stage("features") as rec:`` times a block."""

    records: list[StageRecord] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str) -> Iterator[StageRecord]:
        setup_logging()
        record = StageRecord(name)
        LOG.info("stage %s: started", name)
        start = time.perf_counter()
        try:
            with spark_job_description(f"acq {name} (run {_run_id or '-'})"):
                yield record
        except BaseException:
            record.seconds = time.perf_counter() - start
            LOG.error("stage %s: FAILED after %.1f s", name, record.seconds)
            raise
        record.seconds = time.perf_counter() - start
        self.records.append(record)
        extras = "".join(f", {k}={_fmt(v)}" for k, v in record.figures.items())
        LOG.info("stage %s: done in %.1f s%s", name, record.seconds, extras)

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {r.name: {"seconds": round(r.seconds, 3), **r.figures} for r in self.records}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
