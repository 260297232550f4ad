"""Jobs on a real standalone cluster of "foreign hosts": two worker JVMs that cannot see the checkout."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from chispa import assert_df_equality
from cluster_submit import OWNER, remove_abandoned_hosts
from pyspark.sql import types as T

from acq_spark import PROJECT_ROOT
from acq_spark.cluster import ClusterError, StandaloneCluster
from acq_spark.cluster.processes import alive
from acq_spark.config import load_config

pytestmark = pytest.mark.cluster

SQUARES_JOB = Path(__file__).parent / "jobs" / "squares.py"
SQUARES_SCHEMA = T.StructType([T.StructField("id", T.LongType()), T.StructField("square", T.LongType())])


def read_markers(folder: Path, suffix: str) -> dict[str, dict]:
    """The squares job's task markers by task: ``{"p0-t3": {"partition": 0, "task": 3, ...}}``."""
    markers = {}
    for path in folder.glob(f"*{suffix}"):
        try:
            markers[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError):  # being written right now
            continue
    return markers


def worker_slot(cluster: StandaloneCluster, folder: str) -> int:
    """The worker slot whose work dir holds an executor folder (-1: none of them)."""
    return next((i for i, w in enumerate(cluster.workers) if Path(folder).is_relative_to(w.work_dir)), -1)


def expected_squares(spark, rows: int):
    return spark.createDataFrame([(i, i * i) for i in range(rows)], SQUARES_SCHEMA)


def test_two_foreign_workers_run_a_job_in_the_shipped_environment(standalone_cluster, submit, spark, shared_path):
    workers = standalone_cluster.master_state()["workers"]
    alive_workers = [w for w in workers if w["state"] == "ALIVE"]
    assert [(w["cores"], w["memory"]) for w in alive_workers] == [(1, 1024), (1, 1024)]
    pids = standalone_cluster.worker_pids
    assert len(set(pids)) == 2 and standalone_cluster.master.pid not in pids and all(map(alive, pids))

    markers, probe = shared_path / "markers", PROJECT_ROOT / "pyproject.toml"
    options = ["--markers", str(markers), "--sleep", "0.5", "--probe", str(probe)]
    result = submit(SQUARES_JOB, "--set", f"warehouse={shared_path}", *options, ship=True)

    assert json.loads(result.stdout.splitlines()[-1]) == {"table": str(shared_path / "squares")}
    tasks = read_markers(markers, ".done")
    assert {worker_slot(standalone_cluster, t["folder"]) for t in tasks.values()} == {0, 1}
    # every task ran the archive's Python and its installed acq_spark, and could not see the checkout
    for t in tasks.values():
        assert Path(t["python"]).parts[-3:] == ("environment", "bin", "python"), t
        assert Path(t["python"]).is_relative_to(t["folder"]) and "site-packages" in Path(t["acq_spark"]).parts, t
        assert not t["sees_probe"] and probe.is_file(), t
        assert t["default_levels"] == list(load_config().levels), t
    actual_df = spark.read.format("delta").load(str(shared_path / "squares"))
    assert_df_equality(actual_df, expected_squares(spark, 400), ignore_row_order=True)
    finished = standalone_cluster.master_state()["completedapps"]
    assert [app["state"] for app in finished if app["name"] == "acq-cluster-squares"][-1:] == ["FINISHED"]


def test_a_failing_job_raises_with_the_tail_of_its_output(submit):
    with pytest.raises(ClusterError, match=r"(?s)exit 2.*unknown configuration key: no_such"):
        submit("simulate", "--set", "no_such.key=1")


def test_the_hosts_folders_of_a_killed_session_are_removed_and_no_live_one(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    folders = {name: tmp_path / f"acq-foreign-host-{name}" for name in ("killed", "live", "starting", "other")}
    for name, folder in folders.items():
        (folder / "spark").mkdir(parents=True)
    (folders["killed"] / OWNER).write_text(str(gone.pid))
    (folders["live"] / OWNER).write_text(str(os.getpid()))
    (folders["other"] / OWNER).write_text(str(gone.pid))
    folders["other"].rename(tmp_path / "not-a-host")

    assert remove_abandoned_hosts(tmp_path) == [folders["killed"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["acq-foreign-host-live", "acq-foreign-host-starting", "not-a-host"]
    )
