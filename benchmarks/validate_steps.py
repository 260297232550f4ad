"""Where validation's time goes: each of its Spark jobs timed on its own, as ``valid_input`` runs them.

    python benchmarks/validate_steps.py --warehouse /tmp/acq_bench/nightly_1000000 [--config conf/local.yaml]
        [--conf spark.sql.KEY=VALUE ...]

The world must be there already (``benchmarks/bench_nightly.py`` or ``jobs/simulate.py`` writes it). Besides the
jobs validation runs, it times the plain scan, the scan with the shuffle by account, and the duplicate check by
a window over the keys (the sort the hash count replaced), each into Spark's ``noop`` sink.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", required=True)
    ap.add_argument("--config", default=str(ROOT / "conf" / "local.yaml"))
    ap.add_argument("--conf", action="append", default=[], help="a runtime SQL setting, KEY=VALUE (repeatable)")
    args = ap.parse_args()

    from acq_spark.config import load_config
    from acq_spark.ingest import validation as v
    from acq_spark.ingest.days import days_to_read, read_input
    from acq_spark.platform.caching import INPUT_SIZED_CACHE, cached
    from acq_spark.platform.session import get_spark

    cfg = load_config(args.config, [f"warehouse={args.warehouse}", "spark.progress=false"])
    spark = get_spark(cfg.spark)
    for setting in args.conf:
        key, _, value = setting.partition("=")
        spark.conf.set(key, value)

    def timed(name: str, job: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        out = job()
        print(f"| {name} | {time.perf_counter() - start:.1f} |", flush=True)
        return out

    def noop(df: Any) -> Callable[[], None]:
        return lambda: df.write.format("noop").mode("overwrite").save()

    print("| step | seconds |\n|---|---:|")
    raw = timed("read the input, check dt", lambda: read_input(spark, cfg, check=True))
    rows = v.by_account(days_to_read(raw, cfg), cfg.spark.shuffle_partitions)
    timed("scan the rows (noop)", noop(days_to_read(raw, cfg)))
    timed("scan, shuffle by account (noop)", noop(rows))
    with cached(v.check_schema(rows), INPUT_SIZED_CACHE) as checked:
        timed("scan, shuffle, fill the disk cache (count)", checked.count)
        found = timed("duplicate keys: hash count on the cache", lambda: v.find_duplicate_keys(checked))
        flagged = v.with_reasons(checked, found)
        timed("the row faults over the cache (noop)", noop(flagged))
        timed("the row faults with the window's duplicate check (noop)", noop(v.with_reasons(checked)))
        timed("split: outlier bound, per-day figures, pairs", lambda: v.split_rows(flagged, cfg.validation.outlier))


if __name__ == "__main__":
    main()
