"""The input contract of ``creative_daily`` (spec §2): schema faults stop the job, row faults are quarantined.

Schema faults (a missing column, a column of the wrong type) raise :class:`InputSchemaError`
before anything is written. Row faults get a reason each and go to the ``quarantine`` Delta
table; when their share of the input passes ``validation.max_bad_share`` the job fails with
:class:`InputRowsError` (the quarantine is still written, so the rows can be inspected).

Outlier guard (``validation.outlier``): a cost above ``multiple`` × the ``quantile`` of the valid
positive costs is quarantined with the reason "outlier", or capped to that bound, or let through
(``off``). The counts go to a validation record, ``<warehouse>/runs/validation/<run_date>.json``,
which the report shows. The record keeps the run calendar too, with the fingerprint of the input it came
from, so that a job run later for the same day (an ad-hoc λ, an allocation on its own) reads the budget's
facts from it instead of validating the whole input again (:func:`recorded_calendar`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import operator
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import reduce
from typing import NamedTuple

from pyspark.sql import Column, DataFrame, Row, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from acq_spark.config import Config, OutlierConfig
from acq_spark.errors import InputRowsError, InputSchemaError
from acq_spark.ingest.days import WHAT, days_to_read, input_fingerprint, partition_days, read_input
from acq_spark.ingest.run_calendar import DayTotals, RunCalendar, day_totals_columns, input_calendar, plan_calendar
from acq_spark.ingest.schemas import KEYS
from acq_spark.platform import fs
from acq_spark.platform.caching import INPUT_SIZED_CACHE, cached
from acq_spark.platform.catalog import QUARANTINE, VALIDATION_RECORDS
from acq_spark.platform.delta_tables import reading, replace_days
from acq_spark.platform.frames import one_row
from acq_spark.platform.fs import read_json, write_json
from acq_spark.platform.run_log import LOG, StageTimer

ROW_KEY = ("dt", *KEYS)  # one input row per pair and day
_KEY_COUNT = "_key_count"
MAX_JOINED_DUPLICATES = 100_000  # duplicated keys joined back to their rows (broadcast); more: sort by key
SCHEMA = T.StructType(
    [
        T.StructField("dt", T.DateType()),
        T.StructField("account_id", T.LongType()),
        T.StructField("photo_id", T.LongType()),
        T.StructField("product_name", T.StringType()),
        T.StructField("industry_l1", T.StringType()),
        T.StructField("industry_l2", T.StringType()),
        T.StructField("n_creatives", T.IntegerType()),
        T.StructField("cost", T.DoubleType()),
        T.StructField("target_cost", T.DoubleType()),
        T.StructField("conversions", T.LongType()),
        T.StructField("impressions", T.LongType()),
    ]
)
NUMERIC = ("n_creatives", "cost", "target_cost", "conversions", "impressions")
_INTEGRAL = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)
_FRACTIONAL = (T.FloatType, T.DoubleType, T.DecimalType)
REASON = "reason"
OUTLIER = "outlier"
_IS_OUTLIER = "_is_outlier"


@dataclass(frozen=True)
class ValidationResult:
    """The clean rows, the quarantined rows (input columns + ``reason``) and the counts.

    Attributes:
        outlier_rows: rows whose cost passed ``outlier_bound`` (quarantined or capped, by ``outlier_action``).
        outlier_bound: the bound the guard used; None when it is off or no valid cost is positive.
        per_day: per input day, the counts and the clean rows' sums :func:`split_rows` computed (see
            :func:`_day_figures`); empty when not counted.
        pairs: the distinct pairs of the clean rows (None when not counted).
    """

    clean: DataFrame
    quarantine: DataFrame
    total_rows: int
    bad_rows: int
    outlier_rows: int = 0
    outlier_bound: float | None = None
    outlier_action: str = "off"
    per_day: Mapping[dt.date, Mapping[str, float]] = dataclasses.field(default_factory=dict, repr=False)
    pairs: int | None = None

    def day_totals(self) -> dict[dt.date, DayTotals]:
        """The run calendar's totals of every day with clean rows."""
        return {
            day: DayTotals(int(f["rows"]), int(f["creatives"] or 0), int(f["labelled"]))
            for day, f in self.per_day.items()
            if f["rows"]
        }

    def summary(self) -> dict[str, object]:
        """The input summary of the clean rows (pairs, days, zero-cost share, cost moments), from the per-day sums."""
        days = {d: f for d, f in sorted(self.per_day.items()) if f["rows"]}
        n = sum(int(f["rows"]) for f in days.values())
        total, squares = (sum(float(f[k] or 0.0) for f in days.values()) for k in ("cost_sum", "cost_sq"))
        variance = (squares - total * total / n) / (n - 1) if n > 1 else float("nan")
        last = max(days) if days else None
        return {
            "rows": n,
            "pairs": self.pairs,
            "days": len(days),
            "first_day": str(min(days)) if days else None,
            "last_day": str(last) if days else None,
            "zero_cost_share": sum(int(f["zero_cost"]) for f in days.values()) / n if n else None,
            "mean": total / n if n else None,
            "std": math.sqrt(max(variance, 0.0)) if n > 1 else None,
            "max": max(float(f["cost_max"]) for f in days.values()) if days else None,
            "mean_creatives": sum(int(f["n_creatives"] or 0) for f in days.values()) / n if n else None,
            "creatives_last_day": int(days[last]["n_creatives"] or 0) if last is not None else 0,
        }

    @property
    def bad_share(self) -> float:
        return self.bad_rows / self.total_rows if self.total_rows else 0.0

    def record(self) -> dict[str, object]:
        """The counts as a small JSON-ready dict (the validation record)."""
        return {
            "rows": self.total_rows,
            "quarantined": self.bad_rows,
            "bad_share": self.bad_share,
            "outliers": {"action": self.outlier_action, "bound": self.outlier_bound, "rows": self.outlier_rows},
        }


def _accepts(expected: T.DataType, actual: T.DataType) -> bool:
    """Exact types, or a lossless widening (int → long; float/int → double)."""
    if isinstance(expected, T.LongType | T.IntegerType):
        if isinstance(expected, T.IntegerType) and isinstance(actual, T.LongType):
            return False
        return isinstance(actual, _INTEGRAL)
    if isinstance(expected, T.DoubleType):
        return isinstance(actual, _FRACTIONAL + _INTEGRAL)
    return type(actual) is type(expected)


def check_schema(df: DataFrame) -> DataFrame:
    """Check every contract column is present with an acceptable type; cast to the contract's types.

    Raises:
        InputSchemaError: naming every missing column and every column of the wrong type.
    """
    actual = {f.name: f.dataType for f in df.schema.fields}
    problems = []
    for field in SCHEMA.fields:
        if field.name not in actual:
            problems.append(f"missing column '{field.name}' (expected {field.dataType.simpleString()})")
        elif not _accepts(field.dataType, actual[field.name]):
            problems.append(
                f"column '{field.name}' has type {actual[field.name].simpleString()}, "
                f"expected {field.dataType.simpleString()}"
            )
    if problems:
        raise InputSchemaError("creative_daily schema: " + "; ".join(problems))
    return df.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in SCHEMA.fields])


def _row_faults() -> list[tuple[Column, str]]:
    faults: list[tuple[Column, str]] = [(F.col(k).isNull(), f"null key {k}") for k in ROW_KEY]
    for c in NUMERIC:
        faults.append((F.col(c).isNull(), f"null {c}"))
        faults.append((F.col(c) < 0, f"negative {c}"))
    for c in ("cost", "target_cost"):
        faults.append((F.isnan(F.col(c)) | (F.abs(F.col(c)) == F.lit(float("inf"))), f"non-finite {c}"))
    faults.append(((F.col("cost") > 0) & (F.col("n_creatives") == 0), "cost > 0 with 0 creatives"))
    faults.append((F.col(_KEY_COUNT) > 1, "duplicate key (dt, account_id, photo_id)"))
    return faults


def find_duplicate_keys(df: DataFrame, limit: int = MAX_JOINED_DUPLICATES) -> list[Row] | None:
    """The row keys ``df`` holds more than once, each with its ``_key_count``; None when more than ``limit``.

    One hash aggregate of the keys, no sort: rows partitioned by account (:func:`by_account`) and already
    cached are counted where they lie. An input without duplicates, the usual one, then needs no sort at all.
    """
    counts = df.groupBy(*ROW_KEY).agg(F.count(F.lit(1)).alias(_KEY_COUNT))
    found = counts.where(F.col(_KEY_COUNT) > 1).limit(limit + 1).collect()
    return found if len(found) <= limit else None


def _with_key_counts(df: DataFrame, duplicates: list[Row] | None) -> DataFrame:
    """``df`` with ``_key_count``, its row key's number of rows: from ``duplicates`` (1 for a key not among
    them; joined null-safe, as the window groups null keys), or None for a window over the keys (a sort)."""
    if duplicates is None:
        return df.withColumn(_KEY_COUNT, F.count(F.lit(1)).over(Window.partitionBy(*ROW_KEY)))
    if not duplicates:
        return df.withColumn(_KEY_COUNT, F.lit(1).cast("long"))
    schema = T.StructType([*(df.schema[k] for k in ROW_KEY), T.StructField(_KEY_COUNT, T.LongType())])
    found = df.sparkSession.createDataFrame(duplicates, schema).select(
        *(F.col(k).alias(f"_dup_{k}") for k in ROW_KEY), F.col(_KEY_COUNT).alias("_dup_n")
    )
    same_key = reduce(operator.and_, [F.col(k).eqNullSafe(F.col(f"_dup_{k}")) for k in ROW_KEY])
    joined = df.join(F.broadcast(found), same_key, "left")
    return joined.withColumn(_KEY_COUNT, F.coalesce(F.col("_dup_n"), F.lit(1).cast("long"))).drop(*found.columns)


def with_reasons(df: DataFrame, duplicates: list[Row] | None = None) -> DataFrame:
    """Add ``reason``: every row fault of the row joined by '; ', null when the row is clean.

    Args:
        df: schema-checked rows.
        duplicates: :func:`find_duplicate_keys`' result for ``df``; None counts the keys by a window (a sort).
    """
    counted = _with_key_counts(df, duplicates)
    reasons = [F.when(cond, F.lit(text)) for cond, text in _row_faults()]
    reason = F.concat_ws("; ", *reasons)
    return counted.withColumn(REASON, F.when(reason != "", reason)).drop(_KEY_COUNT)


def outlier_bound(flagged: DataFrame, quantile: float, multiple: float) -> float | None:
    """``multiple`` × the ``quantile`` of the positive costs of rows without a fault; None when there are none.

    Only positive costs count (most rows cost 0), and only rows without a fault, so a negative or
    non-finite cost cannot move the bound. One small aggregate is collected.
    """
    q = one_row(flagged.agg(_positive_quantile(F.col(REASON).isNull(), quantile)))[0]
    return None if q is None else float(multiple * q)


def with_outliers(flagged: DataFrame, bound: float | None, action: str) -> DataFrame:
    """Apply the outlier guard to rows with a ``reason`` column: mark, then quarantine or cap costs above ``bound``.

    Adds the boolean ``_is_outlier`` (a fault-free row with cost > ``bound``). ``quarantine`` gives those
    rows the reason "outlier"; ``cap`` sets their cost to ``bound``; ``off`` or a None bound marks nothing.
    """
    if action == "off" or bound is None:
        return flagged.withColumn(_IS_OUTLIER, F.lit(False))
    marked = flagged.withColumn(_IS_OUTLIER, F.col(REASON).isNull() & (F.col("cost") > F.lit(bound)))
    if action == "cap":
        return marked.withColumn("cost", F.when(F.col(_IS_OUTLIER), F.lit(bound)).otherwise(F.col("cost")))
    return marked.withColumn(REASON, F.when(F.col(_IS_OUTLIER), F.lit(OUTLIER)).otherwise(F.col(REASON)))


def by_account(df: DataFrame, partitions: int) -> DataFrame:
    """``df`` hash-partitioned by ``account_id`` into ``partitions``: the run's one shuffle of the input.

    Every later per-row-key, per-pair and per-account window, aggregate and join of the validated rows
    is clustered by the account, so the validation's duplicate check and all the features reuse this
    partitioning and shuffle nothing input-sized again (the cache keeps it).
    """
    return df.repartition(partitions, "account_id")


def flag_rows(df: DataFrame) -> DataFrame:
    """The raw ``creative_daily`` rows, schema checked and typed, with the ``reason`` each one breaks the contract.

    Raises:
        InputSchemaError: a missing column or one of the wrong type.
    """
    return with_reasons(check_schema(df))


def validate(df: DataFrame, outlier: OutlierConfig | None = None) -> ValidationResult:
    """Split ``df`` into clean and quarantined rows (schema checked first; nothing written here).

    Args:
        df: the raw ``creative_daily`` rows.
        outlier: the outlier guard's settings; None turns it off.
    """
    return split_rows(flag_rows(df), outlier)


def split_rows(
    flagged: DataFrame, outlier: OutlierConfig | None = None, levels: Sequence[int] | None = None
) -> ValidationResult:
    """Split the :func:`flag_rows` rows into clean and quarantined ones, the outlier guard applied, and count them.

    Small jobs over ``flagged``: the outlier bound, then one row per day with every count, the run
    calendar's totals (by ``levels``; the default levels when None) and the input summary's sums
    (:attr:`ValidationResult.per_day`, :meth:`ValidationResult.summary`), then the distinct clean pairs.
    The bound is a job of its own: beside a distinct count, Spark would keep a quantile sketch per pair
    and merge them all (half of the stage's time at 1M pairs).
    """
    action = "off" if outlier is None else outlier.action
    bound = None if outlier is None or action == "off" else outlier_bound(flagged, outlier.quantile, outlier.multiple)
    marked = with_outliers(flagged, bound, action)
    days = {r["dt"]: r.asDict() for r in marked.groupBy("dt").agg(*_day_figures(levels)).collect()}
    outliers = sum(d["outliers"] for d in days.values())
    pairs = _clean_pairs(marked)
    return ValidationResult(
        clean=marked.where(F.col(REASON).isNull()).drop(REASON, _IS_OUTLIER),
        quarantine=marked.where(F.col(REASON).isNotNull()).drop(_IS_OUTLIER),
        total_rows=sum(d["n"] for d in days.values()),
        bad_rows=sum(d["bad"] for d in days.values()),
        outlier_rows=outliers,
        outlier_bound=bound,
        outlier_action=action,
        per_day={d: {k: v for k, v in row.items() if k != "dt"} for d, row in days.items() if d is not None},
        pairs=pairs,
    )


def _positive_quantile(fault_free: Column, quantile: float) -> Column:
    """The ``quantile`` of the positive costs of rows without a fault (null when there are none)."""
    return F.percentile_approx(F.when(fault_free & (F.col("cost") > 0), F.col("cost")), quantile, 10_000)


def _clean_pairs(marked: DataFrame) -> int:
    """The distinct pairs of the clean rows (outliers quarantined or not).

    Rows partitioned by account (:func:`by_account`) are grouped by pair where they lie: no shuffle.
    """
    return int(marked.where(F.col(REASON).isNull()).select(*KEYS).distinct().count())


def _day_figures(levels: Sequence[int] | None) -> list[Column]:
    """Per day: all rows, quarantined, outliers; of the clean rows: the calendar's totals and the summary's sums."""
    from acq_spark.config import Config

    levels = tuple(levels or Config().levels)
    clean = F.col(REASON).isNull()
    cost, n = F.col("cost"), F.col("n_creatives")
    return [
        F.count(F.lit(1)).alias("n"),
        F.count(REASON).alias("bad"),
        F.count(F.when(F.col(_IS_OUTLIER), 1)).alias("outliers"),
        *day_totals_columns(levels, clean),
        F.count(F.when(clean & (cost == 0), 1)).alias("zero_cost"),
        F.sum(F.when(clean, cost)).alias("cost_sum"),
        F.sum(F.when(clean, cost * cost)).alias("cost_sq"),
        F.max(F.when(clean, cost)).alias("cost_max"),
        F.sum(F.when(clean, n.cast("long"))).alias("n_creatives"),
    ]


def write_quarantine(result: ValidationResult, path: str, run_date: dt.date) -> None:
    """Replace the ``run_date`` partition of the quarantine table with this run's bad rows."""
    rows = result.quarantine.withColumn("run_date", F.lit(run_date)).withColumn(
        "quarantined_at", F.current_timestamp()
    )
    replace_days(rows, path, [run_date], column="run_date")


def enforce_share(result: ValidationResult, max_bad_share: float, quarantine_path: str) -> None:
    """Fail when the share of quarantined rows passes ``max_bad_share``."""
    if result.bad_share > max_bad_share:
        examples = result.quarantine.select(*ROW_KEY, REASON).limit(3).collect()
        shown = "; ".join(f"({r['dt']}, {r['account_id']}, {r['photo_id']}): {r[REASON]}" for r in examples)
        raise InputRowsError(
            f"creative_daily: {result.bad_rows:,} of {result.total_rows:,} rows ({result.bad_share:.2%}) break the "
            f"input contract, above validation.max_bad_share={max_bad_share:.2%}; e.g. {shown}; "
            f"all of them are in {quarantine_path}"
        )


class ValidInput(NamedTuple):
    """The validated input: its clean rows, the run calendar built from them, their summary (None: not counted)."""

    rows: DataFrame
    calendar: RunCalendar
    summary: dict[str, object] | None = None

    def figures(self) -> dict[str, object]:
        """The ``validate`` stage's figures: rows, pairs and days kept, and the decision day."""
        assert self.summary is not None, "valid_input counts the summary"
        figures = {key: self.summary[key] for key in ("rows", "pairs", "days")}
        return figures | {"decision_day": str(self.calendar.decision_day)}


@contextmanager
def valid_input(spark: SparkSession, cfg: Config, record: bool = True) -> Iterator[ValidInput]:
    """Read ``creative_daily`` and validate it; the clean rows and the run calendar, cached for the ``with`` block.

    Only the input days the run needs are read (:func:`acq_spark.ingest.days.days_to_read`). The calendar
    (decision day, label days, creatives per day) and the input summary come from the validation's own
    counts, in the same pass over the rows.
    With ``record``, this run's quarantine and validation record are written under its decision day and
    the share of bad rows is enforced; without, nothing is written (for facts about the input). The
    validated rows stay cached on the executors' disks until the block ends.

    Raises:
        InputNotFoundError: no table at ``input.path``.
        InputSchemaError: a missing column, a wrong type or a dt off midnight (nothing written).
        InputRowsError: the share of bad rows passes ``validation.max_bad_share``, or no input day lies
            before the decision day.
        UnreadableFileError: a data file of the input is truncated or not Parquet (naming the file).
    """
    raw = read_input(spark, cfg, check=True)
    rows = by_account(days_to_read(raw, cfg), cfg.spark.shuffle_partitions)
    with cached(check_schema(rows), INPUT_SIZED_CACHE) as checked:
        with reading(WHAT):  # the first pass over every input file read
            checked.count()  # fills the cache; the planner then knows its rows lie by account and counts keys in place
            flagged = with_reasons(checked, find_duplicate_keys(checked))
            result = split_rows(flagged, cfg.validation.outlier, cfg.levels)
            calendar = plan_calendar(result.day_totals(), cfg.features.train_days, cfg.run_date)
        if record:
            keep_record(result, cfg, calendar, input_fingerprint(raw, before=calendar.decision_day))
        yield ValidInput(result.clean, calendar, result.summary())


@contextmanager
def given_or_valid_input(
    spark: SparkSession,
    cfg: Config,
    source: DataFrame | None = None,
    calendar: RunCalendar | None = None,
    record: bool = True,
    timer: StageTimer | None = None,
) -> Iterator[ValidInput]:
    """The validated input a stage was handed, or, for a stage run on its own, :func:`valid_input`'s (timed as the
    stage ``validate``: at scale it is a good part of the job).

    Args:
        spark: the session.
        cfg: the configuration.
        source: the validated rows an earlier stage handed on; None reads and validates ``creative_daily``.
        calendar: the run calendar of ``source``; None computes it from ``source``.
        record: when reading the input, write the quarantine and validation record (see :func:`valid_input`).
        timer: collects the validation's timing when it reads the input; a new one when None.
    """
    if source is None:
        with ExitStack() as held:
            with (timer or StageTimer()).stage("validate") as rec:
                valid = held.enter_context(valid_input(spark, cfg, record))
                rec.figures.update(valid.figures())
            yield valid
        return
    if calendar is None:
        calendar = input_calendar(source, cfg.levels, cfg.features.train_days, cfg.run_date)
    yield ValidInput(source, calendar)


def keep_record(result: ValidationResult, cfg: Config, calendar: RunCalendar, fingerprint: str) -> None:
    """Write the quarantine and the validation record of the calendar's day, warn of outliers, enforce the bad share.

    Raises:
        InputRowsError: the share of bad rows passes ``validation.max_bad_share``.
    """
    run_date = calendar.decision_day
    quarantine_path = cfg.table(QUARANTINE)
    write_quarantine(result, quarantine_path, run_date)
    if result.outlier_rows:
        done = "quarantined" if result.outlier_action == "quarantine" else "capped to the bound"
        LOG.warning(
            "creative_daily: %d cost(s) above the outlier bound %.6g (validation.outlier: %s x the %s quantile "
            "of the positive costs) %s",
            result.outlier_rows, result.outlier_bound, cfg.validation.outlier.multiple,
            cfg.validation.outlier.quantile, done,
        )  # fmt: skip
    kept = {"calendar": calendar.to_dict(), "calendar_of": _calendar_key(cfg, fingerprint)}
    write_json(validation_record_path(cfg, run_date), {"run_date": run_date, **result.record(), **kept})
    enforce_share(result, cfg.validation.max_bad_share, quarantine_path)


def _calendar_key(cfg: Config, fingerprint: str) -> dict[str, object]:
    """What a recorded calendar depends on: the input's files, the levels (its creatives), the label days and the
    outlier guard (which rows count)."""
    return {
        "input": fingerprint,
        "levels": list(cfg.levels),
        "train_days": cfg.features.train_days,
        "outlier": dataclasses.asdict(cfg.validation.outlier),
    }


def recorded_calendar(spark: SparkSession, cfg: Config) -> tuple[RunCalendar | None, str]:
    """The run calendar the decision day's validation record keeps, if the input is still the one it came from.

    The decision day is ``run_date``, else the day after the input's last ``dt`` partition. Only the input's
    file listing is read (its fingerprint), no rows. Returns the calendar (None when there is no usable
    record) and where it came from or why it is not used, for the job's record.

    Raises:
        InputNotFoundError: no table at ``input.path``.
    """
    raw = read_input(spark, cfg)
    day = cfg.run_date
    if day is None:
        days = partition_days(raw)
        if not days:
            return None, "the input is not partitioned by day"
        day = days[-1] + dt.timedelta(days=1)
    path = validation_record_path(cfg, day)
    if not fs.is_file(path):
        return None, f"no validation record for {day}"
    record = read_json(path, f"validation record of {day}")
    if "calendar" not in record:
        return None, f"the validation record of {day} keeps no calendar (written by an older version)"
    if record.get("calendar_of") != _calendar_key(cfg, input_fingerprint(raw, before=day)):
        return None, f"the input, levels or validation settings changed since the validation record of {day}"
    return RunCalendar.from_spec(record["calendar"]), f"the validation record {path}"


def validation_record_path(cfg: Config, run_date: dt.date | str) -> str:
    """Where the validation record of ``run_date`` is written."""
    return cfg.table(f"{VALIDATION_RECORDS}/{run_date}.json")
