"""A reference for the feature stage: the same point-in-time features computed by DuckDB on the same Parquet files.

    python benchmarks/duckdb_features.py --warehouse /tmp/acq_bench/nightly_1000000 [--threads 2]

It reads the files of ``creative_daily`` the last features run read (the Delta table's current files),
the run's calendar and vocabularies from its feature spec, and writes, like the Spark stage, one row per
scoring pair of the decision day and per training example the run kept (the keys of its
``training_examples`` for the run's label days), with every feature column, to a Parquet file. The
windows are SQL ``RANGE`` frames over the day number, as in :mod:`acq_spark.features.windows`; the
account totals are daily sums per account, windowed and joined back, as in :mod:`acq_spark.features.account`.

The input is taken as valid (the simulated world has no bad rows): DuckDB does no validation. The test
``tests/features/test_duckdb_reference.py`` checks the output equal to the Spark features on a small
world, within float tolerance (sums are added in another order), so the benchmark compares the same work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from acq_spark.features.columns import (  # noqa: E402
    ACCOUNT_METRICS,
    LEVEL,
    LEVEL_ADJUSTED_COST,
    LOGGED_METRICS,
    METRICS,
    OBS,
    PAIR_AGE,
    SPARSE,
    TRAILING_COST,
    TRAILING_COST_DAYS,
    account_col,
    cost_per_creative_col,
    days_active_col,
    idx_col,
    mean_col,
    sum_col,
)

PAIR = "PARTITION BY account_id, photo_id ORDER BY day"


def _frame(lower: int | None) -> str:
    start = "UNBOUNDED PRECEDING" if lower is None else f"{lower} PRECEDING"
    return f"RANGE BETWEEN {start} AND 1 PRECEDING"


def _sum(expr: str, window: int, over: str = PAIR) -> str:
    return f"COALESCE(SUM(CAST({expr} AS DOUBLE)) OVER ({over} {_frame(window)}), 0.0)"


def feature_sql(
    files: Sequence[str],
    decision_day: dt.date,
    last_input_day: dt.date,
    windows: Sequence[int],
    levels: Sequence[int],
) -> str:
    """The SELECT giving every feature of every input row before ``decision_day`` and of its probes.

    Every day before ``decision_day`` is read: the pair ages reach back to the first day, as the Spark
    stage's do through ``pair_history``.
    """
    listed = ", ".join(f"'{f}'" for f in files)
    source = f"read_parquet([{listed}], hive_partitioning = true)"
    values = ", ".join(["product_name", "industry_l1", "industry_l2", *LOGGED_METRICS])
    nulls = ", ".join(f"NULL AS {c}" for c in ["product_name", "industry_l1", "industry_l2", *LOGGED_METRICS])
    adjusted = "CASE WHEN n_creatives > 0 THEN cost / LN(1 + CAST(n_creatives AS DOUBLE)) ELSE cost END"
    level = "CASE " + " ".join(f"WHEN n_creatives >= {n} THEN {i}" for i, n in reversed(list(enumerate(levels))))
    level += " END"
    pair_columns = []
    for w in windows:
        for m in METRICS:
            pair_columns.append(f"{_sum(m, w)} AS {sum_col(m, w)}")
            pair_columns.append(f"{_sum(m, w)} / {float(w)} AS {mean_col(m, w)}")
        pair_columns.append(f"{_sum('CASE WHEN n_creatives > 0 THEN 1 ELSE 0 END', w)} AS {days_active_col(w)}")
        cost, n = _sum("cost", w), _sum("n_creatives", w)
        pair_columns.append(f"CASE WHEN {n} > 0 THEN {cost} / {n} ELSE 0.0 END AS {cost_per_creative_col(w)}")
    first = f"MIN(day) OVER ({PAIR} {_frame(None)})"
    pair_columns.append(f"COALESCE(CAST(day - {first} AS DOUBLE), 0.0) AS {PAIR_AGE}")
    for name in SPARSE:
        pair_columns.append(f"LAST({name} IGNORE NULLS) OVER ({PAIR} {_frame(None)}) AS {name}_asof")
    obs = ", ".join(
        f"CAST(COALESCE(SUM(CASE WHEN {LEVEL} = {k} THEN 1 ELSE 0 END) OVER ({PAIR} {_frame(max(windows))}), 0) AS INT)"
        for k in range(len(levels))
    )
    pair_columns.append(f"[{obs}] AS {OBS}")
    pair_columns.append(f"{_sum('cost', TRAILING_COST_DAYS)} AS {TRAILING_COST}")
    account = "PARTITION BY account_id ORDER BY day"
    account_columns = [
        f"{_sum(m, w, account)} AS {account_col(m, w)}" for w in windows for m in ACCOUNT_METRICS
    ]
    daily = ", ".join(f"CAST(SUM(CAST({m} AS DECIMAL(38,10))) AS DOUBLE) AS {m}" for m in ACCOUNT_METRICS)
    return f"""
WITH src AS (
  SELECT dt, account_id, photo_id, {values}, false AS is_probe
  FROM {source} WHERE dt < DATE '{decision_day}'
  UNION ALL
  SELECT DATE '{decision_day}' AS dt, account_id, photo_id, {nulls}, true AS is_probe
  FROM {source} WHERE dt = DATE '{last_input_day}'
), rows AS (
  SELECT *, CAST(dt - DATE '1970-01-01' AS INT) AS day, {level} AS {LEVEL}, {adjusted} AS {LEVEL_ADJUSTED_COST}
  FROM src
), pair AS (
  SELECT dt, account_id, photo_id, day, is_probe, {LEVEL}, n_creatives, cost, {", ".join(pair_columns)} FROM rows
), daily AS (
  SELECT account_id, day, {daily} FROM rows GROUP BY account_id, day
), account AS (
  SELECT account_id, day, {", ".join(account_columns)} FROM daily
)
SELECT pair.*, {", ".join(account_col(m, w) for w in windows for m in ACCOUNT_METRICS)}
FROM pair LEFT JOIN account USING (account_id, day)
"""


def with_vocab_sql(features: str, vocabularies: Mapping[str, Sequence[str]]) -> str:
    """``features`` with ``<name>_idx`` (0 out of vocabulary) in place of each ``<name>_asof``."""
    values = []
    for name in SPARSE:
        rows = ", ".join(f"('{v.replace(chr(39), chr(39) * 2)}', {i + 1})" for i, v in enumerate(vocabularies[name]))
        values.append(f"v_{name} AS (SELECT * FROM (VALUES {rows or '(NULL, 0)'}) t(value, idx))")
    joins = " ".join(f"LEFT JOIN v_{n} ON f.{n}_asof = v_{n}.value" for n in SPARSE)
    indices = ", ".join(f"COALESCE(v_{n}.idx, 0) AS {idx_col(n)}" for n in SPARSE)
    return f"WITH f AS ({features}), {', '.join(values)} SELECT f.*, {indices} FROM f {joins}"


def duckdb_features(
    files: Sequence[str],
    spec: Mapping,
    vocabularies: Mapping[str, Sequence[str]],
    keys_parquet: Sequence[str],
    out: Path,
    threads: int = 2,
) -> tuple[int, float]:
    """Write the features of the probes and of the training examples whose keys ``keys_parquet`` holds to ``out``.

    Returns:
        The rows written and the seconds DuckDB took.
    """
    decision, last = (dt.date.fromisoformat(spec[k]) for k in ("decision_day", "last_input_day"))
    query = with_vocab_sql(feature_sql(files, decision, last, spec["windows"], spec["levels"]), vocabularies)
    labels = ", ".join(f"DATE '{d}'" for d in spec["label_days"])
    listed = ", ".join(f"'{f}'" for f in keys_parquet)
    keep = (
        f"SELECT x.* FROM ({query}) x WHERE x.is_probe OR (x.dt IN ({labels}) AND x.{LEVEL} IS NOT NULL AND "
        f"(x.dt, x.account_id, x.photo_id) IN (SELECT (dt, account_id, photo_id) FROM read_parquet([{listed}], "
        "hive_partitioning = true)))"
    )
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute("SET preserve_insertion_order = false")
    # Bounded like the Spark run (16 GiB target): DuckDB spills beyond this to a folder beside its output.
    con.execute("SET memory_limit = '12GB'")
    con.execute(f"SET temp_directory = '{out.parent / 'duckdb_tmp'}'")
    start = time.perf_counter()
    con.execute(f"COPY ({keep}) TO '{out}' (FORMAT parquet)")
    seconds = time.perf_counter() - start
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]
    return int(rows), seconds


def run_files(spark, cfg) -> tuple[list[str], dict, dict, list[str]]:
    """The input files, feature spec, vocabularies and training-example files of the last features run."""
    from pyspark.sql import functions as F

    from acq_spark.features.job import load_built_features

    built = load_built_features(cfg.warehouse)
    raw = spark.read.format("delta").load(cfg.input_path)
    files = sorted(raw.where(F.col("dt") < F.lit(built.spec.decision_day)).inputFiles())
    labels = list(built.spec.label_days)
    examples = spark.read.format("delta").load(cfg.table("training_examples")).where(F.col("dt").isin(labels))
    return files, built.spec.to_dict(), built.vocab["vocabularies"], sorted(examples.inputFiles())


def main(argv: list[str] | None = None) -> None:
    from acq_spark.config import load_config
    from acq_spark.platform.session import get_spark

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    cfg = load_config(ROOT / "conf" / "local.yaml", [f"warehouse={args.warehouse}", "spark.progress=false"])
    spark = get_spark(cfg.spark, app_name="duckdb-reference-files")
    files, spec, vocab, keys = run_files(spark, cfg)
    spark.stop()
    out = Path(args.out or Path(args.warehouse) / "duckdb_features.parquet")
    rows, seconds = duckdb_features(files, spec, vocab, keys, out, args.threads)
    shown = f"{rows:,} rows in {seconds:.1f} s with {args.threads} threads ({len(files)} input files)"
    print(f"duckdb features: {shown} -> {out}", flush=True)


if __name__ == "__main__":
    main()
