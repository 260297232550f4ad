"""``jobs/allocate.py`` end to end on tiny synthetic Delta tables in a temporary warehouse."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from acq_spark import PROJECT_ROOT
from acq_spark.allocation.job import day_and_budget, run_allocate
from acq_spark.allocation.publish import pointer_path, publish_day, read_pointer, read_published
from acq_spark.allocation.record import AllocationRecord
from acq_spark.allocation.tables import account_rules, allocation_table, check_score_columns, check_score_rows
from acq_spark.config import load_config
from acq_spark.errors import (
    InfeasibleBudgetError,
    InputNotFoundError,
    InputRowsError,
    InputSchemaError,
    PublishGuardError,
)
from acq_spark.ingest.run_calendar import RunCalendar
from acq_spark.ingest.validation import SCHEMA, recorded_calendar, valid_input, validation_record_path
from acq_spark.platform.delta_tables import delta_version, replace_days, table_exists

D1, D2, D3 = dt.date(2026, 1, 5), dt.date(2026, 1, 6), dt.date(2026, 1, 7)
N_PAIRS = 40
SCORES_SCHEMA = (
    "dt date, account_id long, photo_id long, pvalue array<double>, r array<double>, explore array<double>, "
    "cost_7d double"
)


def scores_rows(day: dt.date, k: int, seed: int):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(N_PAIRS):
        r = np.cumsum(rng.exponential(size=k) * np.exp(-0.4 * np.arange(k))) * (1 + i % 5)
        cost_7d = None if i == 0 else float(i % 4) * 3.0
        rows.append((day, i // 4, 1000 + i, r.tolist(), r.tolist(), [0.0] * k, cost_7d))
    return rows


@pytest.fixture
def warehouse(spark, make_cfg):
    """A factory of configs on a warehouse with the tables of :func:`write_tables` (input in Parquet)."""

    def factory(*overrides: str):
        return make_cfg("input.format=parquet", *overrides)

    write_tables(spark, factory())
    return factory


def daily_row(day: dt.date, account: int, photo: int, n: int, cost: float = 1.0) -> tuple:
    """One ``creative_daily`` row (spec §2)."""
    return (day, account, photo, "product", "l1", None, n, cost, 2.0, 0, 10)


def write_tables(spark, cfg) -> None:
    """Input days Jan 3–5 (40 pairs × 2 creatives a day), scores for Jan 5 and Jan 6, truth for Jan 5."""
    k = len(cfg.levels)
    daily = [daily_row(D1 - dt.timedelta(days=d), i // 4, 1000 + i, 2) for d in range(3) for i in range(N_PAIRS)]
    daily_df = spark.createDataFrame(daily, SCHEMA)
    daily_df.write.format(cfg.input.format).partitionBy("dt").save(cfg.input_path)
    scores = spark.createDataFrame(scores_rows(D1, k, 1) + scores_rows(D2, k, 2), SCORES_SCHEMA)
    scores.write.format("delta").partitionBy("dt").save(cfg.table("scores"))
    truth = scores.where(F.col("dt") == F.lit(D1)).select("dt", "account_id", "photo_id",
                                                         F.col("pvalue").alias("expected_cost"))
    truth.write.format("delta").save(cfg.table("truth"))


def load_job(name: str):
    spec = importlib.util.spec_from_file_location(f"job_{name}", PROJECT_ROOT / "jobs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def job_argv(cfg, *overrides: str) -> list[str]:
    sets = [f"warehouse={cfg.warehouse}", "input.format=parquet", *overrides]
    config = str(PROJECT_ROOT / "conf" / "test.yaml")
    return ["allocate.py", "--config", config, *(arg for item in sets for arg in ("--set", item))]


def test_an_infeasible_budget_stops_the_job_before_anything_is_written(spark, warehouse, monkeypatch):
    cfg = warehouse()
    monkeypatch.setattr("sys.argv", job_argv(cfg, "budget.total_creatives=39"))
    with pytest.raises(InfeasibleBudgetError, match="below the minimum 40"):
        load_job("allocate").main()
    assert not table_exists(spark, cfg.table("allocation")) and not Path(cfg.table("runs")).exists()


@pytest.fixture(scope="module")
def three_runs(spark, tmp_path_factory):
    """Three runs on one warehouse: Jan 6 (a ratio budget), Jan 5 (the oracle), Jan 6 again (rule-based).

    Returns what each run recorded, and the tables as the first two left them (``before``: its schema).
    """
    root = tmp_path_factory.mktemp("allocate_runs")

    def warehouse(*overrides: str):
        return load_config(PROJECT_ROOT / "conf" / "test.yaml", [f"warehouse={root / 'warehouse'}",
                                                                "input.format=parquet", *overrides])

    cfg = warehouse()
    write_tables(spark, cfg)
    first = run_allocate(spark, warehouse("budget.ratio_of_last_day=1.5"), run_id="run-a")
    second = run_allocate(spark, warehouse(f"run_date={D1}", "allocation.method=oracle",
                                           "budget.total_creatives=200"), run_id="run-b")
    alloc = spark.read.format("delta").load(cfg.table("allocation"))
    by_day = {row["dt"]: row for row in alloc.groupBy("dt").agg(
        F.count("*").alias("n"), F.sum("n_creatives").alias("used"), F.collect_set("run_id").alias("runs"),
        F.collect_set("method").alias("methods")).collect()}
    rules = spark.read.format("delta").load(cfg.table("account_rules")).where(F.col("dt") == F.lit(D2)).collect()
    version = delta_version(spark, cfg.table("allocation"))
    third = run_allocate(spark, warehouse("budget.total_creatives=100", "allocation.method=rule_based"),
                         run_id="run-c")
    return SimpleNamespace(cfg=cfg, first=first, second=second, third=third, before=alloc, by_day=by_day,
                           rules=rules, version=version)


def test_the_decision_day_follows_the_last_input_day_and_the_budget_is_a_ratio_of_it(three_runs):
    first = three_runs.first
    # decision day = the day after the last input day (Jan 6); budget = 1.5 × 80 creatives on Jan 5
    assert first.day == D2 and first.budget == 120 and first.budget_source["last_day_creatives"] == 80
    assert first.solve.budget_used <= 120 and first.solve.search_passes <= 3


def test_each_day_holds_its_pairs_budget_and_method(three_runs):
    first, second, by_day, alloc = three_runs.first, three_runs.second, three_runs.by_day, three_runs.before
    assert second.day == D1 and second.method == "oracle"
    assert set(alloc.columns) == {"dt", "account_id", "photo_id", "level", "n_creatives", "r", "cost_units", "lambda",
                                  "run_id", "method", "model_version", "arm"}
    assert by_day[D2]["n"] == by_day[D1]["n"] == N_PAIRS
    assert by_day[D2]["used"] == first.solve.budget_used and by_day[D1]["used"] <= 200
    assert by_day[D1]["methods"] == ["oracle"]


def test_account_rules_add_up_the_days_allocation(three_runs):
    first, rules = three_runs.first, three_runs.rules
    assert sum(row["photos"] for row in rules) == N_PAIRS
    assert sum(row["total_creatives"] for row in rules) == first.solve.budget_used
    for row in rules:
        quotas = [q["photo_id"] for q in row["quotas"]]
        assert quotas == sorted(quotas) and len(quotas) == row["photos"]
        assert sum(q["n_creatives"] for q in row["quotas"]) == row["total_creatives"]


def test_a_rerun_replaces_only_its_day(spark, three_runs):
    cfg, third, version = three_runs.cfg, three_runs.third, three_runs.version
    # re-running Jan 6 (rule-based now) replaces Jan 6 only
    assert third.day == D2 and third.alpha is not None and third.alpha > 0
    alloc = spark.read.format("delta").load(cfg.table("allocation"))
    runs = {(row["dt"], row["run_id"]) for row in alloc.select("dt", "run_id").distinct().collect()}
    assert runs == {(D1, "run-b"), (D2, "run-c")}
    assert alloc.where(F.col("dt") == F.lit(D2)).where(F.col("lambda").isNotNull()).count() == 0
    assert delta_version(spark, cfg.table("allocation")) == version + 1


def test_the_run_record_names_the_versions_it_read_and_published(spark, three_runs):
    cfg, third, version = three_runs.cfg, three_runs.third, three_runs.version
    assert third.outputs == {
        "scores": {"version": 0, "model_version": None},  # written by the test, not by run_scoring
        "allocation": {"version": version + 1},
        "account_rules": {"version": delta_version(spark, cfg.table("account_rules"))},
    }
    record = json.loads(Path(cfg.table("runs"), "allocation", str(D2), "run-c.json").read_text())
    assert record["solve"]["budget_used"] <= 100 and record["method"] == "rule_based" and record["solve"]["alpha"] > 0
    assert record == third.to_dict() and AllocationRecord.from_dict(record).to_dict() == record
    assert Path(cfg.table("runs"), "allocation", str(D2), "run-a.json").is_file()


def test_ratio_budget_counts_only_valid_last_day_rows_mapped_to_levels(spark, warehouse):
    cfg = warehouse()
    extra = [
        *[daily_row(D1, 50, 2000 + i, 500) for i in range(5)],  # valid, n=500 → level 100 each
        daily_row(D1, 50, 2005, 4),  # valid, n=4 → level 3
        daily_row(D1, 0, 1000, 500),  # a second row for the key (Jan 5, 0, 1000): both copies quarantined
        daily_row(D1, 51, 2006, 50, cost=-1.0),  # negative cost: quarantined
    ]
    spark.createDataFrame(extra, SCHEMA).write.mode("append").partitionBy("dt").parquet(cfg.input_path)
    record = run_allocate(spark, warehouse("budget.ratio_of_last_day=1.0"), run_id="run-ratio")
    # Valid and mapped: 80 - 2 (the duplicated pair) + 5 × 100 + 3; the raw sum would be 80 + 2500 + 4 + 500 + 50.
    assert (record.budget, record.budget_source["last_day_creatives"]) == (581, 581)
    assert record.budget_source["last_input_day"] == str(D1)


def test_a_later_job_takes_the_budget_from_the_validation_record_while_the_input_is_unchanged(
    spark, warehouse, monkeypatch, capsys
):
    cfg = warehouse("budget.ratio_of_last_day=1.0")  # no run_date: the day after the input's last day
    day, budget, info = day_and_budget(spark, cfg)
    assert (day, budget) == (D2, 80)
    assert info["calendar_from"] == f"the input validated again (no validation record for {D2})"
    with valid_input(spark, cfg) as valid:  # what the nightly's validation writes
        calendar = valid.calendar
    for later in (cfg, warehouse("budget.ratio_of_last_day=1.0", f"run_date={D2}")):
        day, budget, info = day_and_budget(spark, later)
        assert (day, budget, info["last_input_day"]) == (D2, 80, str(D1))
        assert info["calendar_from"] == f"the validation record {validation_record_path(cfg, D2)}"
    assert recorded_calendar(spark, cfg)[0] == calendar
    # the analysts' ad-hoc λ: the day and the budget from the record, λ from half of the hash partitions
    monkeypatch.setattr("sys.argv", [*job_argv(cfg, "budget.ratio_of_last_day=1.0"), "--sample-fraction", "0.5"])
    assert load_job("estimate_lambda").main() == 0
    printed = capsys.readouterr().out
    assert "of 80 creatives, budget error" in printed
    assert f"last input day ({D1}) from the validation record {validation_record_path(cfg, D2)}" in printed
    (kept,) = Path(cfg.table("runs"), "estimate_lambda", str(D2)).glob("*.json")
    estimate = json.loads(kept.read_text())
    assert estimate["budget"]["value"] == 80 and estimate["estimate"]["n_pairs"] == N_PAIRS
    # another level grid counts the creatives differently: the record's calendar no longer applies
    regrid = warehouse("budget.ratio_of_last_day=1.0", "levels=[1,3,5,8,13,20,50,100,200]")
    assert recorded_calendar(spark, regrid)[0] is None
    # a late row for an input day changes the input's files: the budget comes from validating it again
    spark.createDataFrame([daily_row(D1, 60, 3000, 5)], SCHEMA).write.mode("append").partitionBy("dt").parquet(
        cfg.input_path
    )
    day, budget, info = day_and_budget(spark, cfg)
    assert (day, budget) == (D2, 85)
    assert info["calendar_from"].startswith("the input validated again (the input, levels or validation settings")


def test_budget_comes_from_the_run_calendar_the_features_hand_on(spark, make_cfg):
    days = RunCalendar(decision_day=D2, last_input_day=D1, label_days=(D1,), last_day_creatives=1000)
    cfg = make_cfg("input.path=/nonexistent/creative_daily", "budget.ratio_of_last_day=0.5")
    day, budget, info = day_and_budget(spark, cfg, days)  # the input is not read
    assert (day, budget, info["last_day_creatives"], info["last_input_day"]) == (D2, 500, 1000, str(D1))
    with pytest.raises(InputRowsError, match=f"run_date {D1} differs from the run calendar's day {D2}"):
        day_and_budget(spark, make_cfg(f"run_date={D1}"), days)


def test_publish_guard_publishes_nothing_for_an_empty_stale_or_underused_day(spark, warehouse, monkeypatch):
    cfg = warehouse()
    # a day without scores (as after a backfill rebuilt scoring_rows for another day): the job fails
    monkeypatch.setattr("sys.argv", job_argv(cfg, f"run_date={D3}"))
    with pytest.raises(PublishGuardError, match=r"scores hold no pairs for 2026-01-07, so nothing is published"):
        load_job("allocate").main()
    stale = warehouse(f"run_date={D1 + dt.timedelta(days=45)}")
    with pytest.raises(PublishGuardError, match=r"2026-01-05 is 45 days before .* publish\.max_input_age_days=2"):
        run_allocate(spark, stale)
    # the age check reads the input's days: without input it says how to allocate from scores alone
    no_input = [f"input.path={cfg.table('missing')}", f"run_date={D2}", "budget.total_creatives=100000"]
    with pytest.raises(InputNotFoundError, match=r"--set publish\.max_input_age_days=null allocates without it"):
        run_allocate(spark, warehouse(*no_input))
    # 40 pairs take at most 40 × 100 creatives: a budget of 100,000 is mostly unused
    message = r"uses 4,000 of the 100,000 creatives .*publish\.min_budget_used_share=0\.5"
    with pytest.raises(PublishGuardError, match=message):
        run_allocate(spark, warehouse(*no_input, "publish.max_input_age_days=null"))
    for name in ("allocation", "account_rules"):
        assert not table_exists(spark, cfg.table(name)), name
    assert not Path(pointer_path(cfg.warehouse, D3)).parent.exists() and not Path(cfg.table("runs")).exists()


def test_a_kill_between_the_two_writes_keeps_the_pointer_which_guards_the_next_day(spark, warehouse, monkeypatch):
    cfg = warehouse()
    first = run_allocate(spark, cfg, run_id="run-a")
    pointer = read_pointer(cfg.warehouse, D2)
    assert pointer["run_id"] == "run-a" and pointer["versions"] == first.published and pointer["pairs"] == N_PAIRS

    def killed_before_account_rules(df, path, days, **options):
        if path == cfg.table("account_rules"):
            raise RuntimeError("killed between the two writes")
        replace_days(df, path, days, **options)

    monkeypatch.setattr("acq_spark.allocation.publish.replace_days", killed_before_account_rules)
    allocation, rules = read_published(spark, cfg.warehouse, D2)
    rerun = {"allocation": allocation.withColumn("run_id", F.lit("run-b")), "account_rules": rules}
    with pytest.raises(RuntimeError, match="killed between"):
        publish_day(spark, cfg.warehouse, D2, rerun, "run-b")
    monkeypatch.undo()
    latest = spark.read.format("delta").load(cfg.table("allocation")).where(F.col("dt") == F.lit(D2))
    assert {row["run_id"] for row in latest.select("run_id").distinct().collect()} == {"run-b"}
    assert read_pointer(cfg.warehouse, D2) == pointer
    allocation, rules = read_published(spark, cfg.warehouse, D2)
    assert {row["run_id"] for row in allocation.select("run_id").distinct().collect()} == {"run-a"}
    assert allocation.agg(F.sum("n_creatives")).first()[0] == first.solve.budget_used
    assert_df_equality(rules, account_rules(allocation), ignore_row_order=True, ignore_nullable=True)

    # the next day has a quarter of the pairs published for D2
    k = len(cfg.levels)
    replace_days(spark.createDataFrame(scores_rows(D3, k, 3)[:10], SCORES_SCHEMA), cfg.table("scores"), [D3])
    message = r"10 pairs for 2026-01-07 are 25\.0% of the 40 published for 2026-01-06, below publish\.min_pairs"
    with pytest.raises(PublishGuardError, match=message):
        run_allocate(spark, warehouse(f"run_date={D3}"))
    assert read_pointer(cfg.warehouse, D3) is None


def test_check_scores_rejects_bad_arrays_and_schema(spark):
    good = spark.createDataFrame([(D1, 1, 2, [1.0, 2.0])], "dt date, account_id long, photo_id long, r array<double>")
    check_score_columns(good)
    assert check_score_rows(good, 2) == 1
    with pytest.raises(InputRowsError, match="3 finite numbers"):
        check_score_rows(good, 3)
    bad = spark.createDataFrame([(D1, 1, 2, [1.0, None]), (D1, 1, 3, None)],
                                "dt date, account_id long, photo_id long, r array<double>")
    with pytest.raises(InputRowsError, match=r"\(1, 2\)"):
        check_score_rows(bad, 2)
    with pytest.raises(InputSchemaError, match="'r'"):
        check_score_columns(good.drop("r"))
    dup = good.unionByName(good)
    with pytest.raises(InputRowsError, match=r"duplicate \(account_id, photo_id\), e\.g\. \[\(1, 2\)\]"):
        check_score_rows(dup, 2)


def test_account_rules_group_quotas_by_account(spark):
    source_df = spark.createDataFrame(
        [(1, 12, 2, 3, 1.5), (1, 11, 0, 1, None), (2, 20, 4, 8, 0.25)],
        "account_id long, photo_id long, level int, n_creatives int, r double",
    )
    table = allocation_table(source_df, D1, 0.5, "run-x", "acq", "m-7")
    lineage = "run_id = 'run-x' AND model_version = 'm-7'"
    assert table.where(f"cost_units = n_creatives AND lambda = 0.5 AND {lineage}").count() == 3
    actual_df = account_rules(table)
    expected_df = spark.createDataFrame(
        [(D1, 1, 2, 4, [(11, 1), (12, 3)], "run-x", "m-7", None), (D1, 2, 1, 8, [(20, 8)], "run-x", "m-7", None)],
        "dt date, account_id long, photos int, total_creatives long, "
        "quotas array<struct<photo_id long, n_creatives int>>, run_id string, model_version string, arm string",
    )
    assert_df_equality(actual_df, expected_df, ignore_row_order=True, ignore_nullable=True)


def test_a_holdout_splits_the_budget_and_solves_each_arm_at_its_own_share(spark, warehouse):
    from acq_spark.experiment import CONTROL, TREATMENT

    cfg = warehouse("experiment.enabled=true", "experiment.holdout_share=0.4", "budget.ratio_of_last_day=1.5")
    # the calendar validation would build (40 pairs × 2 creatives on Jan 5), handed on as the nightly does
    calendar = RunCalendar(decision_day=D2, last_input_day=D1, label_days=(D1,), last_day_creatives=80)
    exp = run_allocate(spark, cfg, run_id="run-holdout", calendar=calendar).experiment
    assert exp is not None
    allocation, rules = read_published(spark, cfg.warehouse, D2)
    rows = allocation.collect()
    pairs = {arm: [r for r in rows if r["arm"] == arm] for arm in (TREATMENT, CONTROL)}
    assert len(rows) == N_PAIRS and all(pairs.values())
    # an account is in one arm: its pairs never split
    assert not {r["account_id"] for r in pairs[TREATMENT]} & {r["account_id"] for r in pairs[CONTROL]}
    # every pair ran 2 creatives on the last input day: the budget (1.5 × 80) splits as the arms' pairs do
    assert exp["creatives"] == {arm: 2 * len(p) for arm, p in pairs.items()}
    assert exp["budgets"] == {CONTROL: round(120 * len(pairs[CONTROL]) / N_PAIRS),
                              TREATMENT: 120 - round(120 * len(pairs[CONTROL]) / N_PAIRS)}  # fmt: skip
    for arm, arm_rows in pairs.items():  # each arm spends only its own share, with its own method and λ*
        assert sum(r["n_creatives"] for r in arm_rows) == exp["arms"][arm]["used"] <= exp["budgets"][arm]
        assert {r["method"] for r in arm_rows} == {"acq" if arm == TREATMENT else "rule_based"}
    assert {r["lambda"] for r in pairs[TREATMENT]} == {exp["arms"][TREATMENT]["lam"]}
    assert {(r["account_id"], r["arm"]) for r in rules.collect()} == {(r["account_id"], r["arm"]) for r in rows}


def test_the_yesterday_control_keeps_each_pairs_last_level(spark):
    from acq_spark.allocation.arms import yesterday_allocation

    scores = spark.createDataFrame(
        [(1, 10, [1.0, 2.0, 3.0]), (1, 11, [4.0, 5.0, 6.0]), (2, 20, [7.0, 8.0, 9.0])],
        "account_id long, photo_id long, r array<double>",
    )
    last_day = spark.createDataFrame(
        [(1, 10, 2), (1, 11, None)], "account_id long, photo_id long, level_idx int"
    )  # (2, 20) has no row: the smallest level, as (1, 11) below it
    actual = sorted(tuple(r) for r in yesterday_allocation(scores, last_day, (1, 5, 20)).collect())
    assert actual == [(1, 10, 2, 20, 3.0), (1, 11, 0, 1, 4.0), (2, 20, 0, 1, 7.0)]


def test_exploring_pairs_take_their_creatives_first_and_the_method_solves_the_rest(spark, warehouse, tmp_path):
    from acq_spark.allocation.explore import explored
    from acq_spark.evaluation.table4 import PUBLISHED, run_table4
    from acq_spark.report.build import _allocation_lines

    cfg = warehouse(f"run_date={D1}", "budget.total_creatives=800", "allocation.explore_share=0.3")
    # the calendar validation would build for Jan 5 (input Jan 3 and 4 before it), handed on as the nightly does
    before = D1 - dt.timedelta(days=1)
    calendar = RunCalendar(decision_day=D1, last_input_day=before, label_days=(before,), last_day_creatives=80)
    record = run_allocate(spark, cfg, run_id="run-explore", calendar=calendar)
    exploration = record.exploration
    assert exploration is not None and exploration["share"] == 0.3
    allocation, rules = read_published(spark, cfg.warehouse, D1)
    rows = allocation.collect()
    scores = {(account, photo): r for _, account, photo, _, r, *_ in scores_rows(D1, len(cfg.levels), 1)}
    drawn = spark.read.format("delta").load(cfg.table("scores")).where(F.col("dt") == F.lit(D1))
    drawn = {(r["account_id"], r["photo_id"]) for r in drawn.where(explored(cfg.seed, D1, 0.3)).collect()}
    explore = [r for r in rows if r["method"] == "explore"]
    assert len(rows) == N_PAIRS and 0 < len(explore) == exploration["pairs"] < N_PAIRS
    assert {(r["account_id"], r["photo_id"]) for r in explore} == drawn
    for r in explore:  # the drawn level's creatives and r, no λ
        assert r["n_creatives"] == cfg.levels[r["level"]] and r["lambda"] is None
        assert r["r"] == pytest.approx(scores[(r["account_id"], r["photo_id"])][r["level"]])
    explored_creatives = sum(r["n_creatives"] for r in explore)
    assert exploration["creatives"] == explored_creatives
    # the method solves the other pairs with what the exploring pairs left of the budget
    solved = [r for r in rows if r["method"] == "acq"]
    assert len(solved) == N_PAIRS - len(explore) == record.solve.n_pairs
    assert record.solve.budget == 800 - explored_creatives
    assert sum(r["n_creatives"] for r in solved) == record.solve.budget_used <= record.solve.budget
    assert record.creatives_used == sum(r["n_creatives"] for r in rows) <= 800
    assert sum(r["total_creatives"] for r in rules.collect()) == record.creatives_used
    assert AllocationRecord.from_dict(record.to_dict()) == record
    line = f"- exploration: {len(explore)} pairs (30% drawn) at random levels took {explored_creatives} creatives first"
    assert any(text.startswith(line) for text in _allocation_lines(record, tmp_path))

    # Table 4 solves ACQ at the whole budget and values what was published as its own row
    table = run_table4(spark, cfg, allocation=record)
    truth = {(r["account_id"], r["photo_id"]): list(r["expected_cost"])
             for r in spark.read.format("delta").load(cfg.table("truth")).collect()}  # fmt: skip
    published = table.methods[PUBLISHED]
    assert published.creatives == record.creatives_used and published.pairs == N_PAIRS
    assert published.true_cost == pytest.approx(sum(truth[(r["account_id"], r["photo_id"])][r["level"]] for r in rows))
    assert table.methods["acq"].creatives > record.solve.budget_used and table.methods["acq"].lam != record.solve.lam

    # more exploration than the budget leaves room for: one error naming the setting, nothing written
    version = delta_version(spark, cfg.table("allocation"))
    greedy = warehouse(f"run_date={D1}", "budget.total_creatives=60", "allocation.explore_share=0.9")
    with pytest.raises(InfeasibleBudgetError, match=r"after exploration: .* allocation\.explore_share=0\.9\)"):
        run_allocate(spark, greedy, run_id="run-greedy", calendar=calendar)
    assert delta_version(spark, cfg.table("allocation")) == version


def test_exploring_near_the_method_moves_each_drawn_pair_a_few_levels_from_its_own(spark, warehouse, tmp_path):
    from acq_spark.allocation.explore import explored
    from acq_spark.report.build import _allocation_lines

    plain = warehouse(f"run_date={D1}", "budget.total_creatives=800")
    before = D1 - dt.timedelta(days=1)
    calendar = RunCalendar(decision_day=D1, last_input_day=before, label_days=(before,), last_day_creatives=80)
    run_allocate(spark, plain, run_id="run-plain", calendar=calendar)
    published = read_published(spark, plain.warehouse, D1)[0].collect()
    own = {(r["account_id"], r["photo_id"]): r["level"] for r in published}

    cfg = warehouse(f"run_date={D1}", "budget.total_creatives=800", "allocation.explore_share=0.4",
                    "allocation.explore_steps=1")  # fmt: skip
    record = run_allocate(spark, cfg, run_id="run-near", calendar=calendar)
    rows = read_published(spark, cfg.warehouse, D1)[0].collect()
    explore = [r for r in rows if r["method"] == "explore"]
    drawn = spark.read.format("delta").load(cfg.table("scores")).where(F.col("dt") == F.lit(D1))
    assert {(r["account_id"], r["photo_id"]) for r in explore} == {
        (r["account_id"], r["photo_id"]) for r in drawn.where(explored(cfg.seed, D1, 0.4)).collect()
    }
    moves = [r["level"] - own[(r["account_id"], r["photo_id"])] for r in explore]
    assert set(moves) <= {-1, 1} and moves.count(1) > 0 and moves.count(-1) > 0  # one level, both ways
    assert all(r["level"] == 1 for r in explore if own[(r["account_id"], r["photo_id"])] == 0)  # the smallest: up
    assert record.exploration is not None and record.exploration["steps"] == 1
    assert record.exploration["creatives"] == sum(r["n_creatives"] for r in explore)
    assert record.creatives_used == sum(r["n_creatives"] for r in rows) <= 800
    line = f"- exploration: {len(explore)} pairs (40% drawn) up to 1 level from the method's own"
    assert any(text.startswith(line) for text in _allocation_lines(record, tmp_path))


def test_with_a_holdout_only_treatment_pairs_explore_and_from_the_treatments_share(spark, warehouse):
    from acq_spark.experiment import CONTROL, TREATMENT

    cfg = warehouse("experiment.enabled=true", "experiment.holdout_share=0.4", "budget.total_creatives=900",
                    "allocation.explore_share=0.5")  # fmt: skip
    calendar = RunCalendar(decision_day=D2, last_input_day=D1, label_days=(D1,), last_day_creatives=80)
    record = run_allocate(spark, cfg, run_id="run-holdout-explore", calendar=calendar)
    exp, exploration = record.experiment, record.exploration
    assert exp is not None and exploration is not None and set(exp["arms"]) == {TREATMENT, CONTROL}
    rows = spark.read.format("delta").load(cfg.table("allocation")).where(F.col("dt") == F.lit(D2)).collect()
    by_method = {m: [r for r in rows if r["method"] == m] for m in ("explore", "acq", "rule_based")}
    assert len(rows) == N_PAIRS and all(by_method.values())
    assert {r["arm"] for r in by_method["explore"]} | {r["arm"] for r in by_method["acq"]} == {TREATMENT}
    assert {r["arm"] for r in by_method["rule_based"]} == {CONTROL}
    explored = sum(r["n_creatives"] for r in by_method["explore"])
    assert (exploration["pairs"], exploration["creatives"]) == (len(by_method["explore"]), explored)
    # the treatment's share pays for its exploring pairs; the control spends its own share as without them
    assert exp["arms"][TREATMENT]["budget"] == exp["budgets"][TREATMENT] - explored
    assert sum(r["n_creatives"] for r in by_method["acq"]) == exp["arms"][TREATMENT]["used"]
    assert sum(r["n_creatives"] for r in by_method["rule_based"]) == exp["arms"][CONTROL]["used"]
    assert exp["arms"][CONTROL]["budget"] == exp["budgets"][CONTROL]
    assert record.creatives_used == sum(r["n_creatives"] for r in rows) <= 900
