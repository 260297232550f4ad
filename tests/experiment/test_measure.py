"""The holdout's measurement from logs on tiny inline tables (the per-account sums, the true uplift)."""

from __future__ import annotations

import datetime as dt

import pytest

from acq_spark.experiment import CONTROL, TREATMENT
from acq_spark.experiment.measure import RESULT_COLUMNS, account_totals, measure, true_costs

DAY = dt.date(2026, 1, 16)


def test_each_arm_is_measured_from_its_accounts_logs_and_valued_on_the_truth(spark):
    allocation = spark.createDataFrame(
        [
            (DAY, 1, 10, TREATMENT, 2),
            (DAY, 1, 11, TREATMENT, 0),
            (DAY, 2, 20, TREATMENT, 1),
            (DAY, 3, 30, CONTROL, 0),
            (DAY, 4, 40, CONTROL, 1),  # no log row: ran nothing, cost nothing
        ],
        "dt date, account_id long, photo_id long, arm string, level int",
    )
    logs = spark.createDataFrame(
        [(DAY, 1, 10, 3, 6.0), (DAY, 1, 11, 1, 0.0), (DAY, 2, 20, 2, 3.0), (DAY, 3, 30, 1, 1.5),
         (DAY, 9, 90, 5, 100.0), (DAY - dt.timedelta(days=1), 4, 40, 2, 50.0)],
        "dt date, account_id long, photo_id long, n_creatives int, cost double",
    )  # fmt: skip
    truth = spark.createDataFrame(
        [(DAY, a, p, [1.0, 2.0, 4.0]) for a, p in ((1, 10), (1, 11), (2, 20), (3, 30), (4, 40))],
        "dt date, account_id long, photo_id long, expected_cost array<double>",
    )
    accounts = sorted((r.asDict() for r in account_totals(allocation, logs).collect()), key=lambda r: r["account_id"])
    assert [(r["account_id"], r["arm"], r["pairs"], r["creatives"], r["cost"]) for r in accounts] == [
        (1, TREATMENT, 2, 4, 6.0), (2, TREATMENT, 1, 2, 3.0), (3, CONTROL, 1, 1, 1.5), (4, CONTROL, 1, 0, 0.0),
    ]  # fmt: skip
    true = true_costs(allocation, truth)
    assert true == {(DAY, TREATMENT): (3, 4.0 + 1.0 + 2.0), (DAY, CONTROL): (2, 1.0 + 2.0)}
    day = measure(accounts, DAY, "rule_based", {arm: true[(DAY, arm)] for arm in (TREATMENT, CONTROL)})
    assert day.arms[TREATMENT].cost_per_pair == 3.0 and day.arms[CONTROL].cost_per_pair == 0.75
    assert (day.arms[TREATMENT].paying_accounts, day.arms[CONTROL].paying_accounts) == (2, 1)
    assert day.arms[TREATMENT].cost_per_creative == 1.5 and day.arms[CONTROL].cost_per_creative == 1.5
    assert day.uplift.estimate == pytest.approx(3.0 / 0.75 - 1)
    assert day.true_uplift == pytest.approx((7.0 / 3) / (3.0 / 2) - 1)
    row = spark.createDataFrame([day.to_row()], RESULT_COLUMNS).first()
    assert row["treatment_pairs"] == 3 and row["control_cost"] == 1.5 and row["uplift"] == pytest.approx(3.0)
