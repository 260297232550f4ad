"""One run at a time per warehouse: a claim object in ``<warehouse>/_lock/`` that names its run, host and start.

The store needs only whole-object writes, deletes and a consistent listing (POSIX, HDFS, S3 since 2020),
no atomic create-if-absent. A run writes its claim ``<UTC start>-<run id>.json``, then lists the claims:

- only its own (stale ones aside): it holds the lock;
- another's: if its own name sorts first it waits (up to ``lock.wait_seconds``) for the others to give way,
  else it deletes its claim and fails at once with :class:`LockHeldError` naming the first claim's run.

Two runs can never both hold it: each holds only after a listing that shows no other claim, and the later
writer's listing always shows the earlier's claim. While it runs, the holder rewrites its claim every
``lock.heartbeat_seconds``; a claim whose last write is older than ``lock.stale_after_minutes`` was left by
a killed run, and the next run deletes it, saying so, and takes the lock. The claim is deleted on release.

Where ``/proc`` says (Linux), the claim also names its process's start (boot id, pid namespace, start in
clock ticks since boot), so a run on the claim's own host knows at once when that process is gone (its pid
runs nothing, or a later process) and takes the lock over without waiting for staleness; a claim of this
very process that none of its runs holds (a run whose delete failed while the store was away) is taken
over too. A claim of another host or container, or one written without these fields, is judged by
staleness only.
:func:`release` is the on-call's way to delete a run's claim (``python -m acq_spark.pipeline.unlock``).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from acq_spark.config import LockConfig, table_path
from acq_spark.errors import AcqError, LockHeldError, NoSuchClaimError
from acq_spark.platform import fs
from acq_spark.platform.catalog import LOCK_FOLDER
from acq_spark.platform.process_start import ended, this_process
from acq_spark.platform.run_log import LOG

_POLL_SECONDS = 0.5
_HELD: set[str] = set()  # the claims this process's runs hold: any other claim naming this process was left behind


def lock_folder(warehouse: str) -> str:
    """Where the claims of ``warehouse``'s lock live."""
    return table_path(warehouse, LOCK_FOLDER)


def _claims(folder: str) -> list[tuple[str, dt.datetime | None]]:
    return fs.list_files(folder, ".json")


def _read_claim(folder: str, name: str) -> dict[str, Any] | None:
    """The claim's content, or None when it cannot be read (gone since the listing, half-written, not JSON)."""
    try:
        claim = fs.read_json(fs.join(folder, name), what="lock claim")
    except AcqError:
        return None
    return claim if isinstance(claim, dict) else None


def _describe(claim: dict[str, Any] | None, name: str) -> str:
    """``run R (job J on host H, pid P, started S)`` from the claim's content, or its name when unreadable."""
    if claim is None:
        return f"the claim {name}"
    return (
        f"run {claim.get('run_id')} (job {claim.get('job')} on host {claim.get('host')}, "
        f"pid {claim.get('pid')}, started {claim.get('started_at')})"
    )


def _live(folder: str, mine: str | None, stale_after: dt.timedelta) -> list[str]:
    """The names of the claims other than ``mine`` still held; stale or dead ones are deleted, with a warning."""
    now = dt.datetime.now(dt.UTC)
    live = []
    for name, modified in _claims(folder):
        if name == mine:
            continue
        claim = _read_claim(folder, name)
        if modified is not None and now - modified > stale_after:
            LOG.warning(
                "lock: taking over the stale lock of %s: its claim was last refreshed %s, %.0f min ago "
                "(stale after %g min)",
                _describe(claim, name),
                modified.isoformat(timespec="seconds"),
                (now - modified).total_seconds() / 60,
                stale_after.total_seconds() / 60,
            )
        elif gone := ended(claim):
            LOG.warning("lock: taking over the lock of %s: its process is gone (%s)", _describe(claim, name), gone)
        elif _left_here(claim, fs.join(folder, name)):
            LOG.warning(
                "lock: taking over the lock of %s: its run ended in this process without deleting its claim",
                _describe(claim, name),
            )
        else:
            live.append(name)
            continue
        fs.delete(fs.join(folder, name))
    return live


def _left_here(claim: dict[str, Any] | None, location: str) -> bool:
    """Whether ``claim`` is this process's own, written by a run that no longer holds it (its delete failed)."""
    if claim is None or location in _HELD or claim.get("pid") != os.getpid():
        return False
    here = {"host": socket.gethostname(), **this_process()}
    return "process_start" in here and all(claim.get(key) == value for key, value in here.items())


def _held_error(warehouse: str, folder: str, name: str) -> LockHeldError:
    holder = _describe(_read_claim(folder, name), name)
    return LockHeldError(
        f"warehouse {warehouse} is locked by {holder}; one run at a time per warehouse "
        "(a killed run's lock is taken over at once by a run on its host, by a run elsewhere once stale, see "
        "lock.stale_after_minutes; "
        f"the claim is {fs.join(folder, name)})"
    )


def acquire(warehouse: str, run_id: str, job: str, cfg: LockConfig) -> str:
    """Take ``warehouse``'s lock for ``run_id``; returns the claim's location.

    Raises:
        LockHeldError: another run holds the lock (or took it first); names that run.
    """
    folder = lock_folder(warehouse)
    stale_after = dt.timedelta(minutes=cfg.stale_after_minutes)
    others = _live(folder, None, stale_after)
    if others:  # held: fail before writing anything
        raise _held_error(warehouse, folder, others[0])
    started = dt.datetime.now(dt.UTC)
    name = f"{started:%Y%m%dT%H%M%S%fZ}-{run_id}.json"
    claim = fs.join(folder, name)
    _HELD.add(claim)
    try:
        fs.write_json(claim, _claim_body(run_id, job, started))
        deadline = time.monotonic() + cfg.wait_seconds
        while True:
            others = _live(folder, name, stale_after)
            if not others:
                LOG.info("lock: run %s holds %s", run_id, claim)
                return claim
            first = min([*others, name])
            if first != name or time.monotonic() >= deadline:
                error = _held_error(warehouse, folder, min(others))
                fs.delete(claim)
                raise error
            time.sleep(_POLL_SECONDS)
    except BaseException:
        _HELD.discard(claim)
        raise


def _claim_body(run_id: str, job: str, started: dt.datetime) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "job": job,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        **this_process(),
        "started_at": started.isoformat(timespec="seconds"),
        "refreshed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


class _Heartbeat(threading.Thread):
    """Rewrites the claim every ``seconds`` until stopped, so a long run's lock never looks stale."""

    def __init__(self, claim: str, body: dict[str, Any], seconds: float) -> None:
        super().__init__(name="acq-lock-heartbeat", daemon=True)
        self.claim, self.body, self.seconds = claim, body, seconds
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.seconds):
            try:
                if not fs.is_file(self.claim):
                    LOG.error("lock: the claim %s is gone: another run may have taken the lock over", self.claim)
                    return
                self.body["refreshed_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
                fs.write_json(self.claim, self.body)
            except Exception as exc:  # a missed heartbeat is retried; the lock goes stale only after several
                LOG.warning("lock: could not refresh %s: %s", self.claim, exc)


@contextmanager
def warehouse_lock(warehouse: str, run_id: str, job: str, cfg: LockConfig) -> Iterator[str]:
    """Hold ``warehouse``'s lock for the block (heartbeat included); yields the claim's location.

    Raises:
        LockHeldError: another run holds it.
    """
    claim = acquire(warehouse, run_id, job, cfg)
    body = fs.read_json(claim, what="lock claim")
    heartbeat = _Heartbeat(claim, body, cfg.heartbeat_seconds)
    heartbeat.start()
    try:
        yield claim
    finally:
        heartbeat.stopped.set()
        heartbeat.join(timeout=5)
        _HELD.discard(claim)
        _release(claim, run_id)


def _release(claim: str, run_id: str) -> None:
    """Delete the claim; when the store does not answer, leave it, saying who can take it over."""
    try:
        fs.delete(claim)
    except fs.StoreError as exc:  # the run's own error, if any, is the one to report
        LOG.warning(
            "lock: could not delete the claim of run %s (%s); a run on this host takes it over once this process "
            "has ended, a run elsewhere once it is stale (lock.stale_after_minutes)", run_id, exc,
        )
        return
    LOG.info("lock: run %s released %s", run_id, claim)


def release(warehouse: str, run_id: str, cfg: LockConfig) -> list[str]:
    """Delete the claims of ``run_id``, the on-call's way to free a crashed run's lock; returns their locations.

    A claim is deleted when its last write is older than ``cfg.stale_after_minutes`` or its process is known
    to have ended (see :func:`~acq_spark.platform.process_start.ended`); else nothing is deleted.

    Raises:
        LockHeldError: a claim of the run is fresh and its process may still run; names the run and its age.
        NoSuchClaimError: the run has no claim on ``warehouse``.
    """
    folder = lock_folder(warehouse)
    stale_after = dt.timedelta(minutes=cfg.stale_after_minutes)
    now = dt.datetime.now(dt.UTC)
    claims = [(name, modified) for name, modified in _claims(folder) if name.endswith(f"-{run_id}.json")]
    if not claims:
        held = ", ".join(_claims_runs(folder)) or "none"
        raise NoSuchClaimError(
            f"warehouse {warehouse} has no lock claim of run {run_id} (the runs with a claim: {held})"
        )
    reasons = {}
    for name, modified in claims:
        claim = _read_claim(folder, name)
        if modified is not None and now - modified > stale_after:
            reasons[name] = (
                f"{_describe(claim, name)}: its claim was last refreshed {_age(now - modified)} ago "
                f"(stale after {cfg.stale_after_minutes:g} min)"
            )
        elif gone := ended(claim):
            reasons[name] = f"{_describe(claim, name)}: its process is gone ({gone})"
        else:
            age = "at a time the store does not give" if modified is None else f"{_age(now - modified)} ago"
            raise LockHeldError(
                f"refusing to release the lock of {_describe(claim, name)}: its heartbeat is fresh (last written "
                f"{age}, stale after {cfg.stale_after_minutes:g} min) and its process may still run; if that run "
                f"is dead, retry once its claim is stale, or run this on host {(claim or {}).get('host')}"
            )
    released = []
    for name, _ in claims:
        location = fs.join(folder, name)
        LOG.warning("lock: releasing the lock of %s; deleting %s", reasons[name], location)
        fs.delete(location)
        released.append(location)
    return released


def _claims_runs(folder: str) -> list[str]:
    """The run ids the claims in ``folder`` name (``<UTC start>-<run id>.json``)."""
    return [name.split("-", 1)[-1].removesuffix(".json") for name, _ in _claims(folder)]


def _age(age: dt.timedelta) -> str:
    seconds = age.total_seconds()
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
