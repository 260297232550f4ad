"""The one SparkSession factory for every job and every test.

Two ways a job starts, and who owns the launch settings (master, deploy mode, memory, cores, the
Python executables, the jars and the driver's JVM options):

* ``python jobs/<job>.py``: the project launches the JVM, so the ``spark`` section of the
  configuration sets them (``spark.master``, ``driver_memory``, ...), and Delta's jars come from
  ``.jars/`` (resolved once at set-up by ``python -m acq_spark.platform.jars``).
* ``spark-submit jobs/<job>.py`` (or ``python -m acq_spark.cluster submit``): the JVM exists before
  any project code runs. The launch settings are spark-submit's and spark-defaults', and the YAML
  never overrides them; every other project setting applies only where the launcher set nothing.
  Delta's jars must come with the launch (``--jars``): their absence is one clear error.

Object stores: the ``fs.s3a.*`` settings the standard AWS environment implies (:mod:`acq_spark.platform.s3a`)
are added as ``spark.hadoop.fs.s3a.*`` under the explicit ones (``spark.conf``, spark-defaults), and
the session's settings then configure the Python side (:mod:`acq_spark.platform.fs`) the same way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from pyspark.sql import SparkSession

from acq_spark.config import SparkConfig
from acq_spark.errors import MissingJarsError
from acq_spark.platform import fs, s3a
from acq_spark.platform.frames import jvm
from acq_spark.platform.jars import local_delta_jars, local_s3a_jars
from acq_spark.platform.run_log import LOG, setup_logging
from acq_spark.resources import LOG4J_CONFIG

ARROW_BATCH_ROWS = 16_384  # rows per Arrow batch sent to Python workers (= the default score.batch_size)
DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DAEMON_MODULE = "acq_spark.scoring.daemon"  # Spark's Python daemon, with TensorFlow imported before it forks workers

# Fixed when the JVM and the executors are launched: the launcher's, never the YAML's under spark-submit.
LAUNCH_KEYS = frozenset(
    {
        "spark.master",
        "spark.submit.deployMode",
        "spark.driver.memory",
        "spark.driver.cores",
        "spark.driver.extraJavaOptions",
        "spark.driver.extraClassPath",
        "spark.executor.memory",
        "spark.executor.cores",
        "spark.executor.instances",
        "spark.executor.extraJavaOptions",
        "spark.cores.max",
        "spark.jars",
        "spark.jars.packages",
        "spark.archives",
        "spark.files",
        "spark.submit.pyFiles",
        "spark.pyspark.python",
        "spark.pyspark.driver.python",
        "spark.executorEnv.PYSPARK_PYTHON",
    }
)


def under_spark_submit() -> bool:
    """Whether this Python process was started by ``spark-submit`` (its JVM is already running)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def spark_conf(cfg: SparkConfig, app_name: str | None = None) -> dict[str, str]:
    """Every Spark setting the project wants when it launches the JVM itself (``python jobs/<job>.py``)."""
    python = sys.executable
    java_options = f"-Dlog4j2.configurationFile=file:{LOG4J_CONFIG} {cfg.java_options}".strip()
    s3a_jars = [str(p) for p in local_s3a_jars()]
    # In local mode the executors are the driver's JVM: its class path is enough, and saves copying the
    # AWS SDK (650 MiB) into every application's work folder.
    shipped = [] if cfg.master.startswith("local") else s3a_jars
    conf = {
        "spark.master": cfg.master,
        "spark.app.name": app_name or cfg.app_name,
        "spark.jars": ",".join([*(str(p) for p in local_delta_jars()), *shipped]),
        "spark.driver.extraClassPath": os.pathsep.join(s3a_jars),
        "spark.pyspark.python": python,
        "spark.pyspark.driver.python": python,
        "spark.executorEnv.PYSPARK_PYTHON": python,
        "spark.driver.memory": cfg.driver_memory,
        "spark.executor.memory": cfg.executor_memory,
        "spark.driver.extraJavaOptions": java_options,
        "spark.executor.extraJavaOptions": java_options,
        **session_conf(cfg),
    }
    conf.update(cfg.conf)
    return conf


def session_conf(cfg: SparkConfig) -> dict[str, str]:
    """The settings that are the project's whoever launched the JVM (Delta, Arrow, shuffle, UI, AWS environment)."""
    return {
        **s3a.spark_settings({**s3a.RETRIES, **s3a.derived_settings(os.environ)}),
        "spark.sql.extensions": DELTA_EXTENSION,
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.shuffle.partitions": str(cfg.shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # Arrow batches to Python workers: bounded by rows only. At Int.MaxValue bytes Spark skips
        # its per-row size check while filling a batch (BENCHMARKS.md, scoring throughput).
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(ARROW_BATCH_ROWS),
        "spark.sql.execution.arrow.maxBytesPerBatch": str(2**31 - 1),
        "spark.sql.adaptive.enabled": "true",
        # A generated method over 8,000 bytes of bytecode is never JIT-compiled by the JVM (DontCompileHugeMethods):
        # Spark's default limit (65,535) lets such methods run interpreted. The simulator's wide projection hit
        # that: unfused code, JIT-compiled, computes its rows several times faster (BENCHMARKS.md).
        "spark.sql.codegen.hugeMethodLimit": "8000",
        # The validated rows are partitioned by account once (validation.by_account); joins and windows on
        # (account, pair) or (account, day) then reuse it instead of shuffling input-sized data again.
        "spark.sql.requireAllClusterKeysForCoPartition": "false",
        "spark.ui.enabled": str(cfg.ui).lower(),
        "spark.ui.showConsoleProgress": str(cfg.progress).lower(),
        "spark.databricks.delta.snapshotPartitions": "2",
        # Parquet TIMESTAMP(NANOS) (pandas' datetime64[ns]) is otherwise unreadable; as a long of nanoseconds,
        # input_days turns an input dt of it into its date.
        "spark.sql.legacy.parquet.nanosAsLong": "true",
    }


def submitted_conf(
    cfg: SparkConfig,
    launcher: Mapping[str, str],
    app_name: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The settings to add under ``spark-submit``: the project's, where the launcher set nothing.

    Args:
        cfg: the ``spark`` section of the configuration.
        launcher: what spark-submit and spark-defaults set (the running JVM's ``SparkConf``).
        app_name: the application name, unless the launcher was given one (``--name``).
        extra: further settings of the caller, filtered the same way.

    Returns:
        Settings that are neither launch settings nor already set by the launcher.
    """
    wanted = {**session_conf(cfg), **cfg.conf, **(extra or {})}
    conf = {k: v for k, v in wanted.items() if k not in LAUNCH_KEYS and k not in launcher}
    # spark-submit names every application after its script unless given --name
    if launcher.get("spark.app.name", "").endswith(".py") or "spark.app.name" not in launcher:
        conf["spark.app.name"] = app_name or cfg.app_name
    return conf


def _launcher_conf() -> dict[str, str]:
    """The running JVM's settings from spark-submit and spark-defaults (connects to its gateway)."""
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()
    return dict(SparkConf().getAll())


def _check_delta_on_classpath() -> None:
    from py4j.java_gateway import JavaClass
    from pyspark import SparkContext

    gateway = SparkContext._jvm
    assert gateway is not None, "_launcher_conf started the JVM gateway"
    if not isinstance(gateway.io.delta.sql.DeltaSparkSessionExtension, JavaClass):
        try:
            jars = ",".join(str(p) for p in local_delta_jars())
        except MissingJarsError:
            jars = "<the jars of `python -m acq_spark.platform.jars`>"
        # the advice before the jars' paths: a deep checkout's paths run past the one line the job prints
        raise MissingJarsError(
            "Delta Lake's jars are not on the driver's classpath: submit with `python -m acq_spark.cluster submit`, "
            "which ships them (and the Python environment) for you, or pass them at launch: "
            f"`spark-submit --jars {jars} ...`"
        )


def tensorflow_daemon(cfg: SparkConfig) -> dict[str, str]:
    """The setting that forks a job's Python workers from :data:`DAEMON_MODULE` (TensorFlow imported once).

    Empty when ``cfg.preload_tensorflow`` is off or ``cfg.conf`` names a daemon of its own.
    """
    if not cfg.preload_tensorflow or "spark.python.daemon.module" in cfg.conf:
        return {}
    return {"spark.python.daemon.module": DAEMON_MODULE}


def get_spark(
    cfg: SparkConfig, app_name: str | None = None, extra: Mapping[str, str] | None = None, scores: bool = False
) -> SparkSession:
    """Build (or reuse) the SparkSession: Delta on, quiet logs, launch settings from their owner.

    Args:
        cfg: the ``spark`` section of the configuration.
        app_name: the application name shown by Spark (defaults to ``cfg.app_name``).
        extra: further ``spark.*`` settings, applied last (under spark-submit: where the launcher set none).
        scores: the job scores with the model: its Python workers start with TensorFlow imported
            (:func:`tensorflow_daemon`). Other jobs keep Spark's daemon, which starts in a fraction of a second.

    Returns:
        The active SparkSession; one log line names its master and memory and who set them.

    Raises:
        MissingJarsError: under spark-submit, Delta's jars were not passed at launch.
    """
    setup_logging()
    if scores:
        extra = {**tensorflow_daemon(cfg), **(extra or {})}
    if under_spark_submit():
        launcher = _launcher_conf()
        _check_delta_on_classpath()
        conf = submitted_conf(cfg, launcher, app_name, extra)
    else:
        if cfg.master.startswith("local") or "127.0.0.1" in cfg.master:
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        conf = {**spark_conf(cfg, app_name), **(extra or {})}
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(cfg.log_level)
    fs.configure(s3a.effective_settings(os.environ, dict(spark.sparkContext.getConf().getAll())))
    LOG.info("%s", describe_launch(spark))
    return spark


def describe_launch(spark: SparkSession) -> str:
    """``spark: master local[2], driver memory 2g (heap 1.9 GiB), executor memory 1g, by spark-submit``."""
    conf = spark.sparkContext.getConf()
    heap = jvm(spark).java.lang.Runtime.getRuntime().maxMemory() / 2**30
    return (
        f"spark: master {spark.sparkContext.master}, driver memory {conf.get('spark.driver.memory', '1g')} "
        f"(heap {heap:.1f} GiB), executor memory {conf.get('spark.executor.memory', '1g')}, "
        f"launched by {'spark-submit' if under_spark_submit() else 'the job (python)'}"
    )
