"""Exit 0 when ``creative_daily`` exists at ``input.path``, 1 otherwise (used by ``make run``)."""

from __future__ import annotations

import sys
from pathlib import Path

from acq_spark.cli import parse_job_args


def main() -> int:
    _, cfg = parse_job_args(__doc__.splitlines()[0])
    path = cfg.input_path
    if "://" in path:
        return 0
    root = Path(path)
    present = (root / "_delta_log").is_dir() if cfg.input.format == "delta" else any(root.glob("**/*.parquet"))
    print(f"input {'found' if present else 'not found'} at {path} ({cfg.input.format})", file=sys.stderr)
    return 0 if present else 1


if __name__ == "__main__":
    sys.exit(main())
