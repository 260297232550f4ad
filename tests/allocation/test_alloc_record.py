"""The allocation's and Table 4's hand-offs read back from their JSON exactly as they were written."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np

from acq_spark.allocation.record import AllocationRecord
from acq_spark.allocation.solver import SolveRecord, solve_numpy
from acq_spark.evaluation.table4 import MethodValue, Table4, table4_markdown

LEVELS = (1, 2, 4)


def solved(method: str = "acq", budget: int = 40) -> SolveRecord:
    r = np.random.default_rng(3).gamma(2.0, 1.0, size=(20, len(LEVELS))).cumsum(axis=1)
    return solve_numpy(r, LEVELS, budget, method=method)[1]


def as_json(value: dict) -> dict:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def record(method: str = "acq", experiment: dict | None = None, solve: SolveRecord | None = None) -> AllocationRecord:
    # a record's alpha follows from its λ*: an acq solve stands in for the rule-based one (which needs cost_7d)
    return AllocationRecord(
        run_id="run-a", day=dt.date(2026, 1, 6), method=method, levels=LEVELS, budget=40,
        budget_source={"source": "total_creatives"}, solve=solve or solved(), published={"allocation": 3,
        "account_rules": 2}, scores_version=5, model_version="m1", stages={"allocation solve": {"seconds": 0.1}},
        experiment=experiment,
    )  # fmt: skip


def test_a_solve_record_reads_back_from_its_json_with_an_infinite_lambda():
    solve = solved()
    assert solve.trace and SolveRecord.from_dict(as_json(solve.to_dict())).to_dict() == as_json(solve.to_dict())
    open_ended = SolveRecord.from_dict({**as_json(solve.to_dict()), "lam": None})
    assert open_ended.lam == math.inf and open_ended.to_dict()["lam"] is None
    older = as_json(solve.to_dict())
    del older["relative_gap"]  # records written before it existed
    assert SolveRecord.from_dict(older).relative_gap is None


def test_the_allocation_record_keeps_the_run_record_shape():
    rec = record()
    out = as_json(rec.to_dict())
    assert set(out) == {"run_id", "dt", "method", "levels", "budget", "solve", "published", "stages", "outputs"}
    assert out["budget"] == {"value": 40, "source": "total_creatives"} and out["dt"] == "2026-01-06"
    assert out["outputs"] == {"scores": {"version": 5, "model_version": "m1"}, "allocation": {"version": 3},
                              "account_rules": {"version": 2}}  # fmt: skip
    assert "alpha" not in out["solve"] and rec.creatives_used == rec.solve.budget_used
    assert AllocationRecord.from_dict(out).to_dict() == out


def test_a_rule_based_record_keeps_alpha_and_a_holdout_counts_both_arms():
    rule = record("rule_based")
    assert rule.alpha is not None and as_json(rule.to_dict())["solve"]["alpha"] == rule.alpha
    arms = {"treatment": {"used": 30}, "control": {"used": 9}}
    held = as_json(record(experiment={"holdout_share": 0.2, "arms": arms}).to_dict())
    assert held["experiment"]["arms"] == arms and AllocationRecord.from_dict(held).creatives_used == 39


def test_table4_keeps_its_json_shape_and_derived_figures():
    figures = [("rule_based", 20, 8.0, 0.5), ("acq", 19, 6.0, None), ("oracle", 20, 5.0, 0.25)]
    methods = {m: MethodValue(10, c, cost, 1.5, (2, 3, 5), lam) for m, c, cost, lam in figures}
    table = Table4(dt.date(2026, 1, 6), 20, {"source": "total_creatives"}, LEVELS, methods)
    out = as_json(table.to_dict())
    assert out["methods"]["acq"] == {"pairs": 10, "creatives": 19, "true_cost": 6.0, "objective": 1.5,
                                     "pairs_per_level": [2, 3, 5], "lambda": None}  # fmt: skip
    assert out["acq_vs_rule_based"] == 6.0 / 8.0 - 1 and out["acq_share_of_oracle"] == 6.0 / 5.0
    assert Table4.from_dict(out) == table and Table4.from_dict(out).to_dict() == out
    assert "| acq | 19 (-5.00%) | 6.0 | -25.00% | 120.00% |" in table4_markdown(table)
    assert table.share_of_oracle("rule_based") == 8.0 / 5.0 and table.share_of_oracle("greedy") is None
    no_oracle = Table4(table.day, 20, {}, LEVELS, {m: v for m, v in methods.items() if m != "oracle"})
    assert no_oracle.share_of_oracle("acq") is None
    assert "| acq | 19 (-5.00%) | 6.0 | -25.00% | - |" in table4_markdown(no_oracle)
