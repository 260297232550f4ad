"""Stage timing: the Spark UI names the stage that started each job."""

from __future__ import annotations

import pytest

from acq_spark.platform.run_log import StageTimer, set_run_id


def test_a_stage_names_its_spark_jobs_and_restores_the_description(spark):
    sc = spark.sparkContext
    run_id = set_run_id("20261202T043001Z-abc123")
    timer = StageTimer()
    with timer.stage("features: scoring_rows"):
        assert sc.getLocalProperty("spark.job.description") == f"acq features: scoring_rows (run {run_id})"
        assert sc.getLocalProperty("spark.jobGroup.id") == f"acq-{run_id}"
        with timer.stage("inner"):
            assert sc.getLocalProperty("spark.job.description") == f"acq inner (run {run_id})"
        assert sc.getLocalProperty("spark.job.description").startswith("acq features")
    assert sc.getLocalProperty("spark.job.description") is None and sc.getLocalProperty("spark.jobGroup.id") is None
    with pytest.raises(ValueError), timer.stage("failing"):
        raise ValueError("x")
    assert sc.getLocalProperty("spark.job.description") is None
    assert [r.name for r in timer.records] == ["inner", "features: scoring_rows"]
