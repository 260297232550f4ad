"""Extract → transform → load for ``jobs/allocate.py``: scores of the decision day → allocation, account rules.

Reads the day's ``scores`` (spec §6), works out the budget (absolute, or a ratio of the last input
day's creatives from the run calendar), solves (``acq`` on r, ``oracle`` on the truth's expected cost,
or ``rule_based``) and publishes ``allocation`` and ``account_rules`` together (see
:mod:`acq_spark.allocation.publish`) with a run record. Bad scores, an infeasible budget or a failed publish guard
(:mod:`.guard`) stop the job before anything is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from functools import reduce
from typing import Any, cast, get_args

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from acq_spark.allocation.arms import ArmSolve, arm_creatives, last_day_arms, solve_arms
from acq_spark.allocation.explore import EXPLORE, Exploration, split_explored
from acq_spark.allocation.guard import (
    PublishFacts,
    check_before_solve,
    check_budget_used,
    check_run_calendar,
    utc_today,
)
from acq_spark.allocation.publish import latest_pointer_before, publish_day
from acq_spark.allocation.record import AllocationRecord
from acq_spark.allocation.solver import Method, SolveRecord, solve
from acq_spark.allocation.tables import (
    KEYS,
    account_rules,
    allocation_table,
    check_score_columns,
    check_score_rows,
    with_truth_values,
)
from acq_spark.config import AllocationConfig, BudgetConfig, Config
from acq_spark.errors import InfeasibleBudgetError, InputNotFoundError, InputRowsError
from acq_spark.experiment.assignment import CONTROL, TREATMENT, ArmBudgets, arm_column, split_budget
from acq_spark.ingest.run_calendar import RunCalendar
from acq_spark.ingest.validation import recorded_calendar, valid_input
from acq_spark.platform.caching import cached
from acq_spark.platform.catalog import ACCOUNT_RULES, ALLOCATION, SCORES, TRUTH, allocation_record
from acq_spark.platform.delta_tables import delta_version, read_table
from acq_spark.platform.fs import write_json
from acq_spark.platform.run_log import LOG, StageTimer, new_run_id
from acq_spark.scoring.job import scores_model_version


def allocate(
    scores: DataFrame,
    levels: Sequence[int],
    budget: int,
    method: str,
    alloc: AllocationConfig,
    value_column: str = "r",
    carry: Sequence[str] = (),
) -> tuple[DataFrame, SolveRecord]:
    """Solve one day's allocation with ``method``: the allocation DataFrame (lazy) and the record.

    ``value_column`` and ``carry``: as :func:`~acq_spark.allocation.solver.solve` takes them.
    """
    if method not in get_args(Method):  # a holdout's arms name their methods as plain strings
        raise ValueError(f"allocation method must be one of {get_args(Method)}, got {method!r}")
    return solve(scores, levels, budget, solver=alloc.solver, method=cast(Method, method), tolerance=alloc.tolerance,
                 value_column=value_column, carry=carry, max_passes=alloc.max_passes,
                 lambdas_per_pass=alloc.lambdas_per_pass)


def publish_facts(cfg: Config, day: dt.date, pairs: int, budget_info: dict[str, Any]) -> PublishFacts:
    """What the publish guard checks before solving: the day's ``pairs``, input age, the last published day, today."""
    previous = latest_pointer_before(cfg.warehouse, day) or {}
    last = budget_info.get("last_input_day")
    return PublishFacts(
        day=day,
        pairs=pairs,
        last_input_day=dt.date.fromisoformat(last) if last else None,
        previous_day=dt.date.fromisoformat(previous["dt"]) if previous else None,
        previous_pairs=previous.get("pairs"),
        today=utc_today(),
    )


def experiment_facts(cfg: Config, split: ArmBudgets, solves: Sequence[ArmSolve]) -> dict[str, Any]:
    """What the publish pointer and the run record keep of a holdout day: its design, the split, each arm's solve."""
    exp = cfg.experiment
    return {"holdout_share": exp.holdout_share, "control_method": exp.control_method, "salt": exp.salt,
            **split.to_dict(), "arms": {s.arm: s.to_dict() for s in solves}}  # fmt: skip


def run_allocate(
    spark: SparkSession,
    cfg: Config,
    timer: StageTimer | None = None,
    run_id: str | None = None,
    calendar: RunCalendar | None = None,
    input_fingerprint: str | None = None,
) -> AllocationRecord:
    """Allocate the decision day's creatives; publish ``allocation`` and ``account_rules``; write the run record.

    ``calendar``: validation's run calendar; None computes it from the validated input when needed.
    ``input_fingerprint``: the digest of the input the day was computed from (the nightly's,
    :func:`~acq_spark.ingest.days.input_fingerprint`), kept in the publish pointer so a backfill can skip the day.

    Returns:
        The run record (its :meth:`~AllocationRecord.to_dict` also written to
        ``<warehouse>/runs/allocation/<dt>/<run_id>.json``).

    Raises:
        PublishGuardError: a ``publish.*`` check failed; nothing was written.
    """
    timer = timer or StageTimer()
    run_id = run_id or new_run_id()
    with ExitStack() as held:  # the cached scores and allocation are released however the stages end
        inputs = _read_inputs(spark, cfg, timer, calendar, held)
        arms, record, used, exploration = _solve_day(cfg, timer, inputs, held)
        model_version, pointer, figures = _write_day(
            spark, cfg, timer, inputs, arms, used, run_id, input_fingerprint, exploration, held
        )
    out = AllocationRecord(
        run_id=run_id,
        day=inputs.day,
        method=cfg.allocation.method,
        levels=tuple(cfg.levels),
        budget=inputs.budget,
        budget_source=inputs.budget_info,
        solve=record,
        published=pointer["versions"],
        scores_version=inputs.scores_version,
        model_version=model_version,
        stages=timer.as_dict(),
        experiment=figures.get("experiment"),
        exploration=figures.get("exploration"),
    )
    write_json(allocation_record(cfg.warehouse, inputs.day, run_id), out.to_dict())
    return out


@dataclass(frozen=True)
class _DayInputs:
    """What the allocation's inputs stage hands to its solve and write: the day, the budget and where it came from,
    the scores (cached) and their version, the pairs, each arm's method and, with a holdout, the last input day's
    rows by arm and the budget split between the arms."""

    day: dt.date
    budget: int
    budget_info: dict[str, Any]
    scores_version: int | None
    scores: DataFrame
    pairs: int
    methods: dict[str, str]
    holdout: tuple[DataFrame, ArmBudgets] | None


def _read_inputs(
    spark: SparkSession, cfg: Config, timer: StageTimer, calendar: RunCalendar | None, held: ExitStack
) -> _DayInputs:
    """The stage ``allocation inputs``: the day and budget, the day's scores (cached in ``held``), the publish
    guard's checks before solving and, with a holdout, the budget split by the last input day's creatives.

    Raises:
        PublishGuardError: a ``publish.*`` check before solving failed.
    """
    method = cfg.allocation.method
    experiment = cfg.experiment if cfg.experiment.enabled else None
    methods: dict[str, str] = {TREATMENT: method}
    if experiment:
        methods[CONTROL] = experiment.control_method
    with timer.stage("allocation inputs") as rec:
        need_last_day = cfg.publish.max_input_age_days is not None or experiment is not None
        day, budget, budget_info = day_and_budget(spark, cfg, calendar, need_last_day)
        scores_version = delta_version(spark, cfg.table(SCORES))
        # cached before its rows are checked: the check's one job fills the cache the solve reads
        scores = held.enter_context(cached(_day_scores(spark, cfg, day, methods)))
        facts = publish_facts(cfg, day, check_score_rows(scores, len(cfg.levels)), budget_info)
        rec.figures.update(day=str(day), budget=budget, method=method, pairs=facts.pairs)
        check_before_solve(facts, cfg.publish)
        holdout = None
        if experiment is not None:
            last_day = held.enter_context(
                cached(last_day_arms(spark, cfg, dt.date.fromisoformat(budget_info["last_input_day"])))
            )
            split = split_budget(budget, arm_creatives(last_day))
            rec.figures.update(**{f"{arm}_budget": b for arm, b in split.budgets.items()})
            holdout = (last_day, split)
    return _DayInputs(day, budget, budget_info, scores_version, scores, facts.pairs, methods, holdout)


def _day_scores(spark: SparkSession, cfg: Config, day: dt.date, methods: dict[str, str]) -> DataFrame:
    """The decision day's scores, their columns checked, in the columns a solve reads: the keys, ``r`` (for the
    oracle the truth's expected cost) and ``cost_7d`` when a method is the rule; with a holdout each pair's ``arm``.
    Not cached, and its rows not checked (:func:`check_score_rows`).

    Raises:
        InputSchemaError: a score column is missing or of the wrong type.
        InputRowsError: the oracle's truth has no expected cost for some pair of the day, or a bad one.
    """
    scores = read_table(spark, cfg.table(SCORES), what="scores").where(F.col("dt") == F.lit(day))
    rule = "rule_based" in methods.values()
    check_score_columns(scores, extra={"cost_7d": "double"} if rule else None)
    scores = scores.select(*KEYS, "r", *(["cost_7d"] if rule else []))
    if cfg.allocation.method == "oracle":
        truth = read_table(spark, cfg.table(TRUTH), what="truth").where(F.col("dt") == F.lit(day))
        scores = with_truth_values(scores, truth)
        missing = [tuple(r) for r in scores.where(F.col("r").isNull()).select(*KEYS).limit(3).collect()]
        if missing:
            raise InputRowsError(f"truth: no expected_cost on {day} for pairs e.g. {missing}")
    if cfg.experiment.enabled:
        scores = scores.withColumn("arm", arm_column(cfg.experiment))
    return scores


def _solve_day(
    cfg: Config, timer: StageTimer, inputs: _DayInputs, held: ExitStack
) -> tuple[list[tuple[DataFrame, ArmSolve]], SolveRecord, int, Exploration | None]:
    """The stage ``allocation solve``: each part's allocation (one arm without a holdout; the exploring pairs
    first when ``allocation.explore_share`` is set), the configured method's solve (with a holdout, the
    treatment's at its share) and the creatives all parts use.

    Raises:
        InfeasibleBudgetError: the budget left after exploration is below the other pairs' smallest level.
        PublishGuardError: the allocation uses too little of the budget.
    """
    with timer.stage("allocation solve") as rec:
        scores, exploration, spent = inputs.scores, None, 0
        explored: list[tuple[DataFrame, ArmSolve]] = []
        if cfg.allocation.explore_share > 0:
            eligible = F.lit(True) if inputs.holdout is None else F.col("arm") == F.lit(TREATMENT)
            reference = None
            if cfg.allocation.explore_steps > 0:  # the levels to explore around: the method's solve of every pair
                reference_arms, _ = _solve_parts(cfg, inputs, scores, 0, held)
                reference = reduce(DataFrame.unionByName, [alloc.select(*KEYS, "level") for alloc, _ in reference_arms])
            table, scores, exploration = split_explored(
                scores, cfg.levels, cfg.allocation.explore_share, cfg.seed, inputs.day, eligible, held,
                reference, cfg.allocation.explore_steps,
            )
            arm = None if inputs.holdout is None else TREATMENT
            spent = exploration.creatives
            explored = [(table, ArmSolve(arm, EXPLORE, spent, spent, exploration.pairs, None))]
            rec.figures.update(explored_pairs=exploration.pairs, explored_creatives=spent)
        try:
            arms, record = _solve_parts(cfg, inputs, scores, spent, held)
        except InfeasibleBudgetError as exc:
            if exploration is None:
                raise
            raise InfeasibleBudgetError(
                f"{exc} (after exploration: {exploration.pairs:,} pairs at random levels took {spent:,} creatives; "
                f"allocation.explore_share={exploration.share:g})"
            ) from exc
        arms = explored + arms
        used = sum(solve.used for _, solve in arms)
        rec.figures.update(lam=record.lam, passes=record.passes, used=used, budget=inputs.budget)
        check_budget_used(inputs.day, used, inputs.budget, cfg.publish)
    return arms, record, used, exploration


def _solve_parts(
    cfg: Config, inputs: _DayInputs, scores: DataFrame, spent: int, held: ExitStack
) -> tuple[list[tuple[DataFrame, ArmSolve]], SolveRecord]:
    """Each arm's allocation of ``scores`` (one arm without a holdout) with ``spent`` creatives taken from the
    budget (from the treatment's share with a holdout), and the configured method's solve."""
    method = cfg.allocation.method
    if inputs.holdout is None:
        budget = inputs.budget - spent
        alloc, record = allocate(scores, cfg.levels, budget, method, cfg.allocation)
        return [(alloc, ArmSolve(None, method, budget, record.budget_used, record.n_pairs, record))], record

    def solve_one(part: DataFrame, arm_budget: int, arm_method: str) -> tuple[DataFrame, SolveRecord]:
        return allocate(part, cfg.levels, arm_budget, arm_method, cfg.allocation)

    last_day, split = inputs.holdout
    left = {**split.budgets, TREATMENT: split.budgets[TREATMENT] - spent}
    arms = solve_arms(scores, last_day, ArmBudgets(split.creatives, left), cfg.levels, inputs.methods, solve_one, held)
    treatment = arms[0][1].record  # the configured method's own solve, at the treatment's budget
    assert treatment is not None, "the treatment arm is always solved"
    return arms, treatment


def _write_day(
    spark: SparkSession,
    cfg: Config,
    timer: StageTimer,
    inputs: _DayInputs,
    arms: Sequence[tuple[DataFrame, ArmSolve]],
    used: int,
    run_id: str,
    input_fingerprint: str | None,
    exploration: Exploration | None,
    held: ExitStack,
) -> tuple[str | None, dict[str, Any], dict[str, Any]]:
    """The stage ``allocation write``: publish the arms' allocation and its account rules (cached in ``held``).

    Returns:
        The model version that wrote the scores, the publish pointer and the figures it keeps.
    """
    day = inputs.day
    with timer.stage("allocation write") as rec:
        # the rows and the pointer name the scores (and the model that wrote them) the day was solved from
        model_version = scores_model_version(spark, cfg.table(SCORES), day, inputs.scores_version)
        parts = [
            allocation_table(alloc, day, solve.lam, run_id, solve.method, model_version, solve.arm)
            for alloc, solve in arms
        ]
        table = held.enter_context(cached(reduce(DataFrame.unionByName, parts)))
        scores_used = {"version": inputs.scores_version, "model_version": model_version}
        figures: dict[str, Any] = {"method": cfg.allocation.method, "pairs": inputs.pairs, "budget": inputs.budget,
                   "budget_used": used, "scores": scores_used, "input_fingerprint": input_fingerprint}
        if inputs.holdout is not None:
            arm_solves = [solve for _, solve in arms if solve.method != EXPLORE]
            figures["experiment"] = experiment_facts(cfg, inputs.holdout[1], arm_solves)
        if exploration is not None:
            figures["exploration"] = exploration.to_dict()
        tables = {ALLOCATION: table, ACCOUNT_RULES: account_rules(table)}
        pointer = publish_day(spark, cfg.warehouse, day, tables, run_id, figures)
        rec.figures.update(rows=inputs.pairs, **{f"{name}_version": v for name, v in pointer["versions"].items()})
    return model_version, pointer, figures


def day_and_budget(
    spark: SparkSession, cfg: Config, calendar: RunCalendar | None = None, need_last_input_day: bool = False
) -> tuple[dt.date, int, dict[str, Any]]:
    """The decision day, the budget C and where C came from (with the last input day when it is known).

    Args:
        spark: the session.
        cfg: the configuration (run_date, budget, levels).
        calendar: validation's run calendar; None takes it, when the decision day, a ratio budget or
            ``need_last_input_day`` (the input-age guard) needs it, from the day's validation record if the
            input is unchanged since (:func:`~acq_spark.ingest.validation.recorded_calendar`), else from
            validating the input again (nothing written).

    Raises:
        InputRowsError: ``calendar`` is for another day than ``run_date``, or the input has no day before it.
    """
    for_budget = cfg.run_date is None or cfg.budget.total_creatives is None
    calendar_from = "the run's own validation"
    if calendar is None and (for_budget or need_last_input_day):
        try:
            calendar, calendar_from = recorded_calendar(spark, cfg)
            if calendar is None:
                LOG.info("run calendar: validating the input again (%s)", calendar_from)
                calendar_from = f"the input validated again ({calendar_from})"
                with valid_input(spark, cfg, record=False) as valid:
                    calendar = valid.calendar
        except InputNotFoundError as exc:
            if for_budget:
                raise
            hint = "read for publish.max_input_age_days; --set publish.max_input_age_days=null allocates without it"
            raise InputNotFoundError(f"{exc} ({hint})") from exc
    if calendar is not None and cfg.run_date is not None and calendar.decision_day != cfg.run_date:
        raise InputRowsError(f"run_date {cfg.run_date} differs from the run calendar's day {calendar.decision_day}")
    day = calendar.decision_day if calendar is not None else cfg.run_date
    assert day is not None, "without run_date the calendar is computed (for_budget)"
    budget, source = budget_of(cfg.budget, calendar)
    info: dict[str, Any] = {"source": source}
    if calendar is not None:
        info.update(
            last_input_day=str(calendar.last_input_day),
            last_day_creatives=calendar.last_day_creatives,
            ratio=cfg.budget.ratio_of_last_day,
            counted="valid rows, n_creatives mapped to the largest level <= n",
            calendar_from=calendar_from,
        )
    return day, budget, info


def budget_of(budget: BudgetConfig, calendar: RunCalendar | None) -> tuple[int, str]:
    """The budget C and the key it came from: ``total_creatives``, else ``ratio_of_last_day`` of the calendar's day.

    Raises:
        InputRowsError: a ratio budget without the last input day's creatives.
    """
    if budget.total_creatives is not None:
        return int(budget.total_creatives), "total_creatives"
    last_day_creatives = calendar.last_day_creatives if calendar is not None else None
    if last_day_creatives is None:
        raise InputRowsError("budget: ratio_of_last_day needs the input's last day, which has no rows")
    return round(budget.ratio_of_last_day * last_day_creatives), "ratio_of_last_day"  # C = ratio × last day's


def check_run_start(cfg: Config, calendar: RunCalendar) -> None:
    """Stop a run the publish guard would stop at its end, from the run calendar and configuration alone.

    The nightly calls it once validation has the calendar, before any stage builds anything; the
    allocation makes the same checks again at publish time (:func:`~.guard.check_run_calendar`).

    Raises:
        PublishGuardError: the input is too old for the decision day, the day too far behind today, or
            the budget beyond what the pairs to score can use.
        InfeasibleBudgetError: the budget is below every pair to score at the smallest level.
    """
    budget, _ = budget_of(cfg.budget, calendar)
    check_run_calendar(calendar, budget, cfg.levels, cfg.publish, utc_today())
