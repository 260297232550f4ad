from __future__ import annotations

import datetime as dt
import sys

from chispa import assert_df_equality
from pyspark.sql import types as T

from acq_spark.platform.delta_tables import delta_version, replace_days


def test_session_has_delta_and_pinned_python(spark):
    conf = spark.sparkContext.getConf()
    assert "DeltaSparkSessionExtension" in conf.get("spark.sql.extensions")
    assert conf.get("spark.pyspark.python") == sys.executable
    assert conf.get("spark.ui.enabled") == "false"


def test_the_configured_java_options_reach_the_driver_jvm(spark):
    """``spark.java_options`` (conf/test.yaml: the C1 JIT and the serial GC) is in the running JVM's arguments,
    beside the project's log4j file."""
    runtime = spark._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    arguments = set(runtime.getInputArguments())
    assert {"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"} <= arguments
    assert any(a.startswith("-Dlog4j2.configurationFile=file:") for a in arguments)


def test_python_workers_start_with_tensorflow_imported_by_the_daemon_they_fork_from(spark):
    """``spark.preload_tensorflow`` (on by default) in a session that scores (the suite's, as the nightly's): the
    workers fork from ``acq_spark.scoring.daemon``, which imported TensorFlow once, so a scoring task does not
    import it again in every worker. Jobs that do not score, and a daemon of the user's own, keep theirs."""
    from acq_spark.config import SparkConfig
    from acq_spark.platform.session import DAEMON_MODULE, spark_conf, tensorflow_daemon

    def worker_modules(batches):  # which of TensorFlow and Keras the worker had imported before this task
        import pyarrow as pa

        for _ in batches:
            pass
        loaded = [int(name in sys.modules) for name in ("tensorflow", "keras")]
        yield pa.RecordBatch.from_arrays([pa.array(loaded, pa.int64())], names=["loaded"])

    assert spark.sparkContext.getConf().get("spark.python.daemon.module") == DAEMON_MODULE
    rows = spark.range(4, numPartitions=2).mapInArrow(worker_modules, "loaded long").collect()
    assert [r["loaded"] for r in rows] == [1, 1] * 2, "every task's worker had TensorFlow and Keras already"
    assert tensorflow_daemon(SparkConfig()) == {"spark.python.daemon.module": DAEMON_MODULE}
    assert "spark.python.daemon.module" not in spark_conf(SparkConfig())
    assert tensorflow_daemon(SparkConfig(preload_tensorflow=False)) == {}
    assert tensorflow_daemon(SparkConfig(conf={"spark.python.daemon.module": "site.daemon"})) == {}


def test_delta_round_trip_and_day_replacement(spark, tmp_path):
    schema = T.StructType([T.StructField("dt", T.DateType()), T.StructField("x", T.LongType())])
    d1, d2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)
    source_df = spark.createDataFrame([(d1, 1), (d1, 2), (d2, 3), (d2, None)], schema)
    path = str(tmp_path / "t")
    replace_days(source_df, path, [d1, d2])
    assert_df_equality(
        spark.read.format("delta").load(path), source_df, ignore_row_order=True, ignore_column_order=True
    )

    replace_days(spark.createDataFrame([(d2, 30)], schema), path, [d2])
    actual_df = spark.read.format("delta").load(path)
    expected_df = spark.createDataFrame([(d1, 1), (d1, 2), (d2, 30)], schema)
    assert_df_equality(actual_df, expected_df, ignore_row_order=True, ignore_column_order=True)
    assert delta_version(spark, path) == 1
    assert delta_version(spark, str(tmp_path / "none")) is None


def test_delta_version_is_the_latest_commit_past_a_checkpoint_and_none_without_a_table(spark, tmp_path):
    from delta.tables import DeltaTable

    path = str(tmp_path / "t")
    assert delta_version(spark, path) is None
    (tmp_path / "t" / "_delta_log").mkdir(parents=True)
    assert delta_version(spark, path) is None, "a log folder without commits is no table"
    spark.range(1).write.format("delta").save(path)
    spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('delta.checkpointInterval' = '2')")
    for i in range(2):  # past a checkpoint: 00..02.checkpoint.parquet in the log
        spark.range(i + 2).write.format("delta").mode("overwrite").save(path)
    assert any(p.name.endswith(".checkpoint.parquet") for p in (tmp_path / "t" / "_delta_log").iterdir())
    history = DeltaTable.forPath(spark, path).history(1).select("version").first()[0]
    assert delta_version(spark, path) == history == 3
