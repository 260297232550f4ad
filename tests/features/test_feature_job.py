"""The feature job end to end on a tiny Delta input: tables, artifacts, decision-day scoring rows, idempotence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from feature_sample import day

from acq_spark.features.assemble import feature_columns
from acq_spark.features.columns import NUMERIC_PACKED, numeric_feature_columns
from acq_spark.features.job import SPEC_FILE, VOCAB_FILE, features_root, run_build_features
from acq_spark.features.spec import FeatureSpec
from acq_spark.ingest.run_calendar import RunCalendar
from acq_spark.platform.delta_tables import overwrite_table
from acq_spark.platform.run_log import StageTimer

OVERRIDES = ("features.windows=[1,3]", "levels=[1,2,5]", "features.train_days=3")


def table_rows(spark, path: str) -> list:
    return sorted(spark.read.format("delta").load(path).collect())


def test_build_features_writes_examples_scoring_rows_and_artifacts(spark, make_cfg, source_df):
    cfg = make_cfg(*OVERRIDES)
    overwrite_table(source_df, cfg.input_path)

    timer = StageTimer()
    spec = run_build_features(spark, cfg, timer).spec
    # run on its own, the job validates the input itself, and says so in its first stage line
    validated = timer.as_dict()["validate"]
    assert timer.records[0].name == "validate"
    assert (validated["rows"], validated["days"], validated["decision_day"]) == (source_df.count(), 5, str(day(7)))

    examples = spark.read.format("delta").load(cfg.table("training_examples"))
    keys = ["dt", "account_id", "photo_id"]
    assert examples.columns == [*keys, *feature_columns((1, 3)), "level_idx", "n_creatives", "cost"]
    # Label days 3, 5, 6; the paused row of day 3 has no level.
    labels = {(r["dt"], r["account_id"], r["photo_id"]): (r["level_idx"], r["cost"]) for r in examples.collect()}
    assert labels == {
        (day(5), 1, 11): (1, 3.0),
        (day(6), 1, 10): (2, 4.0),
        (day(6), 1, 11): (0, 0.0),
        (day(6), 2, 20): (0, 0.5),
    }
    scoring = {(r["dt"], r["account_id"], r["photo_id"]): r for r in table_rows(spark, cfg.table("scoring_rows"))}
    assert set(scoring) == {(day(7), 1, 10), (day(7), 1, 11), (day(7), 2, 20)}
    assert [scoring[(day(7), 1, 10)][c] for c in ("product_name_idx", "cost_7d", "cost_sum_1d")] == [1, 7.0, 4.0]
    assert [scoring[(day(7), 2, 20)][c] for c in ("product_name_idx", "industry_l1_idx")] == [0, 2]
    # The scorer's input: the numeric features again, packed as float32 in the spec's order and named.
    names = numeric_feature_columns((1, 3))
    stored = spark.read.format("delta").load(cfg.table("scoring_rows")).schema[NUMERIC_PACKED]
    assert stored.metadata["features"] == names
    for row in scoring.values():
        assert row[NUMERIC_PACKED] == [float(np.float32(row[c])) for c in names]

    root = Path(features_root(cfg.warehouse))
    version = (root / "LATEST").read_text().strip()
    assert version.startswith(f"{day(7)}_")
    assert json.loads((root / version / VOCAB_FILE).read_text())["vocabularies"] == {
        "product_name": ["p1", "p2"],
        "industry_l1": ["i1", "i2"],
        "industry_l2": ["j1", "j2", "j3"],
    }
    assert spec.to_dict() == json.loads((root / version / SPEC_FILE).read_text())
    assert FeatureSpec.from_dict(spec.to_dict()) == spec
    assert list(spec.numeric_features) == numeric_feature_columns((1, 3))
    assert [s.vocab_size for s in spec.sparse_features] == [3, 3, 4]
    assert (spec.decision_day, spec.calendar.last_input_day) == (day(7), day(6))
    assert spec.label_days == (day(3), day(5), day(6))
    assert spec.calendar.last_day_creatives == 5 + 1 + 1  # day 6's n_creatives at levels (1, 2, 5)
    assert spec.calendar == RunCalendar(day(7), day(6), (day(3), day(5), day(6)), 7)

    before = [table_rows(spark, cfg.table(t)) for t in ("training_examples", "scoring_rows")]
    artifacts = [(root / version / a).read_bytes() for a in (VOCAB_FILE, SPEC_FILE)]
    again = run_build_features(spark, cfg, source=source_df)  # validation is not this job's to re-test
    assert [table_rows(spark, cfg.table(t)) for t in ("training_examples", "scoring_rows")] == before
    assert (root / "LATEST").read_text().strip() == again.version
    assert [(root / again.version / a).read_bytes() for a in (VOCAB_FILE, SPEC_FILE)] == artifacts
