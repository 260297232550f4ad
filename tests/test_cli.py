"""The jobs' command line as a scheduler sees it: one ``error:`` line, the traceback in the log, the exit status."""

from __future__ import annotations

import datetime as dt
import re
import runpy
from pathlib import Path

import pytest

from acq_spark import PROJECT_ROOT
from acq_spark.errors import (
    InfeasibleBudgetError,
    InputRowsError,
    PublishGuardError,
    StageError,
    UnreadableFileError,
    exit_status,
)
from acq_spark.ingest.validation import SCHEMA
from acq_spark.pipeline.nightly import _stage
from acq_spark.platform.cli import first_line, run_main

D1 = dt.date(2026, 1, 1)
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (INFO|WARNING|ERROR) run=(\S+) acq ")


def wrapped(cause: BaseException) -> StageError:
    try:
        raise StageError("nightly stage 'x' failed") from cause
    except StageError as exc:
        return exc


def test_exit_status_follows_the_cause_of_a_stage_error():
    assert exit_status(wrapped(UnreadableFileError("f"))) == 3
    assert exit_status(wrapped(InputRowsError("rows"))) == 3
    assert exit_status(PublishGuardError("few pairs")) == 3
    assert exit_status(wrapped(InfeasibleBudgetError("budget"))) == 4
    assert exit_status(StageError("no cause")) == 1
    assert exit_status(wrapped(RuntimeError("a bug"))) == 1
    try:  # raised while handling bad input, not caused by it: not bad input
        try:
            raise InputRowsError("rows")
        except InputRowsError:
            raise KeyError("a bug in the handler") from None
    except KeyError as exc:
        assert exit_status(exc) == 1


def test_first_line_keeps_one_line_of_a_long_java_message():
    assert first_line("\n  An error occurred while calling o12.collectToPython.\n: org.apache...\n\tat x") == (
        "An error occurred while calling o12.collectToPython."
    )
    assert len(first_line("x" * 2000)) == 500


def run_job(main, capsys) -> tuple[int, list[str]]:
    """``run_main(main)``: its exit status and the lines it wrote to stderr."""
    with pytest.raises(SystemExit) as exit_info:
        run_main(main)
    return exit_info.value.code, capsys.readouterr().err.splitlines()


def _deep_helper() -> None:
    raise ValueError("boom")


def test_a_stage_failure_is_one_error_line_after_its_full_traceback_in_the_log(capsys):
    status, lines = run_job(lambda: _stage("score", _deep_helper), capsys)
    assert status == 1
    assert lines[-1] == "error: nightly stage 'score' failed: ValueError: boom"
    log = "\n".join(lines[:-1])
    failed = next(line for line in lines if "run failed" in line)
    assert LOG_LINE.match(failed).group(1) == "ERROR" and failed.endswith(lines[-1].removeprefix("error: "))
    assert "Traceback (most recent call last)" in log and "in _deep_helper" in log and "ValueError: boom" in log
    assert "The above exception was the direct cause of the following exception" in log  # the StageError's cause


def test_every_log_line_carries_date_level_and_one_run_id(capsys):
    from acq_spark.platform.run_log import LOG, StageTimer, current_run_id

    def main() -> int:
        with StageTimer().stage("tiny"):
            LOG.warning("a warning")
        return 0

    status, lines = run_job(main, capsys)
    assert status == 0
    matches = [LOG_LINE.match(line) for line in lines]
    assert len(lines) == 3 and all(matches)
    assert [m.group(1) for m in matches] == ["INFO", "WARNING", "INFO"]
    assert {m.group(2) for m in matches} == {current_run_id()}


def job_main(name: str, monkeypatch, warehouse: Path, *overrides: str):
    """The ``main`` of ``jobs/<name>.py`` with the test configuration, ``warehouse`` and ``overrides`` as its argv."""
    sets = [f"warehouse={warehouse}", *overrides]
    argv = [f"{name}.py", "--config", str(PROJECT_ROOT / "conf" / "test.yaml")]
    monkeypatch.setattr("sys.argv", argv + [arg for item in sets for arg in ("--set", item)])
    return runpy.run_path(str(PROJECT_ROOT / "jobs" / f"{name}.py"))["main"]


def test_a_corrupt_input_file_exits_3_with_one_line_naming_it(spark, tmp_path, monkeypatch, capsys):
    rows = [(D1 + dt.timedelta(days=d), 1, 10 + d, "p", "a", None, 2, 1.5, 2.0, 1, 100) for d in range(3)]
    path = tmp_path / "daily"
    spark.createDataFrame(rows, SCHEMA).write.partitionBy("dt").parquet(str(path))
    for crc in path.glob("dt=*/.*.crc"):
        crc.unlink()  # as a file copied in by another tool
    broken = sorted(path.glob("dt=*/*.parquet"))[1]
    broken.write_bytes(broken.read_bytes()[:40])  # truncated among good files
    main = job_main("validate", monkeypatch, tmp_path / "wh", f"input.path={path}", "input.format=parquet")
    status, lines = run_job(main, capsys)
    assert status == 3
    assert re.fullmatch(rf"error: creative_daily \(input.path\): cannot read \S*/{broken.name}: .+", lines[-1])
    assert "Py4JJavaError" not in lines[-1]


def test_an_infeasible_budget_exits_4(spark, tmp_path, monkeypatch, capsys):
    warehouse = tmp_path / "wh"
    k = 9  # the default levels
    scores = [(D1, 1, 10 + i, [1.0] * k, [1.0] * k, None) for i in range(3)]
    schema = "dt date, account_id long, photo_id long, pvalue array<double>, r array<double>, explore array<double>"
    spark.createDataFrame(scores, schema).write.format("delta").partitionBy("dt").save(str(warehouse / "scores"))
    overrides = (f"run_date={D1}", "budget.total_creatives=2", "publish.max_input_age_days=null")
    status, lines = run_job(job_main("allocate", monkeypatch, warehouse, *overrides), capsys)
    assert status == 4
    assert lines[-1].startswith("error: budget of 2 creatives is below the minimum 3")


DOOMED = [
    pytest.param(
        "run_date=2027-01-03",
        3,
        "PublishGuardError: publish guard: the last input day 2026-01-03 is 365 days before the decision day "
        "2027-01-03, more than publish.max_input_age_days=2: the features would be stale; nothing is published (to "
        "publish anyway: --set publish.max_input_age_days=null)",
        id="input a year old",
    ),
    pytest.param(
        "budget.total_creatives=3",
        4,
        "InfeasibleBudgetError: budget of 3 creatives is below the minimum 4 (4 pairs at their smallest level); "
        "raise budget.total_creatives or budget.ratio_of_last_day",
        id="budget below the pairs",
    ),
]


@pytest.mark.parametrize(("override", "status", "error"), DOOMED)
def test_a_run_doomed_from_its_start_fails_once_validated_before_any_feature_is_built(
    spark, tmp_path, monkeypatch, capsys, override, status, error
):
    """Input 4 pairs × 3 days (the last 2026-01-03): each case would have failed at the allocation, after training."""
    days = [D1 + dt.timedelta(days=d) for d in range(3)]
    rows = [(day, 1, 10 + p, "p", "a", None, 2, 1.5, 2.0, 1, 100) for day in days for p in range(4)]
    path = tmp_path / "daily"
    spark.createDataFrame(rows, SCHEMA).write.partitionBy("dt").parquet(str(path))
    warehouse = tmp_path / "wh"
    main = job_main("nightly", monkeypatch, warehouse, f"input.path={path}", "input.format=parquet", override)
    code, lines = run_job(main, capsys)
    assert (code, lines[-1]) == (status, f"error: nightly stage 'validate' failed: {error}")
    log = "\n".join(lines)
    assert "stage validate: started" in log and "stage features" not in log
    assert not (warehouse / "training_examples").exists() and not (warehouse / "models").exists()
