"""How long a Delta write to a bucket takes to fail once the store stops answering, by s3a retry settings.

moto's S3 server behind the tests' :class:`s3_store.Outage` (connection refused, as from a store that is
down); one small Delta table is written, the store cut, and the overwrite timed until it fails. Each
setting gets a bucket of its own, since s3a's file system (and its retry policy) is made once per bucket.

    python benchmarks/store_outage.py                      # the project's settings (acq_spark.platform.s3a.RETRIES)
    python benchmarks/store_outage.py --hadoop-defaults    # Hadoop's (7 retries; the SDK's 5 attempts)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

HADOOP_DEFAULTS = {"fs.s3a.retry.limit": "7", "fs.s3a.retry.interval": "500ms", "fs.s3a.attempts.maximum": "5"}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hadoop-defaults", action="store_true", help="Hadoop's retry settings, not the project's")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    from s3_store import MotoServer, Outage, use_store

    from acq_spark import PROJECT_ROOT
    from acq_spark.config import load_config
    from acq_spark.platform import s3a
    from acq_spark.platform.session import get_spark

    server = MotoServer.start()
    outage = Outage(server.port)
    try:
        environ = {**server.environment(), "AWS_ENDPOINT_URL": outage.endpoint}
        os.environ.update(environ)
        spark = get_spark(load_config(PROJECT_ROOT / "conf" / "test.yaml").spark, app_name="bench-store-outage")
        settings = HADOOP_DEFAULTS if args.hadoop_defaults else s3a.RETRIES
        for _ in range(args.repeat):
            outage.restore()
            with use_store(spark, environ, extra=settings):
                path = f"s3a://{server.new_bucket()}/wh/t"
                spark.range(1000).write.format("delta").save(path)
                outage.cut()
                start = time.monotonic()
                try:
                    spark.range(1000).write.format("delta").mode("overwrite").save(path)
                except Exception as exc:
                    first = next((line for line in str(exc).splitlines() if " on s3a://" in line), "")
                    print(f"failed after {time.monotonic() - start:.1f} s: {first[:160]}")
                else:
                    print("the write did not fail")
        print(f"settings: {settings}")
    finally:
        outage.close()
        server.stop()


if __name__ == "__main__":
    main()
