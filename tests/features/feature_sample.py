"""A tiny ``creative_daily`` with gaps, a pair that starts mid-window, a paused day and a null product.

Imported by the feature tests (this folder is on ``sys.path`` under pytest's default import mode).
"""

from __future__ import annotations

import datetime as dt

from acq_spark.ingest.validation import SCHEMA

D0 = dt.date(2026, 1, 1)
SOURCE_SCHEMA = SCHEMA  # the input contract of spec §2


def day(i: int) -> dt.date:
    return D0 + dt.timedelta(days=i)


# Pair (1, 10): days 0, 1, 3 (paused), 6 — gaps. Pair (1, 11): starts on day 5. Pair (2, 20): day 6 only.
SOURCE_ROWS = [
    (day(0), 1, 10, "p1", "i1", "j1", 1, 1.0, 2.0, 1, 10),
    (day(1), 1, 10, "p1", "i1", "j1", 2, 2.0, 2.0, 0, 20),
    (day(3), 1, 10, "p1", "i1", "j1", 0, 0.0, 0.0, 0, 0),
    (day(6), 1, 10, "p1", "i1", "j1", 5, 4.0, 3.0, 2, 50),
    (day(5), 1, 11, "p2", "i1", "j2", 3, 3.0, 1.5, 1, 30),
    (day(6), 1, 11, "p2", "i1", "j2", 1, 0.0, 1.5, 0, 5),
    (day(6), 2, 20, None, "i2", "j3", 1, 0.5, 1.0, 0, 7),
]
WINDOWS = (1, 3)
LEVELS = (1, 2, 5)


def source_frame(spark, rows=SOURCE_ROWS):
    return spark.createDataFrame(rows, SOURCE_SCHEMA)
