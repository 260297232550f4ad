"""Jobs on a real standalone cluster: two worker JVMs, the same output as local mode, a lost worker survived."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import types as T

from acq_spark.cluster import ClusterError, StandaloneCluster, SubmittedJob
from acq_spark.cluster.processes import alive
from acq_spark.simulate.job import run_simulation
from acq_spark.summary import format_summary, input_summary
from acq_spark.validation import load_valid_input

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


def test_two_workers_run_a_job_in_the_venv_python(standalone_cluster, submit, spark, tmp_path):
    workers = standalone_cluster.master_state()["workers"]
    alive_workers = [w for w in workers if w["state"] == "ALIVE"]
    assert [(w["cores"], w["memory"]) for w in alive_workers] == [(1, 1024), (1, 1024)]
    pids = standalone_cluster.worker_pids
    assert len(set(pids)) == 2 and standalone_cluster.master.pid not in pids and all(map(alive, pids))

    markers = tmp_path / "markers"
    result = submit(SQUARES_JOB, "--set", f"warehouse={tmp_path}", "--markers", str(markers), "--sleep", "0.5")

    assert json.loads(result.stdout.splitlines()[-1]) == {"table": str(tmp_path / "squares")}
    tasks = read_markers(markers, ".done")
    assert {worker_slot(standalone_cluster, t["folder"]) for t in tasks.values()} == {0, 1}
    assert {Path(t["python"]).parent for t in tasks.values()} == {Path(sys.executable).parent}
    actual_df = spark.read.format("delta").load(str(tmp_path / "squares"))
    assert_df_equality(actual_df, expected_squares(spark, 400), ignore_row_order=True)
    finished = standalone_cluster.master_state()["completedapps"]
    assert [app["state"] for app in finished if app["name"] == "acq-cluster-squares"][-1:] == ["FINISHED"]


def test_simulate_and_validate_on_the_cluster_match_a_local_run(start, spark, make_cfg, tmp_path):
    on_cluster = ["--set", f"warehouse={tmp_path / 'cluster'}", "--set", "simulate.n_pairs=500"]
    simulating = start("simulate", *on_cluster)
    local = make_cfg("simulate.n_pairs=500")
    run_simulation(spark, local)  # meanwhile, the same world in local mode
    simulating.wait(timeout=600)
    validating = start("validate", *on_cluster)

    for name in ("creative_daily", "truth"):
        actual_df = spark.read.format("delta").load(str(tmp_path / "cluster" / name))
        expected_df = spark.read.format("delta").load(local.table(name))
        assert_df_equality(actual_df, expected_df, ignore_row_order=True)
    expected_summary = format_summary(input_summary(load_valid_input(spark, local)))
    assert expected_summary in validating.wait(timeout=600).stdout


def test_a_failing_job_raises_with_the_tail_of_its_output(submit):
    with pytest.raises(ClusterError, match=r"(?s)exit 2.*unknown configuration key: no_such"):
        submit("simulate", "--set", "no_such.key=1")


def _task_running_on_a_worker(cluster: StandaloneCluster, job: SubmittedJob, markers: Path) -> int:
    """Wait until some task has started and not finished on a worker; return that worker's slot."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        done = read_markers(markers, ".done")
        running = [t for name, t in read_markers(markers, ".start").items() if name not in done]
        slots = [worker_slot(cluster, t["folder"]) for t in running]
        if any(s >= 0 for s in slots):
            return next(s for s in slots if s >= 0)
        if not job.running:
            job.wait(timeout=1)  # raises with the driver's output if it failed
            raise AssertionError("the job finished before a task could be caught running")
        time.sleep(0.1)
    raise ClusterError(f"no task started within 300 s\n{cluster.logs_tail()}")


def test_a_job_survives_losing_a_worker_mid_task(standalone_cluster, start, spark, tmp_path):
    markers = tmp_path / "markers"
    job = start(SQUARES_JOB, "--set", f"warehouse={tmp_path}", "--markers", str(markers), "--sleep", "2.5")
    victim = _task_running_on_a_worker(standalone_cluster, job, markers)
    killed_pid = standalone_cluster.kill_worker(victim)
    interrupted = set(read_markers(markers, ".start")) - set(read_markers(markers, ".done"))
    result = job.wait(timeout=600)

    # the job finished, with every row, although one machine (worker + executor) died under it
    assert json.loads(result.stdout.splitlines()[-1]) == {"table": str(tmp_path / "squares")}
    actual_df = spark.read.format("delta").load(str(tmp_path / "squares"))
    assert_df_equality(actual_df, expected_squares(spark, 400), ignore_row_order=True)
    assert not alive(killed_pid)
    states = standalone_cluster.worker_states()
    assert states[victim] == "DEAD" and states[1 - victim] == "ALIVE"
    # recovery: each task cut off on the dead worker ran again, as a later attempt, on the survivor
    started, done = read_markers(markers, ".start"), read_markers(markers, ".done")
    cut_off = [started[n] for n in interrupted if worker_slot(standalone_cluster, started[n]["folder"]) == victim]
    assert cut_off and not {f"p{t['partition']}-t{t['task']}" for t in cut_off} & set(done)
    for lost in cut_off:
        reruns = [t for t in done.values() if t["partition"] == lost["partition"] and t["task"] > lost["task"]]
        assert [(worker_slot(standalone_cluster, t["folder"]), t["attempt"] > lost["attempt"]) for t in reruns] == [
            (1 - victim, True)
        ]
    # what the fixture does before the next test: a fresh worker JVM in the dead slot
    standalone_cluster.ensure_workers()
    assert standalone_cluster.worker_states() == ["ALIVE", "ALIVE"] and killed_pid not in standalone_cluster.worker_pids
