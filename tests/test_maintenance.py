"""Delta maintenance: retention properties, OPTIMIZE with Z-order on recent days, VACUUM and time travel after it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from delta.tables import DeltaTable
from pyspark.errors import AnalysisException

from acq_spark.config import ConfigError, MaintenanceConfig
from acq_spark.pipeline.maintenance import interval, maintain_warehouse, set_retention, vacuum


def write_days(spark, path: str, version: int, files_per_day: int = 3) -> None:
    """Overwrite the table at ``path``: 3 days × 12 pairs, ``files_per_day`` files a day, n_creatives = ``version``."""
    rows = [(f"2026-01-0{d}", p % 4, p, version) for d in (1, 2, 3) for p in range(12)]
    df = spark.createDataFrame(rows, "dt string, account_id long, photo_id long, n_creatives int")
    df = df.selectExpr("cast(dt as date) as dt", "account_id", "photo_id", "n_creatives")
    df.repartition(files_per_day).write.format("delta").mode("overwrite").partitionBy("dt").save(path)


def data_files(path: str) -> set[str]:
    return {p.name for p in Path(path).glob("dt=*/*.parquet")}


def test_retention_intervals_and_their_rule():
    assert interval(7) == "interval 7 days" and interval(0.5) == "interval 43200 seconds"
    with pytest.raises(ConfigError, match=r"maintenance.log_retention_days: must be >= .*retention_days \(7\)"):
        MaintenanceConfig(retention_days=7, log_retention_days=1)


def test_maintenance_zorders_recent_days_compacts_the_rest_and_keeps_time_travel(spark, make_cfg):
    cfg = make_cfg("maintenance.zorder_days=1")
    path = cfg.table("allocation")
    for version in range(3):
        write_days(spark, path, version)
    Path(cfg.table("runs")).mkdir()  # not a Delta table: left alone
    done = maintain_warehouse(spark, cfg.table(""), cfg.maintenance)
    assert [(t.name, t.zordered, t.files_removed, t.files_added) for t in done] == [
        ("allocation", "dt >= '2026-01-03'", 9, 3)  # the last day Z-ordered, the two before compacted
    ]
    table = DeltaTable.forPath(spark, path)
    properties = table.detail().first()["properties"]
    assert properties["delta.deletedFileRetentionDuration"] == "interval 7 days"
    assert properties["delta.logRetentionDuration"] == "interval 30 days"
    assert table.history().where("operation = 'OPTIMIZE'").count() == 2
    # nothing vacuumed (every file is younger than 7 days): 3 versions × 3 files + the optimized one, a day
    assert [len(list(Path(path).glob(f"dt=2026-01-0{d}/*.parquet"))) for d in (1, 2, 3)] == [10, 10, 10]
    # within the retention every version is still there: the first write reads as it was
    first = spark.read.format("delta").option("versionAsOf", 0).load(path)
    assert first.count() == 36 and {r[0] for r in first.select("n_creatives").distinct().collect()} == {0}
    assert {r[0] for r in spark.read.format("delta").load(path).select("n_creatives").distinct().collect()} == {2}


def backdate(path: str, versions: range, files: set[str], seconds: float) -> None:
    """Make the commits ``versions`` and the data ``files`` of the table at ``path`` ``seconds`` older.

    Delta dates a commit by its file's modification time and a removed file by the ``deletionTimestamp``
    in the log; moving both back gives versions of days ago without waiting for them.
    """
    log = Path(path) / "_delta_log"
    for version in versions:
        commit = log / f"{version:020d}.json"
        actions = [json.loads(line) for line in commit.read_text().splitlines()]
        for action in actions:
            if "remove" in action:
                action["remove"]["deletionTimestamp"] -= int(seconds * 1000)
        commit.write_text("".join(json.dumps(action) + "\n" for action in actions))
        (log / f".{commit.name}.crc").unlink()  # Hadoop's checksum of the old text
        os.utime(commit, (commit.stat().st_mtime - seconds,) * 2)
    for data_file in Path(path).glob("dt=*/*.parquet"):
        if data_file.name in files:
            os.utime(data_file, (data_file.stat().st_mtime - seconds,) * 2)


def test_vacuum_deletes_what_is_older_than_the_retention_and_time_travel_stops_there(spark, tmp_path):
    path = str(tmp_path / "allocation")
    write_days(spark, path, 0)
    old_files = data_files(path)
    write_days(spark, path, 1)  # removes v0's files
    backdate(path, range(2), old_files, seconds=3 * 86_400)  # v0 and v1 were written 3 days ago
    write_days(spark, path, 2)
    write_days(spark, path, 3)
    spark._jvm.org.apache.spark.sql.delta.DeltaLog.clearCache()  # forget the log as it was read before
    set_retention(spark, path, 2, 2)
    vacuumed = vacuum(spark, path, 2)
    assert not old_files & data_files(path)  # the old data files are gone, the others are not
    assert len(data_files(path)) == 3 * 9 and vacuumed in (None, len(old_files))
    within = spark.read.format("delta").option("versionAsOf", 2).load(path)
    assert {r[0] for r in within.select("n_creatives").distinct().collect()} == {2} and within.count() == 36
    with pytest.raises(AnalysisException, match=r"Cannot time travel beyond delta\.deletedFileRetentionDuration"):
        spark.read.format("delta").option("versionAsOf", 0).load(path).count()
