"""The command line every job shares: ``--config FILE`` and any number of ``--set key=value``.

Once the configuration is loaded, the stores of ``warehouse`` and ``input.path`` are checked (a bucket
that does not exist, refused credentials, an endpoint that does not answer), so a job fails before it
writes anything.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from acq_spark import fs, s3a
from acq_spark.config import Config, ConfigError, load_config


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
    extend: Callable[[argparse.ArgumentParser], None] | None = None,
) -> tuple[argparse.Namespace, Config]:
    """Parse the command line and load the configuration; a bad key exits with a clear message."""
    parser = job_parser(description)
    if extend is not None:
        extend(parser)
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config, args.overrides)
    except ConfigError as exc:
        parser.exit(2, f"{parser.prog}: configuration error: {exc}\n")
    check_stores(cfg)
    return args, cfg


def check_stores(cfg: Config) -> None:
    """Check that the warehouse's and the input's stores answer, with the settings Spark will get.

    Raises:
        StoreError: naming the setting, the URI and the cause.
    """
    fs.configure(s3a.effective_settings(os.environ, cfg.spark.conf))
    fs.check_store(cfg.warehouse, "warehouse")
    if cfg.input_path != cfg.table("creative_daily"):
        fs.check_store(cfg.input_path, "input.path")


def run_main(main: Callable[[], int | None]) -> None:
    """Run a job's ``main`` and exit with its status; errors end with one readable line."""
    from acq_spark.errors import AcqError

    try:
        status = main()
    except AcqError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    sys.exit(status or 0)
