"""The one SparkSession factory for every job and every test.

Delta Lake's jars are resolved from Maven Central once, at set-up (``make setup`` runs
``python -m acq_spark.jars``), into the local Ivy cache and copied to ``.jars/``; the
session then ships those local files with ``spark.jars`` so no job touches the network.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from pyspark.sql import SparkSession

from acq_spark.config import PROJECT_ROOT, SparkConfig
from acq_spark.jars import local_delta_jars

LOG4J_CONFIG = PROJECT_ROOT / "conf" / "log4j2.properties"
ARROW_BATCH_ROWS = 16_384  # rows per Arrow batch sent to Python workers (= the default score.batch_size)


def spark_conf(cfg: SparkConfig, app_name: str | None = None) -> dict[str, str]:
    """Every Spark setting the project needs, as a plain mapping (also used for spark-submit)."""
    python = sys.executable
    conf = {
        "spark.master": cfg.master,
        "spark.app.name": app_name or cfg.app_name,
        "spark.jars": ",".join(str(p) for p in local_delta_jars()),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.pyspark.python": python,
        "spark.pyspark.driver.python": python,
        "spark.executorEnv.PYSPARK_PYTHON": python,
        "spark.sql.shuffle.partitions": str(cfg.shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # Arrow batches to Python workers: bounded by rows only. At Int.MaxValue bytes Spark skips
        # its per-row size check while filling a batch, 7-14% of the scoring JVM's time.
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(ARROW_BATCH_ROWS),
        "spark.sql.execution.arrow.maxBytesPerBatch": str(2**31 - 1),
        "spark.sql.adaptive.enabled": "true",
        "spark.driver.memory": cfg.driver_memory,
        "spark.executor.memory": cfg.executor_memory,
        "spark.ui.enabled": str(cfg.ui).lower(),
        "spark.ui.showConsoleProgress": str(cfg.progress).lower(),
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{LOG4J_CONFIG}",
        "spark.executor.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{LOG4J_CONFIG}",
    }
    conf.update(cfg.conf)
    return conf


def get_spark(cfg: SparkConfig, app_name: str | None = None, extra: Mapping[str, str] | None = None) -> SparkSession:
    """Build (or reuse) the SparkSession: Delta on, workers pinned to this interpreter, quiet logs.

    Args:
        cfg: the ``spark`` section of the configuration.
        app_name: the application name shown by Spark (defaults to ``cfg.app_name``).
        extra: further ``spark.*`` settings, applied last.

    Returns:
        The active SparkSession. Under ``spark-submit`` the JVM already exists and the settings
        fixed at launch (master, jars, memory) come from the submit command instead.
    """
    if cfg.master.startswith("local") or "127.0.0.1" in cfg.master:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = SparkSession.builder
    for key, value in {**spark_conf(cfg, app_name), **(extra or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(cfg.log_level)
    return spark
