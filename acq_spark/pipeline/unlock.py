"""Release the warehouse lock a crashed run left: delete that run's claim, unless its heartbeat is fresh.

    python -m acq_spark.pipeline.unlock --run-id RUN_ID [--config FILE] [--set warehouse=URI]

Status 0 once deleted; 5 (the warehouse is locked) when the claim was refreshed within
``lock.stale_after_minutes`` and its process is not known to have ended; 1 when the run has no claim.
"""

from __future__ import annotations

from collections.abc import Sequence

from acq_spark.platform.cli import parse_job_args, run_main
from acq_spark.platform.lock import release


def main(argv: Sequence[str] | None = None) -> int:
    """Delete the claim of ``--run-id`` on the configured warehouse (:func:`acq_spark.platform.lock.release`)."""
    args, cfg = parse_job_args(
        __doc__.splitlines()[0],
        argv,
        lambda parser: parser.add_argument("--run-id", required=True, help="the run whose claim to delete"),
    )
    release(cfg.warehouse, args.run_id, cfg.lock)
    return 0


if __name__ == "__main__":
    run_main(main)
