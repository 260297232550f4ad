from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql import types as T

from acq_spark.config import OutlierConfig
from acq_spark.errors import InputNotFoundError, InputRowsError, InputSchemaError, UnreadableFileError
from acq_spark.ingest.validation import (
    SCHEMA,
    check_schema,
    find_duplicate_keys,
    valid_input,
    validate,
    validation_record_path,
    with_reasons,
)
from acq_spark.report.build import input_lines

D1, D2 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)
NAN, INF = float("nan"), float("inf")


def validated(spark, cfg):
    """The clean rows and calendar of ``cfg``'s input, validated as the jobs do (quarantine and record written)."""
    with valid_input(spark, cfg) as valid:
        return valid


def row(dt_=D1, acc=1, photo=10, n=2, cost=1.5, target=2.0, conv=1, imp=100, product="p", l1="a", l2=None):
    return (dt_, acc, photo, product, l1, l2, n, cost, target, conv, imp)


GOOD = [row(), row(photo=11, n=0, cost=0.0), row(dt_=D2, l2="b", product=None)]


@pytest.fixture
def good_df(spark):
    return spark.createDataFrame(GOOD, SCHEMA)


def test_valid_rows_pass_untouched(spark, good_df):
    result = validate(good_df)
    assert result.bad_rows == 0
    assert result.total_rows == 3
    assert_df_equality(result.clean, good_df, ignore_row_order=True)


def test_missing_column_stops_with_its_name(good_df):
    with pytest.raises(InputSchemaError, match=r"missing column 'cost' \(expected double\)"):
        check_schema(good_df.drop("cost"))


def test_wrong_type_stops_with_column_and_expected_type(good_df):
    bad = good_df.withColumn("n_creatives", F.col("n_creatives").cast("string"))
    with pytest.raises(InputSchemaError, match=r"column 'n_creatives' has type string, expected int"):
        check_schema(bad)


def test_lossless_widening_is_accepted(good_df):
    widened = good_df.withColumn("cost", F.col("cost").cast("float")).withColumn(
        "account_id", F.col("account_id").cast("int")
    )
    assert check_schema(widened).schema == SCHEMA


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        (row(photo=99, acc=None), "null key account_id"),
        (row(photo=99, dt_=None), "null key dt"),
        (row(photo=None), "null key photo_id"),
        (row(photo=99, cost=-1.0), "negative cost"),
        (row(photo=99, conv=-3), "negative conversions"),
        (row(photo=99, cost=NAN), "non-finite cost"),
        (row(photo=99, target=INF), "non-finite target_cost"),
        (row(photo=99, n=0, cost=2.0), "cost > 0 with 0 creatives"),
        (row(photo=99, n=None), "null n_creatives"),
    ],
)
def test_each_row_fault_is_quarantined_with_its_reason(spark, good_df, bad_row, reason):
    source_df = good_df.unionByName(spark.createDataFrame([bad_row], SCHEMA))
    result = validate(source_df)
    assert result.bad_rows == 1
    assert result.quarantine.first()["reason"] == reason
    assert_df_equality(result.clean, good_df, ignore_row_order=True)


def test_duplicate_keys_quarantine_every_copy(spark, good_df):
    source_df = good_df.unionByName(spark.createDataFrame([row(cost=9.0)], SCHEMA))
    result = validate(source_df)
    reasons = [r["reason"] for r in result.quarantine.collect()]
    assert reasons == ["duplicate key (dt, account_id, photo_id)"] * 2
    assert result.clean.count() == 2


def test_the_hash_count_of_keys_flags_the_rows_the_sort_by_key_flags(spark, make_cfg):
    copies = [row(cost=9.0), row(photo=11, n=0, cost=0.0), row(photo=11, n=1), row(dt_=D2, acc=2, photo=20)]
    nulls = [row(acc=None, photo=5), row(acc=None, photo=5), row(acc=None, photo=6), row(dt_=None, photo=7, cost=-1.0)]
    checked = check_schema(spark.createDataFrame(GOOD + copies + nulls, SCHEMA))
    assert find_duplicate_keys(check_schema(spark.createDataFrame(GOOD, SCHEMA))) == []  # nothing to join: no sort
    found = find_duplicate_keys(checked)
    counts = sorted((r["account_id"] or 0, r["photo_id"], r["_key_count"]) for r in found)
    assert counts == [(0, 5, 2), (1, 10, 2), (1, 11, 3)]
    by_sort = with_reasons(checked)  # a window over the keys
    assert_df_equality(with_reasons(checked, found), by_sort, ignore_row_order=True, ignore_nullable=True)
    assert find_duplicate_keys(checked, limit=2) is None, "more than the limit: the caller sorts"
    flagged = {(r["account_id"], r["photo_id"], r["cost"]): r["reason"] for r in by_sort.collect()}
    assert flagged[(None, 5, 1.5)] == "null key account_id; duplicate key (dt, account_id, photo_id)"
    assert flagged[(None, 6, 1.5)] == "null key account_id" and flagged[(2, 20, 1.5)] is None
    # the job's own path (the cached rows, the hash count): every copy of a duplicated key quarantined
    cfg = make_cfg("validation.max_bad_share=0.9")
    checked.write.format("delta").save(cfg.input_path)
    validated(spark, cfg)
    quarantine = spark.read.format("delta").load(cfg.table("quarantine"))
    assert quarantine.where(F.col("reason").contains("duplicate key")).count() == 7


def test_job_writes_quarantine_and_fails_past_the_threshold(spark, make_cfg):
    cfg = make_cfg("validation.max_bad_share=0.2")
    rows = [row(photo=p) for p in range(8)] + [row(photo=100, cost=-1.0), row(photo=101, cost=NAN)]
    spark.createDataFrame(rows, SCHEMA).write.format("delta").save(cfg.input_path)
    with pytest.raises(InputNotFoundError, match="creative_daily"):
        validated(spark, make_cfg("input.path=/nonexistent/x"))

    clean = validated(spark, cfg).rows  # 2 of 10 = 20%: at the threshold, passes
    assert clean.count() == 8
    quarantine = spark.read.format("delta").load(cfg.table("quarantine"))
    assert sorted(r["photo_id"] for r in quarantine.collect()) == [100, 101]
    assert quarantine.first()["run_date"] == D1 + dt.timedelta(days=1)

    strict = make_cfg("validation.max_bad_share=0.1")
    with pytest.raises(InputRowsError, match=r"2 of 10 rows \(20.00%\).*max_bad_share=10.00%"):
        validated(spark, strict)
    # A re-run for the same day replaced that day's quarantine rather than appending to it.
    assert spark.read.format("delta").load(cfg.table("quarantine")).count() == 2


def test_parquet_input_is_read(spark, make_cfg):
    cfg = make_cfg("input.format=parquet")
    spark.createDataFrame(GOOD, SCHEMA).write.parquet(cfg.input_path)
    assert validated(spark, cfg).rows.count() == 3
    assert T.DateType() == validated(spark, cfg).rows.schema["dt"].dataType


@pytest.mark.parametrize("which", [0, -1])
def test_a_truncated_parquet_file_is_one_clear_error_naming_it(spark, make_cfg, which):
    cfg = make_cfg("input.format=parquet")
    spark.createDataFrame(GOOD, SCHEMA).write.partitionBy("dt").parquet(cfg.input_path)
    files = sorted(Path(cfg.input_path).glob("dt=*/*.parquet"))
    for crc in Path(cfg.input_path).glob("dt=*/.*.crc"):
        crc.unlink()  # as a file copied in by another tool: no Hadoop checksum beside it
    broken = files[which]
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    message = rf"creative_daily \(input.path\): cannot read \S*{broken.name}: "
    with pytest.raises(UnreadableFileError, match=message) as err:
        validated(spark, cfg)
    assert "\n" not in str(err.value) and "not a Parquet file" in str(err.value)


def spread_rows(outlier: float) -> list[tuple]:
    """200 rows with costs 1..200, one null cost, one negative cost and one more row with the cost ``outlier``."""
    rows = [row(photo=p, cost=float(p)) for p in range(1, 201)]
    return [*rows, row(photo=300, cost=None), row(photo=301, cost=-1e15), row(photo=302, cost=outlier)]


def test_a_cost_far_above_the_quantile_is_quarantined_as_outlier(spark):
    source_df = spark.createDataFrame(spread_rows(1e12), SCHEMA)
    result = validate(source_df, OutlierConfig(action="quarantine", quantile=0.99, multiple=100))
    assert 100 * 197 <= result.outlier_bound <= 100 * 200  # the 0.99 quantile of the valid positive costs
    reasons = {r["photo_id"]: r["reason"] for r in result.quarantine.collect()}
    assert reasons == {300: "null cost", 301: "negative cost", 302: "outlier"}
    assert (result.bad_rows, result.outlier_rows, result.outlier_action) == (3, 1, "quarantine")
    expected_df = source_df.where(F.col("photo_id") <= 200)
    assert_df_equality(result.clean, expected_df, ignore_row_order=True)

    off = validate(source_df, OutlierConfig(action="off"))
    assert (off.outlier_rows, off.outlier_bound, off.bad_rows) == (0, None, 2)


def test_cap_keeps_the_outlier_row_at_the_bound(spark):
    source_df = spark.createDataFrame(spread_rows(1e12), SCHEMA)
    result = validate(source_df, OutlierConfig(action="cap"))
    assert (result.bad_rows, result.outlier_rows) == (2, 1)
    capped = result.clean.where(F.col("photo_id") == 302).first()
    assert capped["cost"] == result.outlier_bound < 1e12
    assert result.clean.count() == 201


def test_job_records_and_reports_the_outliers(spark, make_cfg):
    cfg = make_cfg("validation.max_bad_share=0.05")
    spark.createDataFrame(spread_rows(1e12), SCHEMA).write.format("delta").save(cfg.input_path)
    clean = validated(spark, cfg).rows
    assert clean.count() == 200
    record = json.loads(Path(validation_record_path(cfg, D2)).read_text())
    assert (record["rows"], record["quarantined"], record["outliers"]["rows"]) == (203, 3, 1)
    lines = "\n".join(input_lines(cfg, D2))
    assert "203 rows, 3 quarantined (1.48%); 1 outlier cost(s) above" in lines and "quarantined" in lines
