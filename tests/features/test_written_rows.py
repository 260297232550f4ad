"""The features of the written rows alone (``features.compute=written_rows``) equal the window path's, bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from acq_spark.config import load_config
from acq_spark.features.assemble import feature_columns
from acq_spark.features.job import run_build_features
from acq_spark.platform.catalog import SCORING_ROWS, TRAINING_EXAMPLES
from acq_spark.simulate.job import run_simulation

ROW_KEY = ["dt", "account_id", "photo_id"]
# The run reads its 3 label days and the 7-day window before them, the last 10 of the world's 14 days: the pairs'
# earlier days reach the features through the pair history rows. 7 rows an Arrow batch split most pairs
# between batches; every label-day row is written (``full``): the most rows to compare.
WORLD = ["simulate.n_pairs=150", "simulate.n_days=14", "features.windows=[1,3,7]", "features.train_days=3",
         "features.training_examples=full", "spark.conf.spark.sql.execution.arrow.maxRecordsPerBatch=7"]  # fmt: skip


def table(spark, path: str, days) -> pd.DataFrame:
    rows = spark.read.format("delta").load(path).where(spark_in("dt", days)).toPandas()
    return rows.sort_values(ROW_KEY).reset_index(drop=True)


def spark_in(column: str, days):
    from pyspark.sql import functions as F

    return F.col(column).isin(list(days))


def assert_identical(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b) > 0
    for column in a.columns:
        left, right = a[column].tolist(), b[column].tolist()
        if a[column].dtype == object and left and isinstance(left[0], list | np.ndarray):
            left, right = [list(x) for x in left], [list(x) for x in right]
        # exact: floats compared as Python floats (0.1 + 0.2 != 0.3), nulls as None/NaN in the same places
        assert pd.Series(left, dtype=object).equals(pd.Series(right, dtype=object)), column


def test_the_written_rows_features_equal_the_window_paths_row_for_row(spark, tmp_path):
    root, base = tmp_path, WORLD
    window = load_config(_test_yaml(), [f"warehouse={root / 'window'}", *base])
    # the same input, simulated once
    same_input = [f"input.path={window.input_path}", "features.compute=written_rows"]
    written = load_config(_test_yaml(), [f"warehouse={root / 'written'}", *base, *same_input])
    run_simulation(spark, window)
    spec = run_build_features(spark, window).spec
    assert run_build_features(spark, written).spec.to_dict() == spec.to_dict()
    label_days, decision = spec.label_days, [spec.decision_day]

    examples_window = table(spark, window.table(TRAINING_EXAMPLES), label_days)
    examples_written = table(spark, written.table(TRAINING_EXAMPLES), label_days)
    scoring_window = table(spark, window.table(SCORING_ROWS), decision)
    scoring_written = table(spark, written.table(SCORING_ROWS), decision)
    assert_identical(examples_window, examples_written)
    assert_identical(scoring_window, scoring_written)
    assert len(scoring_written) > 60 and len(examples_written) > 200
    # the history rows stood for days the run did not read: some pairs are older than the days read
    assert scoring_written["pair_age_days"].max() > 10
    assert set(feature_columns(window.features.windows)) <= set(examples_written.columns)


def _test_yaml():
    from acq_spark import PROJECT_ROOT

    return PROJECT_ROOT / "conf" / "test.yaml"


def test_the_pass_puts_each_pairs_rows_together_whatever_the_partitioning_it_is_given(spark):
    from pyspark.sql import functions as F

    from acq_spark.features.windows import with_day_number, with_level_idx, with_pair_windows
    from acq_spark.features.written import TARGET, feature_fields, with_written_row_features

    rng = np.random.default_rng(5)
    rows = [
        (f"2026-01-{d:02d}", pair // 3, 100 + pair, *(["p", "i", None] if d % 4 else [None, "j", "k"]),
         int(rng.choice([0, 1, 2, 5, 20])), float(rng.exponential()), float(rng.exponential()), int(rng.integers(3)),
         int(rng.integers(100)))
        for pair in range(40) for d in range(1, 11) if rng.random() < 0.8
    ]  # fmt: skip
    schema = ("dt string, account_id long, photo_id long, product_name string, industry_l1 string, "
              "industry_l2 string, n_creatives int, cost double, target_cost double, conversions int, "
              "impressions long")  # fmt: skip
    levels, windows = (1, 2, 5, 20), (1, 3)
    base = (spark.createDataFrame(rows, schema).withColumn("dt", F.to_date("dt")).withColumn("is_probe", F.lit(False))
            .transform(with_day_number).transform(with_level_idx, levels))  # fmt: skip
    target = F.xxhash64("photo_id", "dt") % 2 == 0
    # round robin: every pair's rows lie in several partitions, as the pass must not assume otherwise
    spread = base.repartition(5).withColumn(TARGET, target)
    names = ["dt", "account_id", "photo_id", *(f.name for f in feature_fields(windows))]
    sort = ["dt", "account_id", "photo_id"]
    got = with_written_row_features(spread, windows, len(levels), partitions=3).select(*names).toPandas()
    want = with_pair_windows(base, windows, len(levels)).where(target).select(*names).toPandas()
    assert_identical(*(df.sort_values(sort).reset_index(drop=True) for df in (want, got)))
    assert len(got) > 100
