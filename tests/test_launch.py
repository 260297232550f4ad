"""Who owns the launch settings: spark-submit's command line wins over the YAML, and Delta's jars must come with it."""

from __future__ import annotations

import re
import subprocess
import sys

from acq_spark.cluster.submit import spark_submit_binary, submit_env
from acq_spark.config import PROJECT_ROOT, load_config
from acq_spark.jars import local_delta_jars
from acq_spark.spark import LAUNCH_KEYS, submitted_conf

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
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in output, output[-3000:]
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
