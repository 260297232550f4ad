"""The nightly with its warehouse in a bucket (moto's S3 server), configured by the AWS environment alone.

One simulated world is written to the bucket per module (in-process), then ``jobs/nightly.py`` runs on it as
a user would, from an empty working folder with the AWS environment alone, while the same world runs in
local mode in-process. About 3 minutes on a loaded 2-core machine (the S3 nightly is ~1.6x the local one,
moto answers every request in Python); the kill -9 test runs the allocation job twice on the nightly's
scores (killed during its write, then again).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyarrow import fs as pafs
from s3_store import use_store

from acq_spark import fs
from acq_spark.config import PROJECT_ROOT
from acq_spark.errors import EXIT_LOCKED
from acq_spark.nightly import run_nightly
from acq_spark.publish import read_pointer, read_published
from acq_spark.simulate.job import run_simulation
from acq_spark.tables import delta_version

WORLD = ["simulate.n_pairs=300", "train.epochs=2", "train.patience=1", "train.batch_size=1024", "train.evaluate=false"]
ALLOCATION_COLUMNS = ["dt", "account_id", "photo_id", "level", "n_creatives", "r", "lambda"]
TEST_CONFIG = PROJECT_ROOT / "conf" / "test.yaml"


def start_job(job: str, warehouse: str, store_env: dict[str, str], cwd: Path, *extra: str) -> subprocess.Popen:
    """``python jobs/<job>.py`` with the test config, ``warehouse``, ``extra`` settings and only the store's AWS
    environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | store_env
    sets = [arg for item in [f"warehouse={warehouse}", *WORLD, *extra] for arg in ("--set", item)]
    command = [sys.executable, str(PROJECT_ROOT / "jobs" / f"{job}.py"), "--config", str(TEST_CONFIG), *sets]
    return subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )


def finish(process: subprocess.Popen, timeout: float = 900) -> str:
    out, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, out[-3000:]
    return out


@pytest.fixture(scope="module")
def s3_world(spark, s3_server, tmp_path_factory):
    """(warehouse URI, the store's environment, the empty working folder, the jobs' output, the local config)."""
    from acq_spark.config import load_config

    env = s3_server.environment()
    warehouse = f"s3a://{s3_server.new_bucket()}/wh"
    work = tmp_path_factory.mktemp("cwd")
    local = load_config(TEST_CONFIG, [f"warehouse={tmp_path_factory.mktemp('local') / 'warehouse'}", *WORLD])
    with use_store(spark, env):
        run_simulation(spark, load_config(TEST_CONFIG, [f"warehouse={warehouse}", *WORLD]))
        run_simulation(spark, local)
        nightlies = [start_job("nightly", warehouse, env, work) for _ in range(2)]  # two at once: one gives way
        loser = wait_for_first(nightlies, timeout=120)
        lost = loser.communicate()[0]
        run_nightly(spark, local)  # meanwhile, the same world in local mode
        (winner,) = [n for n in nightlies if n is not loser]
        output = finish(winner)
        yield warehouse, env, work, output, local, (loser.returncode, lost)


def wait_for_first(processes: list[subprocess.Popen], timeout: float) -> subprocess.Popen:
    """The first of ``processes`` to end."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                return process
        time.sleep(0.2)
    raise AssertionError(f"neither of two nightlies on one warehouse ended within {timeout:g} s")


def test_of_two_nightlies_started_together_one_fails_fast_naming_the_other_and_the_other_publishes(s3_world):
    warehouse, _, _, output, _, (status, lost) = s3_world
    assert status == EXIT_LOCKED, lost[-3000:]
    winner = next(line.split("run ", 1)[1].split()[0] for line in output.splitlines() if "lock: run " in line)
    assert f"error: warehouse {warehouse} is locked by run {winner} (job nightly on host" in lost
    assert "stage validate" not in lost, "the loser starts no stage"
    assert "nightly chain for" in output
    assert fs.list_names(f"{warehouse}/_lock", ".json") == [], "the winner's claim is gone after its run"


def test_the_nightly_on_a_bucket_allocates_as_local_mode_and_writes_nothing_locally(spark, s3_world):
    warehouse, env, work, output, local, _ = s3_world
    actual_df = spark.read.format("delta").load(f"{warehouse}/allocation").select(*ALLOCATION_COLUMNS)
    expected_df = spark.read.format("delta").load(local.table("allocation")).select(*ALLOCATION_COLUMNS)
    assert expected_df.count() == 300
    assert_df_equality(actual_df, expected_df, ignore_row_order=True)

    report = [line.split(": ", 1)[1] for line in output.splitlines() if line.startswith("report: ")][-1]
    day = fs.name_of(report.rsplit("/", 1)[0])
    assert report == f"{warehouse}/reports/{day}/report.md"
    version = fs.read_latest(f"{warehouse}/models", "model artifact")
    tree = fs.read_latest(f"{warehouse}/artifacts/cost_tree", "cost tree")
    features = fs.read_latest(f"{warehouse}/artifacts/features", "features' artifacts")
    for name in (f"models/{version}/model.keras", f"artifacts/cost_tree/{tree}",
                 f"artifacts/features/{features}/vocab.json", f"published/{day}.json",
                 f"reports/{day}/report.html", f"reports/{day}/lambda_search.png"):
        assert fs.is_file(f"{warehouse}/{name}"), name
    assert "![λ search](lambda_search.png)" in fs.read_text(report)  # relative links: readable where it lies
    (record,) = fs.list_names(f"{warehouse}/runs/nightly", ".json")
    assert json.loads(fs.read_text(f"{warehouse}/runs/nightly/{record}"))["published"]
    assert list(work.iterdir()) == [], "nothing written under the working folder"

    secrets = (env["AWS_SECRET_ACCESS_KEY"], env["AWS_ACCESS_KEY_ID"])
    texts = [output, fs.read_text(report), fs.read_text(f"{warehouse}/reports/{day}/report.html")]
    texts += [fs.read_text(f"{warehouse}/runs/{kind}/{name}") for kind, name in _records(warehouse)]
    assert not [s for s in secrets for t in texts if s in t], "credentials in a log, run record or report"


def _records(warehouse: str) -> list[tuple[str, str]]:
    filesystem, root = fs.resolve(f"{warehouse}/runs")
    files = filesystem.get_file_info(pafs.FileSelector(root, recursive=True))
    return [tuple(f.path.removeprefix(root + "/").split("/", 1)) for f in files if f.type == pafs.FileType.File]


def test_an_allocation_killed_during_its_write_leaves_the_published_day_and_a_rerun_succeeds(spark, s3_world):
    """kill -9 of the nightly's allocation stage (``jobs/allocate.py``, the same ``run_allocate``, on the scores
    the nightly left) while its new data files are being written to the bucket."""
    warehouse, env, work, _, _, _ = s3_world
    (day,) = fs.list_names(f"{warehouse}/published", ".json")
    day = day.removesuffix(".json")
    before = read_pointer(warehouse, day)
    published = read_published(spark, warehouse, day)[0].select(*ALLOCATION_COLUMNS)
    expected_rows = sorted(published.collect())
    filesystem, allocation = fs.resolve(f"{warehouse}/allocation")
    selector = pafs.FileSelector(allocation, recursive=True)

    def data_files() -> set[str]:
        return {f.path for f in filesystem.get_file_info(selector) if f.path.endswith(".parquet")}

    old_files = data_files()
    quick = ["lock.stale_after_minutes=0.05", "lock.heartbeat_seconds=1"]  # a killed run's claim is stale in 3 s
    allocating = start_job("allocate", warehouse, env, work, *quick)
    deadline = time.monotonic() + 600
    while not data_files() - old_files:  # the allocation's new data files are being written
        assert allocating.poll() is None, "the job ended before its allocation write"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(allocating.pid, signal.SIGKILL)
    allocating.communicate(timeout=60)
    killed_at = time.monotonic()

    assert read_pointer(warehouse, day) == before
    assert delta_version(spark, f"{warehouse}/allocation") == before["versions"]["allocation"]
    assert sorted(read_published(spark, warehouse, day)[0].select(*ALLOCATION_COLUMNS).collect()) == expected_rows

    time.sleep(max(0.0, killed_at + 5 - time.monotonic()))  # the killed run's claim is stale (3 s) by now
    rerun = finish(start_job("allocate", warehouse, env, work, *quick))
    assert "taking over the stale lock of run" in rerun
    after = read_pointer(warehouse, day)
    assert after["run_id"] != before["run_id"]
    assert after["versions"]["allocation"] > before["versions"]["allocation"]
    assert read_published(spark, warehouse, day)[0].count() == 300
