"""``input.path`` as a Delta table, a Parquet folder (Hive-style ``dt=`` too, any file names) or one Parquet file.

``dt`` as a date, or as a timestamp of any unit at midnight (pandas' default ``datetime64[ns]`` among them).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from chispa import assert_df_equality
from pyspark.sql import types as T
from test_cli import job_main, run_job

from acq_spark import PROJECT_ROOT
from acq_spark.errors import InputNotFoundError, InputSchemaError
from acq_spark.ingest import presence as has_input
from acq_spark.ingest.days import NANOS_PER_DAY, check_days, with_dt_as_date
from acq_spark.ingest.validation import SCHEMA, valid_input
from acq_spark.platform.storage import inspect_path

D1, D2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)
ROWS = [
    (D1, 1, 10, "p", "a", None, 2, 1.5, 2.0, 1, 100),
    (D1, 1, 11, None, "a", "b", 0, 0.0, 2.0, 0, 0),
    (D2, 2, 20, "q", "c", "d", 1, 3.0, 1.0, 2, 50),
]


def validated(spark, cfg):
    """The clean rows and calendar of ``cfg``'s input, validated as the jobs do (quarantine and record written)."""
    with valid_input(spark, cfg) as valid:
        return valid


@pytest.fixture
def source_df(spark):
    return spark.createDataFrame(ROWS, SCHEMA)


def parquet_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(("_", ".")))


def write_single_file(df, tmp_path: Path) -> Path:
    """``df`` as one Parquet file ``creative_daily.parquet`` (Spark's folder around it removed)."""
    folder = tmp_path / "spark_out"
    df.coalesce(1).write.parquet(str(folder))
    (part,) = parquet_files(folder)
    single = tmp_path / "creative_daily.parquet"
    part.rename(single)
    shutil.rmtree(folder)
    return single


def write_hive_without_suffix(df, folder: Path) -> Path:
    """``df`` under ``dt=YYYY-MM-DD/`` sub-folders, its files renamed without ``.parquet`` as Hive tools name them."""
    df.write.partitionBy("dt").parquet(str(folder))
    for part in parquet_files(folder):
        part.rename(part.with_name(part.name.removesuffix(".snappy.parquet").removesuffix(".parquet")))
    return folder


def has_input_status(path: Path | str, fmt: str) -> int:
    config = str(PROJECT_ROOT / "conf" / "test.yaml")
    return has_input.main(["--config", config, "--set", f"input.path={path}", "--set", f"input.format={fmt}"])


def test_a_single_parquet_file_is_read_and_validated(spark, make_cfg, source_df, tmp_path):
    single = write_single_file(source_df, tmp_path)
    actual_df = validated(spark, make_cfg(f"input.path={single}", "input.format=parquet")).rows
    assert_df_equality(actual_df, source_df, ignore_row_order=True)


def test_hive_style_dt_folders_without_suffix_give_dt_as_a_date(spark, make_cfg, source_df, tmp_path):
    folder = write_hive_without_suffix(source_df, tmp_path / "creative_daily")
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["dt=2026-01-01", "dt=2026-01-02"]
    assert not any(p.suffix == ".parquet" for p in parquet_files(folder))
    actual_df = validated(spark, make_cfg(f"input.path={folder}", "input.format=parquet")).rows
    assert actual_df.schema["dt"].dataType == T.DateType()
    assert_df_equality(actual_df, source_df, ignore_row_order=True)


def test_a_folder_without_parquet_files_is_a_clear_error(spark, make_cfg, tmp_path):
    folder = tmp_path / "creative_daily"
    (folder / "_temporary").mkdir(parents=True)
    (folder / "_SUCCESS").touch()
    (folder / ".part-0.parquet.crc").touch()
    (folder / "_temporary" / "part-0.parquet").touch()
    message = rf"creative_daily .*{re.escape(str(folder))}: it holds no Parquet files"
    with pytest.raises(InputNotFoundError, match=message):
        validated(spark, make_cfg(f"input.path={folder}", "input.format=parquet"))


def test_parquet_data_at_input_format_delta_names_the_fix(spark, make_cfg, source_df, tmp_path):
    folder = tmp_path / "creative_daily"
    source_df.write.parquet(str(folder))
    with pytest.raises(InputNotFoundError, match=r"no delta table at .*no _delta_log.*set input\.format=parquet"):
        validated(spark, make_cfg(f"input.path={folder}", "input.format=delta"))


def test_the_hadoop_listing_reads_file_uris_like_plain_paths(spark, source_df, tmp_path):
    folder = write_hive_without_suffix(source_df, tmp_path / "creative_daily")
    for path in (str(folder), folder.as_uri()):
        contents = inspect_path(spark, path)
        assert contents.exists and not contents.delta_log
        assert "/dt=2026-01-0" in contents.data_file
    assert not inspect_path(spark, (tmp_path / "nothing").as_uri()).exists


def test_has_input_finds_parquet_in_every_layout_and_format(spark, source_df, tmp_path):
    single = write_single_file(source_df, tmp_path)
    hive = write_hive_without_suffix(source_df, tmp_path / "hive")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "_SUCCESS").touch()
    assert has_input_status(single, "parquet") == 0
    assert has_input_status(hive, "parquet") == 0
    assert has_input_status(hive, "delta") == 0  # Parquet left at input.format=delta: never simulate over it
    assert has_input_status(single.as_uri(), "delta") == 0
    assert has_input_status(empty, "delta") == 1
    assert has_input_status(tmp_path / "missing", "parquet") == 1


def test_has_input_checks_other_file_systems_through_spark(spark, source_df, tmp_path, monkeypatch):
    hive = write_hive_without_suffix(source_df, tmp_path / "hive")
    source_df.write.format("delta").save(str(tmp_path / "delta"))
    monkeypatch.setenv("HADOOP_CONF_DIR", str(tmp_path))  # a path without a scheme may then be on HDFS
    monkeypatch.setattr(has_input, "inspect_local_path", lambda path: pytest.fail("listed in plain Python"))
    assert has_input_status(hive, "delta") == 0
    assert has_input_status(tmp_path / "delta", "delta") == 0
    assert has_input_status(tmp_path / "missing", "parquet") == 1
    assert not spark.sparkContext._jsc.sc().isStopped()  # the active session was used, not stopped


def write_with_pandas(df, path: Path, dtype: str, shifted: dt.timedelta = dt.timedelta(0)) -> Path:
    """``df`` written by pandas as one Parquet file, ``dt`` of pandas' ``dtype``; the last row's ``dt`` ``shifted``."""
    frame = df.toPandas()
    days = pd.to_datetime(frame["dt"]).astype("datetime64[ns]")
    days.iloc[-1] += shifted
    frame["dt"] = days.dt.tz_localize("UTC").astype(dtype) if "UTC" in dtype else days.astype(dtype)
    frame.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize(
    ("dtype", "parquet_type"),
    [
        ("datetime64[ns]", "timestamp[ns]"),  # pandas' default: Parquet TIMESTAMP(NANOS)
        ("datetime64[us]", "timestamp[us]"),
        ("datetime64[ms, UTC]", "timestamp[ms, tz=UTC]"),
    ],
)
def test_a_pandas_timestamp_dt_at_midnight_is_read_as_its_day(
    spark, make_cfg, source_df, tmp_path, dtype, parquet_type
):
    path = write_with_pandas(source_df, tmp_path / "creative_daily.parquet", dtype)
    assert str(pq.read_schema(path).field("dt").type) == parquet_type
    valid = validated(spark, make_cfg(f"input.path={path}", "input.format=parquet"))
    assert valid.rows.schema["dt"].dataType == T.DateType()
    assert_df_equality(valid.rows, source_df, ignore_row_order=True)
    assert sorted(valid.calendar.per_day) == [D1, D2]


def test_a_dt_with_a_time_of_day_exits_3_naming_the_column_a_value_and_the_fix(
    spark, source_df, tmp_path, monkeypatch, capsys
):
    path = write_with_pandas(source_df, tmp_path / "creative_daily.parquet", "datetime64[ns]", dt.timedelta(hours=14.5))
    main = job_main("validate", monkeypatch, tmp_path / "wh", f"input.path={path}", "input.format=parquet")
    status, lines = run_job(main, capsys)
    assert status == 3
    assert lines[-1] == (
        "error: creative_daily: column 'dt' holds times of day (e.g. 2026-01-02 14:30:00), not days; "
        "write dt as a date, or as a timestamp at midnight UTC"
    )


def test_dt_as_timestamp_or_nanoseconds_becomes_its_date_and_a_date_stays_as_it_is(spark, source_df):
    midnight = dt.datetime(2026, 1, 2)
    source_ts = spark.createDataFrame([(midnight, 1), (None, 2)], "dt timestamp_ntz, n int")
    source_ns = spark.createDataFrame([(20455 * NANOS_PER_DAY, 1), (None, 2)], "dt long, n int")
    expected_df = spark.createDataFrame([(D2, 1), (None, 2)], "dt date, n int")
    assert_df_equality(with_dt_as_date(source_ts), expected_df, ignore_row_order=True)
    assert_df_equality(with_dt_as_date(source_ns), expected_df, ignore_row_order=True)
    assert with_dt_as_date(source_ns, longs_are_nanos=False) is source_ns  # Delta: a long dt is a long
    assert with_dt_as_date(source_df) is source_df
    check_days(source_ts)
    check_days(source_ns)


@pytest.mark.parametrize(
    ("value", "dtype", "shown"),
    [
        (dt.datetime(2026, 1, 2, 0, 0, 0, 1), "timestamp_ntz", "2026-01-02 00:00:00.000001"),
        (20455 * NANOS_PER_DAY + 1, "long", "2026-01-02 00:00:00"),  # one nanosecond past midnight
    ],
)
def test_check_days_refuses_any_time_of_day_other_than_midnight(spark, value, dtype, shown):
    source_df = spark.createDataFrame([(None,), (value,)], f"dt {dtype}")
    with pytest.raises(InputSchemaError, match=rf"column 'dt' holds times of day \(e\.g\. {re.escape(shown)}\)"):
        check_days(source_df)
