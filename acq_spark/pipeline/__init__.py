"""The pipeline: the one place that wires the stages into a night, and the operations around it.

``nightly`` (the chain of a decision day), ``backfill`` (the nightly for each day of a range),
``closed_loop`` (nightly → the simulated world logs the day → the next nightly), ``lineage`` (what a
run read and wrote), ``maintenance`` (OPTIMIZE, Z-order, VACUUM) and ``unlock`` (``python -m
acq_spark.pipeline.unlock``: the on-call's release of a crashed run's lock; not in this face, so that it
runs as a module). Nothing below this layer imports it.
"""

from __future__ import annotations

from acq_spark.pipeline.backfill import BackfillDay, run_backfill
from acq_spark.pipeline.closed_loop import Night, run_closed_loop
from acq_spark.pipeline.maintenance import maintain_warehouse
from acq_spark.pipeline.nightly import run_nightly

__all__ = ["BackfillDay", "Night", "maintain_warehouse", "run_backfill", "run_closed_loop", "run_nightly"]
