"""Who owns the launch settings: spark-submit's command line wins over the YAML, and Delta's jars must come with it."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

from acq_spark import PROJECT_ROOT
from acq_spark.cluster.dist import Dist
from acq_spark.cluster.submit import spark_submit_binary, submit_env
from acq_spark.config import load_config
from acq_spark.platform.jars import local_delta_jars
from acq_spark.platform.session import LAUNCH_KEYS, submitted_conf

TEST_CONFIG = PROJECT_ROOT / "conf" / "test.yaml"


def _spark_submit(*options: str, job_args: list[str]) -> subprocess.CompletedProcess[str]:
    command = [
        str(spark_submit_binary()),
        "--master",
        "local[2]",
        "--conf",
        f"spark.pyspark.python={sys.executable}",
        *options,
        str(PROJECT_ROOT / "jobs" / "simulate.py"),
        "--config",
        str(TEST_CONFIG),
        *job_args,
    ]
    env = submit_env("local[2]")
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)


def test_a_job_under_spark_submit_runs_with_its_master_and_driver_memory_not_the_yaml(tmp_path):
    yaml_says = ["--set", "spark.master=local[1]", "--set", "spark.driver_memory=3g", "--set", "simulate.n_pairs=40"]
    jars = ",".join(str(j) for j in local_delta_jars())
    done = _spark_submit(
        "--driver-memory", "1200m", "--jars", jars, job_args=["--set", f"warehouse={tmp_path}", *yaml_says]
    )

    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    line = re.search(r"spark: master (\S+), driver memory (\S+) \(heap ([\d.]+) GiB\).*launched by (.+)", output)
    assert line, output[-3000:]
    assert line.group(1, 2, 4) == ("local[2]", "1200m", "spark-submit")
    assert 0.9 < float(line.group(3)) < 1.25  # the JVM has spark-submit's heap: not 3g, not the default 1g
    assert (tmp_path / "creative_daily" / "_delta_log").is_dir()


def test_spark_submit_without_delta_jars_says_how_to_pass_them(tmp_path):
    done = _spark_submit(job_args=["--set", f"warehouse={tmp_path}", "--set", "simulate.n_pairs=40"])

    output = done.stdout + done.stderr  # spark-submit merges the Python driver's stderr into stdout
    assert done.returncode == 1
    lines = output.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    assert len(errors) == 1, output[-3000:]  # one summary line, after the traceback the log keeps
    assert "Traceback" not in "\n".join(lines[errors[0]:])
    errors = [lines[errors[0]]]
    assert errors[0].startswith("error: Delta Lake's jars are not on the driver's classpath")
    assert "--jars" in errors[0] and "python -m acq_spark.cluster submit" in errors[0]
    assert not (tmp_path / "creative_daily").exists()


def test_under_spark_submit_the_yaml_fills_in_only_what_the_launcher_left_unset():
    cfg = load_config(TEST_CONFIG, ["spark.conf.spark.sql.shuffle.partitions=7", "spark.conf.spark.executor.cores=4"])
    launcher = {"spark.master": "yarn", "spark.app.name": "nightly.py", "spark.sql.shuffle.partitions": "64"}

    conf = submitted_conf(cfg.spark, launcher, app_name="acq-nightly")

    assert not set(conf) & LAUNCH_KEYS  # no master, memory, cores, Python or jars from the YAML
    assert "spark.sql.shuffle.partitions" not in conf  # the launcher's 64 stays
    assert conf["spark.app.name"] == "acq-nightly"  # spark-submit's default name (the script) is replaced
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    named = submitted_conf(cfg.spark, {**launcher, "spark.app.name": "team-nightly"}, app_name="acq-nightly")
    assert "spark.app.name" not in named  # --name given: the launcher's


def _print_submit(*argv: str) -> list[str]:
    command = [sys.executable, "-m", "acq_spark.cluster", "submit", "--print", *argv]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    return shlex.split(done.stdout.strip())


def test_submit_print_ships_the_environment_archive_jars_and_log4j_for_a_cluster_master():
    dist = Dist.load()

    line = _print_submit("--master", "yarn", "--executor-memory", "4g", "nightly", "--config", str(TEST_CONFIG))

    assert line[:5] == [str(spark_submit_binary()), "--master", "yarn", "--deploy-mode", "client"]
    assert line[line.index("--executor-memory") + 1] == "4g" and "--driver-memory" not in line
    assert line[line.index("--archives") + 1] == f"{dist.archive}#environment"
    assert line[line.index("--jars") + 1].split(",") == [str(j) for j in dist.jars]
    confs = dict(line[i + 1].split("=", 1) for i, arg in enumerate(line) if arg == "--conf")
    assert confs["spark.pyspark.python"] == "./environment/bin/python"
    assert confs["spark.pyspark.driver.python"] == sys.executable
    assert confs["spark.driver.extraJavaOptions"] == f"-Dlog4j2.configurationFile=file:{dist.log4j}"
    assert line[-3:] == [str(PROJECT_ROOT / "jobs" / "nightly.py"), "--config", str(TEST_CONFIG)]


def test_submit_print_ships_the_s3a_jars_only_to_a_job_whose_warehouse_is_in_a_bucket():
    dist = Dist.load()
    s3a_job = _print_submit("--master", "spark://h:7077", "nightly", "--set", "warehouse=s3a://bucket/wh")
    local_job = _print_submit("--master", "spark://h:7077", "nightly", "--set", "warehouse=/shared/wh")

    assert dist.s3a_jars and {j.name for j in dist.s3a_jars} >= {"org.apache.hadoop_hadoop-aws-3.5.0.jar"}
    assert s3a_job[s3a_job.index("--jars") + 1].split(",") == [str(j) for j in (*dist.jars, *dist.s3a_jars)]
    assert local_job[local_job.index("--jars") + 1].split(",") == [str(j) for j in dist.jars]


def test_submit_print_with_dist_installed_on_the_hosts_ships_no_archive_and_no_sdk():
    # the cluster tests run their applications this way (tests/cluster/conftest.py's ``installed``)
    dist = Dist.load()
    line = _print_submit("--installed", "/opt/acq", "--master", "spark://h:7077", "nightly",
                         "--set", "warehouse=s3a://bucket/wh")

    assert "--archives" not in line
    assert line[line.index("--jars") + 1].split(",") == [str(j) for j in dist.jars]  # Delta's, not the SDK
    confs = dict(line[i + 1].split("=", 1) for i, arg in enumerate(line) if arg == "--conf")
    assert confs["spark.pyspark.python"] == "/opt/acq/environment/bin/python"
    assert confs["spark.executor.extraClassPath"] == "/opt/acq/jars/s3a/*"
    assert line[line.index("--driver-class-path") + 1].split(":") == [str(j) for j in dist.s3a_jars]


def test_installing_a_dist_that_was_never_built_says_to_build_it(tmp_path):
    command = [sys.executable, "-m", "acq_spark.cluster.dist", "--out", str(tmp_path / "dist"), "--install",
               str(tmp_path / "acq")]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and done.stderr.strip().splitlines()[-1].startswith("error: no ")
    assert "run `make dist`" in done.stderr and not (tmp_path / "acq").exists()


def test_submit_print_in_cluster_mode_ships_the_config_file_too():
    line = _print_submit("--master", "yarn", "--deploy-mode", "cluster", "nightly", "--config", str(TEST_CONFIG))

    assert line[line.index("--files") + 1].split(",")[0] == str(TEST_CONFIG)
    assert line[-2:] == ["--config", "test.yaml"]  # the driver finds it in its working folder
    confs = dict(line[i + 1].split("=", 1) for i, arg in enumerate(line) if arg == "--conf")
    assert "spark.pyspark.driver.python" not in confs  # the driver on the cluster runs ./environment/bin/python


def test_submit_print_for_local_mode_runs_this_python_without_an_archive():
    line = _print_submit("--master", "local[2]", "--driver-memory", "2g", "validate")

    assert "--archives" not in line and line[line.index("--driver-memory") + 1] == "2g"
    confs = dict(line[i + 1].split("=", 1) for i, arg in enumerate(line) if arg == "--conf")
    assert confs["spark.pyspark.python"] == sys.executable
