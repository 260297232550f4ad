"""One log line per stage with its timing (and row counts where the stage reports them)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

LOG = logging.getLogger("acq")


def setup_logging(level: int = logging.INFO) -> None:
    """Send the project's log lines to stderr as ``HH:MM:SS acq <message>`` (idempotent)."""
    if not LOG.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s acq %(message)s", datefmt="%H:%M:%S"))
        LOG.addHandler(handler)
    LOG.setLevel(level)
    LOG.propagate = False


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
