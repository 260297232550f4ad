"""Spark settings a test changes for its own block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

# conf/test.yaml's interpreted expressions suit its worlds of hundreds of pairs; a test on 100k rows and more
# runs with Spark's code generation, as production does (BENCHMARKS.md, issue 26).
CODEGEN = {"spark.sql.codegen.wholeStage": "true", "spark.sql.codegen.factoryMode": "FALLBACK"}


@contextmanager
def spark_codegen(spark) -> Iterator[None]:
    """Spark's code generation on for the block (:data:`CODEGEN`), the session's settings restored after it."""
    before = {key: spark.conf.get(key, None) for key in CODEGEN}
    for key, value in CODEGEN.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
