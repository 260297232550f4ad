"""The warehouse lock (:mod:`acq_spark.platform.lock`) on a local folder and in a bucket (moto's server).

A second nightly on a warehouse another holds is in ``tests/cluster/test_cluster_chain.py``; here the lock itself:
one holder among runs that start together, the holder named to the others, a killed run's stale claim taken
over, a crashed run's claim taken over at once on its own host, a long run kept fresh by its heartbeat, the
claim gone on release, a claim the store would not let its run delete, and the on-call's
``python -m acq_spark.pipeline.unlock``.
"""

from __future__ import annotations

import logging
import os
import re
import runpy
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from acq_spark import PROJECT_ROOT
from acq_spark.config import LockConfig
from acq_spark.errors import EXIT_LOCKED, LockHeldError, exit_status
from acq_spark.platform import fs, s3a
from acq_spark.platform.lock import acquire, lock_folder, warehouse_lock

QUICK = LockConfig(stale_after_minutes=10, heartbeat_seconds=30, wait_seconds=10)
needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="a process's start is read in /proc")


@pytest.fixture(params=["local", "s3"])
def warehouse(request, tmp_path):
    if request.param == "local":
        return str(tmp_path / "warehouse")
    return f"s3a://{request.getfixturevalue('bucket')}/wh"


def race(warehouse: str, n: int) -> tuple[list[str], list[LockHeldError]]:
    """``n`` threads take the lock at the same moment; (the claims taken, the errors raised)."""
    barrier = threading.Barrier(n)
    held: list[str] = []
    errors: list[LockHeldError] = []

    def contender(i: int) -> None:
        barrier.wait()
        try:
            held.append(acquire(warehouse, f"run-{i}", "nightly", QUICK))
        except LockHeldError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return held, errors


def test_of_runs_started_together_exactly_one_holds_and_the_others_name_a_contender(warehouse):
    for _ in range(3):
        held, errors = race(warehouse, 3)
        assert len(held) == 1 and len(errors) == 2
        # A loser names the claim it saw: the holder, or a contender that gave way after it looked
        # (tests/cluster/test_cluster_chain.py checks that a second nightly names the one holding the warehouse).
        assert all(re.search(r"locked by run run-[012] \(job nightly on host", str(e)) for e in errors)
        assert fs.list_names(lock_folder(warehouse), ".json") == [fs.name_of(held[0])]  # the losers' claims are gone
        fs.delete(held[0])


def test_a_held_lock_fails_a_second_run_at_once_and_is_gone_after_release(warehouse):
    with warehouse_lock(warehouse, "first", "nightly", QUICK) as claim:
        assert fs.is_file(claim)
        start = time.monotonic()
        with pytest.raises(LockHeldError, match=f"warehouse {warehouse} is locked by run first") as caught:
            acquire(warehouse, "second", "backfill", QUICK)
        assert time.monotonic() - start < 5, "a held lock fails at once, without waiting"
        assert exit_status(caught.value) == EXIT_LOCKED
    assert fs.list_names(lock_folder(warehouse), ".json") == []
    with warehouse_lock(warehouse, "third", "nightly", QUICK):
        pass


def rewrite(claim: str, **fields) -> None:
    """Change fields of a claim, as a run of another host or process would have written it."""
    fs.write_json(claim, {**fs.read_json(claim), **fields})


def ended_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_killed_runs_stale_claim_is_taken_over_with_a_warning(warehouse, caplog):
    stale = LockConfig(stale_after_minutes=4 / 60, heartbeat_seconds=0.5, wait_seconds=1)
    left = acquire(warehouse, "killed", "nightly", stale)  # never released, never refreshed: a kill -9
    rewrite(left, host="elsewhere", pid=ended_pid())  # another host's pid says nothing here: staleness decides
    with pytest.raises(LockHeldError, match="locked by run killed"):
        acquire(warehouse, "too-early", "nightly", stale)
    time.sleep(5)
    with caplog.at_level(logging.WARNING, logger="acq"), warehouse_lock(warehouse, "next", "nightly", stale) as claim:
        assert not fs.is_file(left)
        assert fs.read_json(claim)["run_id"] == "next"
    assert "taking over the stale lock of run killed (job nightly" in caplog.text


def test_the_heartbeat_keeps_a_long_runs_claim_fresh(warehouse):
    short = LockConfig(stale_after_minutes=4 / 60, heartbeat_seconds=0.5, wait_seconds=0)
    with warehouse_lock(warehouse, "long", "nightly", short) as claim:
        first = fs.read_json(claim)["refreshed_at"]
        time.sleep(5)  # beyond the staleness: only the heartbeat keeps it
        with pytest.raises(LockHeldError, match="locked by run long"):
            acquire(warehouse, "other", "nightly", short)
        assert fs.read_json(claim)["refreshed_at"] > first


@needs_proc
def test_a_crashed_runs_claim_is_taken_over_at_once_on_its_host_only(warehouse, caplog):
    crashed = acquire(warehouse, "crashed", "nightly", QUICK)  # never released: a kill -9
    pid = ended_pid()
    rewrite(crashed, host="elsewhere", pid=pid)
    with pytest.raises(LockHeldError, match=r"locked by run crashed \(job nightly on host elsewhere"):
        acquire(warehouse, "next", "nightly", QUICK)
    host = socket.gethostname()
    rewrite(crashed, host=host)
    started = fs.read_json(crashed)["started_at"]
    with caplog.at_level(logging.WARNING, logger="acq"):
        claim = acquire(warehouse, "next", "nightly", QUICK)
    assert not fs.is_file(crashed) and fs.read_json(claim)["run_id"] == "next"
    assert (
        f"lock: taking over the lock of run crashed (job nightly on host {host}, pid {pid}, started {started}): "
        f"its process is gone (pid {pid} has ended)"
    ) in caplog.messages


@needs_proc
def test_a_claim_is_held_while_its_process_runs_and_taken_over_once_its_pid_is_another_process(warehouse, caplog):
    running = acquire(warehouse, "running", "nightly", QUICK)
    body = fs.read_json(running)
    stat = Path(f"/proc/{os.getpid()}/stat").read_text()
    assert body["process_start"] == int(stat.rsplit(")", 1)[1].split()[19])  # field 22: ticks since boot
    assert body["boot_id"] == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    with pytest.raises(LockHeldError, match="locked by run running"):
        acquire(warehouse, "next", "nightly", QUICK)  # this process, this start: a live run
    rewrite(running, process_start=body["process_start"] - 1)  # the pid was reused by a later process
    with caplog.at_level(logging.WARNING, logger="acq"):
        acquire(warehouse, "next", "nightly", QUICK)
    pid = os.getpid()
    assert (
        f"lock: taking over the lock of run running (job nightly on host {socket.gethostname()}, pid {pid}, "
        f"started {body['started_at']}): its process is gone (pid {pid} now belongs to another process)"
    ) in caplog.messages


@needs_proc
def test_a_run_whose_store_went_away_keeps_its_own_error_and_leaves_a_claim_taken_over_here_at_once(
    s3_server, caplog
):
    from s3_store import Outage

    outage = Outage(s3_server.port)
    fs.configure(s3a.derived_settings({**s3_server.environment(), "AWS_ENDPOINT_URL": outage.endpoint}))
    try:
        warehouse = f"s3a://{s3_server.new_bucket()}/wh"
        with caplog.at_level(logging.WARNING, logger="acq"), pytest.raises(RuntimeError, match="store went away"):
            with warehouse_lock(warehouse, "cut-off", "nightly", QUICK) as claim:
                outage.cut()
                raise RuntimeError("the store went away")  # the run's own error, not the failed delete's
        assert "lock: could not delete the claim of run cut-off (cannot delete s3a://" in caplog.text
        outage.restore()
        body = fs.read_json(claim)
        with caplog.at_level(logging.WARNING, logger="acq"), warehouse_lock(warehouse, "next", "nightly", QUICK):
            assert not fs.is_file(claim)
        assert (
            f"lock: taking over the lock of run cut-off (job nightly on host {body['host']}, pid {os.getpid()}, "
            f"started {body['started_at']}): its run ended in this process without deleting its claim"
        ) in caplog.messages
        assert fs.list_names(lock_folder(warehouse), ".json") == []
    finally:
        outage.close()
        fs.configure(None)


def unlock(monkeypatch, capsys, warehouse: str, *args: str) -> tuple[int, list[str]]:
    """``python -m acq_spark.pipeline.unlock --set warehouse=… ARGS``: its exit status and its stderr lines."""
    from acq_spark.platform.run_log import LOG

    for name in ("handlers", "propagate", "level"):  # run_main's logging set-up, undone after the test
        monkeypatch.setattr(LOG, name, getattr(LOG, name))
    monkeypatch.setattr(fs, "_settings", fs._settings)
    config = str(PROJECT_ROOT / "conf" / "test.yaml")
    monkeypatch.setattr("sys.argv", ["unlock", "--config", config, "--set", f"warehouse={warehouse}", *args])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("acq_spark.pipeline.unlock", run_name="__main__")
    return exit_info.value.code, capsys.readouterr().err.splitlines()


@needs_proc
def test_unlock_refuses_a_fresh_claim_and_releases_it_once_its_process_is_gone(warehouse, monkeypatch, capsys):
    live = acquire(warehouse, "live", "nightly", QUICK)
    body = fs.read_json(live)
    holder = f"run live (job nightly on host {body['host']}, pid {body['pid']}, started {body['started_at']})"
    status, lines = unlock(monkeypatch, capsys, warehouse, "--run-id", "live")
    assert status == EXIT_LOCKED and fs.is_file(live)
    assert re.fullmatch(
        rf"error: refusing to release the lock of {re.escape(holder)}: its heartbeat is fresh \(last written \d+ s "
        rf"ago, stale after 10 min\) and its process may still run; if that run is dead, retry once its claim is "
        rf"stale, or run this on host {re.escape(body['host'])}",
        lines[-1],
    )
    pid = ended_pid()
    rewrite(live, pid=pid)  # the run crashed
    status, lines = unlock(monkeypatch, capsys, warehouse, "--run-id", "live")
    assert status == 0 and not fs.is_file(live)
    assert lines[-1].endswith(
        f"acq lock: releasing the lock of {holder.replace(str(body['pid']), str(pid))}: its process is gone "
        f"(pid {pid} has ended); deleting {live}"
    )


def test_unlock_releases_a_stale_claim_of_another_host(warehouse, monkeypatch, capsys):
    left = acquire(warehouse, "left", "nightly", QUICK)
    rewrite(left, host="elsewhere")
    time.sleep(1.5)
    stale_after_1_s = ["--set", "lock.stale_after_minutes=0.0167", "--set", "lock.heartbeat_seconds=0.5"]
    status, lines = unlock(monkeypatch, capsys, warehouse, "--run-id", "left", *stale_after_1_s)
    assert status == 0 and not fs.is_file(left)
    assert re.search(
        r"acq lock: releasing the lock of run left \(job nightly on host elsewhere, pid \d+, started \S+\): its claim "
        rf"was last refreshed \d s ago \(stale after 0.0167 min\); deleting {re.escape(left)}$",
        lines[-1],
    )


def test_unlock_says_when_the_run_has_no_claim(warehouse, monkeypatch, capsys):
    claim = acquire(warehouse, "other", "nightly", QUICK)
    status, lines = unlock(monkeypatch, capsys, warehouse, "--run-id", "nobody")
    assert status == 1 and fs.is_file(claim)
    assert lines[-1] == f"error: warehouse {warehouse} has no lock claim of run nobody (the runs with a claim: other)"
