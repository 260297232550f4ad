"""Where the written-rows pass spends its time: the sort, the transfer to Python, the whole pass, the window path.

    python benchmarks/written_rows_steps.py INPUT    # a creative_daily Delta table, e.g. jobs/simulate.py's

Each step is written into Spark's ``noop`` sink from the same cached rows (the raw input partitioned by
account, with the day number, the level and a random 17% of target rows, about the share the stage writes).
"""

from __future__ import annotations

import sys
import time

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from acq_spark import PROJECT_ROOT
from acq_spark.config import load_config
from acq_spark.features import written
from acq_spark.features.columns import DAY, LEVEL, METRICS, SPARSE
from acq_spark.features.windows import metric_value, with_day_number, with_level_idx, with_pair_windows
from acq_spark.ingest.schemas import KEYS
from acq_spark.platform.session import get_spark


def nothing(batches):
    for _ in batches:
        pass
    return iter(())


def timed(name: str, df: DataFrame) -> None:
    start = time.perf_counter()
    df.write.format("noop").mode("overwrite").save()
    print(f"{name}: {time.perf_counter() - start:.1f} s", flush=True)


def main(path: str) -> None:
    cfg = load_config(PROJECT_ROOT / "conf/local.yaml", ["spark.progress=false"])
    spark = get_spark(cfg.spark, app_name="written-rows-steps")
    rows = (
        spark.read.format("delta").load(path).repartition(8, "account_id")
        .transform(with_day_number).transform(with_level_idx, cfg.levels)
        .withColumn("is_probe", F.lit(False)).withColumn(written.TARGET, F.rand(1) < 0.17)
        .cache()
    )  # fmt: skip
    rows.count()
    values = [metric_value(m).cast("double").alias(written._value(m)) for m in METRICS]
    projected = rows.select(*KEYS, DAY, LEVEL, *written.PASSED, written.TARGET, *values, *SPARSE)
    sorted_rows = projected.sortWithinPartitions(*KEYS, DAY)
    windows, n_levels = cfg.features.windows, len(cfg.levels)
    timed("sort only", sorted_rows)
    timed("sort, every row to Python, nothing back", sorted_rows.mapInArrow(nothing, "x int"))
    timed("the same without the 3 string columns", sorted_rows.drop(*SPARSE).mapInArrow(nothing, "x int"))
    timed("the whole pass", written.with_written_row_features(rows, windows, n_levels))
    timed("the window path's windows (every row)", rows.transform(with_pair_windows, windows, n_levels))


if __name__ == "__main__":
    main(sys.argv[1])
