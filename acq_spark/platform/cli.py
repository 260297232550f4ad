"""The command line every job shares: ``--config FILE`` and any number of ``--set key=value``.

Once the configuration is loaded, the stores of ``warehouse`` and ``input.path`` are checked (a bucket
that does not exist, refused credentials, an endpoint that does not answer), so a job fails before it
writes anything.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from acq_spark.config import Config, ConfigError, load_config
from acq_spark.errors import EXIT_USAGE
from acq_spark.platform import fs, s3a
from acq_spark.platform.catalog import CREATIVE_DAILY


def job_parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every job takes; jobs add their own on top."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", default=None, help="environment YAML applied over the packaged default.yaml")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one configuration key (dotted), e.g. --set simulate.n_pairs=1000; repeatable",
    )
    return parser


def parse_job_args(
    description: str,
    argv: Sequence[str] | None = None,
    extend: Callable[[argparse.ArgumentParser], object] | None = None,
) -> tuple[argparse.Namespace, Config]:
    """Parse the command line and load the configuration; a bad key exits with a clear message."""
    parser = job_parser(description)
    if extend is not None:
        extend(parser)
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config, args.overrides)
    except ConfigError as exc:
        parser.exit(EXIT_USAGE, f"{parser.prog}: configuration error: {exc}\n")
    check_stores(cfg)
    return args, cfg


def check_stores(cfg: Config) -> None:
    """Check that the warehouse's and the input's stores answer, with the settings Spark will get.

    Raises:
        StoreError: naming the setting, the URI and the cause.
    """
    fs.configure(s3a.effective_settings(os.environ, cfg.spark.conf))
    fs.check_store(cfg.warehouse, "warehouse")
    if cfg.input_path != cfg.table(CREATIVE_DAILY):
        fs.check_store(cfg.input_path, "input.path")


@contextmanager
def job_lock(cfg: Config, job: str) -> Iterator[None]:
    """Hold the warehouse's lock (:mod:`.lock`) for the block: one writing run at a time per warehouse.

    Raises:
        LockHeldError: another run holds it; nothing has been written.
    """
    from acq_spark.platform.lock import warehouse_lock
    from acq_spark.platform.run_log import current_run_id, set_run_id

    with warehouse_lock(cfg.warehouse, current_run_id() or set_run_id(), job, cfg.lock):
        yield


def run_main(main: Callable[[], int | None]) -> None:
    """Run a job's ``main`` as one run and exit with its status (0, or :func:`~acq_spark.errors.exit_status`).

    A failure logs its full traceback, then ends with one line on stderr, ``error: <what and why>`` (for a
    store that stopped answering, the store, the operation and the object: :mod:`acq_spark.platform.outage`);
    the status tells a scheduler what kind of failure it was (3 bad input, 4 infeasible budget, 5 the
    warehouse is locked by another run, 1 other).
    """
    from acq_spark.errors import AcqError, exit_status
    from acq_spark.platform.outage import store_outage
    from acq_spark.platform.run_log import LOG, set_run_id, setup_logging

    setup_logging()
    set_run_id()
    try:
        status = main()
    except Exception as exc:
        said = exc if isinstance(exc, AcqError) else store_outage(exc)
        summary = first_line(str(said) if said is not None else f"{type(exc).__name__}: {exc}")
        LOG.error("run failed: %s", summary, exc_info=exc)  # the full traceback, causes included
        print(f"error: {summary}", file=sys.stderr)
        sys.exit(exit_status(exc))
    sys.exit(status or 0)


def first_line(text: str, limit: int = 500) -> str:
    """The first non-blank line of ``text``, cut to ``limit`` characters (a Java error's message runs on for pages)."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"
