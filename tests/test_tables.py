"""Small artifacts: atomic writes with the umask's mode, and clear errors for files that cannot be read."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest
from chispa import assert_df_equality

from acq_spark.errors import InputNotFoundError, UnreadableFileError
from acq_spark.platform.delta_tables import replace_days_or_table
from acq_spark.platform.fs import read_json, read_pointer, write_json, write_text


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    """Set the process umask for one test (restored after it)."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_written_files_take_the_mode_the_umask_gives(tmp_path, umask, mask, expected):
    umask(mask)
    write_json(tmp_path / "a" / "record.json", {"b": 1})
    write_text(tmp_path / "LATEST", "v1\n")
    assert (mode(tmp_path / "a" / "record.json"), mode(tmp_path / "LATEST")) == (expected, expected)
    assert read_json(tmp_path / "a" / "record.json") == {"b": 1}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == [], "no temporary file left"


def test_a_pointer_that_is_not_utf8_text_is_one_clear_error(tmp_path):
    latest = tmp_path / "LATEST"
    latest.write_bytes(b"\xff\xfe2026-01-16_ubtm\n")
    with pytest.raises(UnreadableFileError, match=r"model artifact: .*LATEST is not UTF-8 text \(invalid start byte"):
        read_pointer(latest, "model artifact")
    latest.write_text("\n")
    with pytest.raises(UnreadableFileError, match="should hold one name on one line"):
        read_pointer(latest, "model artifact")
    latest.write_text("v7\n")
    assert read_pointer(latest, "model artifact") == "v7"
    with pytest.raises(InputNotFoundError, match="no file at"):
        read_pointer(tmp_path / "nothing", "model artifact")


def test_a_json_artifact_that_is_not_json_is_one_clear_error(tmp_path):
    (tmp_path / "spec.json").write_text('{"keys": [')
    with pytest.raises(UnreadableFileError, match=r"feature spec: .*spec\.json is not valid JSON"):
        read_json(tmp_path / "spec.json", "feature spec")


def test_replace_days_keeps_other_days_unless_the_layout_changed(spark, tmp_path):
    d1, d2, d3 = (dt.date(2026, 1, i) for i in (1, 2, 3))
    path = str(tmp_path / "examples")
    schema = "dt date, photo_id long, cost double"
    replace_days_or_table(spark.createDataFrame([(d1, 1, 1.0), (d2, 1, None)], schema), path, [d1, d2])
    replace_days_or_table(spark.createDataFrame([(d2, 1, 5.0), (d3, 1, 6.0)], schema), path, [d2, d3])
    actual_df = spark.read.format("delta").load(path)
    expected_df = spark.createDataFrame([(d1, 1, 1.0), (d2, 1, 5.0), (d3, 1, 6.0)], schema)
    assert_df_equality(actual_df, expected_df, ignore_row_order=True, ignore_nullable=True, ignore_column_order=True)

    other = spark.createDataFrame([(d3, 1, 6.0, 2)], "dt date, photo_id long, cost double, n int")
    replace_days_or_table(other, path, [d3])  # another layout: the old days cannot be read with it
    actual_df = spark.read.format("delta").load(path)
    assert_df_equality(actual_df, other, ignore_row_order=True, ignore_nullable=True, ignore_column_order=True)
