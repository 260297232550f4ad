"""Training examples built for the trainer's sample only: the same rows as the full table's, drawn the same way."""

from __future__ import annotations

import random

from chispa import assert_df_equality
from feature_sample import SOURCE_SCHEMA, day
from pyspark.sql import functions as F

from acq_spark.features.job import run_build_features
from acq_spark.features.sampling import split_days
from acq_spark.platform.delta_tables import overwrite_table
from acq_spark.training.data import sample_days

OVERRIDES = ("features.windows=[1,3]", "levels=[1,2,5]", "features.train_days=3")
MAX_EXAMPLES = 40  # per part: the training days hold about 3 x 60 examples and the validation day about 60


def many_pairs(n_pairs: int = 60, n_days: int = 5) -> list[tuple]:
    rng = random.Random(7)
    rows = []
    for pair in range(n_pairs):
        account, photo = pair // 4, 1000 + pair
        for d in range(n_days):
            n = rng.choice([0, 1, 2, 3, 5, 8])
            cost = round(rng.random() * 10, 3) if n and rng.random() < 0.4 else 0.0
            rows.append((day(d), account, photo, f"p{pair % 5}", "i1", f"j{pair % 3}", n, cost, 1.0, 0, 10 * n))
    return rows


def test_sampled_examples_are_the_full_tables_rows_the_trainer_draws(spark, make_cfg, tmp_path):
    source_df = spark.createDataFrame(many_pairs(), SOURCE_SCHEMA)
    full_cfg = make_cfg(*OVERRIDES, "features.training_examples=full", f"warehouse={tmp_path / 'full'}")
    sample_cfg = make_cfg(*OVERRIDES, f"train.max_examples={MAX_EXAMPLES}", f"warehouse={tmp_path / 'sample'}")
    for cfg in (full_cfg, sample_cfg):
        overwrite_table(source_df, cfg.input_path)
    spec = run_build_features(spark, full_cfg).spec
    run_build_features(spark, sample_cfg)
    full_df = spark.read.format("delta").load(full_cfg.table("training_examples"))
    actual_df = spark.read.format("delta").load(sample_cfg.table("training_examples"))

    # The trainer's draw from the full table, with the calendar's counts: the rows the sampled table holds.
    counted = spec.calendar.examples_per_day
    train_days, val_day = split_days(spec.label_days)
    train_total, val_total = sum(counted[d] for d in train_days), counted[val_day]
    expected_df = sample_days(full_df, train_days, MAX_EXAMPLES, sample_cfg.seed, train_total).unionByName(
        sample_days(full_df, [val_day], MAX_EXAMPLES, sample_cfg.seed, val_total)
    )
    assert full_df.count() == sum(counted.values()) > 2 * MAX_EXAMPLES
    assert 0 < actual_df.count() < full_df.count()
    assert_df_equality(actual_df, expected_df, ignore_row_order=True, ignore_nullable=True)
    # Drawing again from the sampled table keeps every row: the trainer sees the same examples either way.
    again = sample_days(actual_df, train_days, MAX_EXAMPLES, sample_cfg.seed, train_total)
    assert again.count() == actual_df.where(F.col("dt").isin(train_days)).count()
