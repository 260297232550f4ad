"""The DuckDB reference of the feature stage (benchmarks/duckdb_features.py) computes the same features as Spark,
so that the benchmark's time ratio compares the same work."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from pyspark.sql import functions as F

from acq_spark import PROJECT_ROOT
from acq_spark.features.assemble import feature_columns
from acq_spark.features.columns import LEVEL, OBS
from acq_spark.features.job import run_build_features
from acq_spark.simulate.job import run_simulation

sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
import duckdb_features

KEYS = ["dt", "account_id", "photo_id"]


def test_duckdb_reference_equals_the_spark_features(spark, make_cfg, tmp_path):
    cfg = make_cfg("simulate.n_pairs=300", "features.training_examples=sample", "train.max_examples=1500")
    run_simulation(spark, cfg)
    run_build_features(spark, cfg)
    files, spec, vocab, keys = duckdb_features.run_files(spark, cfg)
    out = tmp_path / "duckdb.parquet"
    rows, _ = duckdb_features.duckdb_features(files, spec, vocab, keys, out, threads=2)

    columns = [*feature_columns(spec["windows"])]
    examples = spark.read.format("delta").load(cfg.table("training_examples"))
    examples = examples.where(F.col("dt").isin(spec["label_days"])).select(*KEYS, *columns, LEVEL)
    scoring = spark.read.format("delta").load(cfg.table("scoring_rows")).select(*KEYS, *columns)
    scoring = scoring.where(F.col("dt") == F.lit(spec["decision_day"]))
    want = pd.concat([examples.toPandas(), scoring.toPandas()], ignore_index=True)
    got = pd.read_parquet(out)
    assert rows == len(got) == len(want) > len(spec["per_day"])
    assert len(examples.toPandas()) < sum(n for _, _, n in spec["per_day"].values())  # the sample, not every row
    want["dt"], got["dt"] = pd.to_datetime(want["dt"]), pd.to_datetime(got["dt"])
    want, got = (df.sort_values(KEYS).reset_index(drop=True) for df in (want, got))
    pd.testing.assert_frame_equal(want[KEYS], got[KEYS], check_dtype=False)
    for column in columns:
        if column == OBS:
            assert [list(x) for x in want[column]] == [list(x) for x in got[column]]
        else:
            np.testing.assert_allclose(got[column].astype(float), want[column].astype(float), rtol=1e-9, atol=1e-9,
                                       err_msg=column)  # fmt: skip
    labelled = want[LEVEL].notna()
    assert (got.loc[labelled, LEVEL].astype(int) == want.loc[labelled, LEVEL].astype(int)).all()
