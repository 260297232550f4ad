from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from acq_spark.config import ConfigError
from acq_spark.errors import InputRowsError
from acq_spark.experiment import CONTROL, TREATMENT, arm_of, split_budget

N_ACCOUNTS = 20_000


def test_the_holdout_is_stable_across_nights_and_near_its_share(spark, make_cfg):
    exp = make_cfg("experiment.enabled=true", "experiment.holdout_share=0.1").experiment

    def arm(salt: str = exp.salt):
        return arm_of(F.col("account_id"), exp.holdout_share, salt)

    # night 1: every account with one pair; night 2: other pairs, another order and partitioning, new accounts
    night1 = spark.range(N_ACCOUNTS).select(
        F.col("id").alias("account_id"), arm().alias("arm"), arm("another salt").alias("other_salt")
    )
    night2 = (
        spark.range(N_ACCOUNTS // 2, N_ACCOUNTS + 5_000, numPartitions=7)
        .select(F.col("id").alias("account_id"), (F.col("id") * 3).alias("photo_id"))
        .orderBy(F.desc("account_id"))
        .select("account_id", arm().alias("next_night"))
    )
    rows = night1.join(night2, "account_id", "left").collect()
    assert len(rows) == N_ACCOUNTS
    both = [r for r in rows if r["next_night"] is not None]
    assert len(both) == N_ACCOUNTS // 2 and all(r["arm"] == r["next_night"] for r in both)
    # binomial sd of the share at 20,000 accounts: 0.0021; 0.01 is almost five of them
    control = sum(r["arm"] == CONTROL for r in rows)
    assert control / N_ACCOUNTS == pytest.approx(0.1, abs=0.01)
    assert {r["arm"] for r in rows} == {CONTROL, TREATMENT}
    # another salt draws other arms: about 2 · 0.1 · 0.9 of the accounts move
    assert sum(r["arm"] != r["other_salt"] for r in rows) > N_ACCOUNTS * 0.1


def test_the_budget_splits_in_proportion_to_last_day_creatives():
    split = split_budget(1_000, {TREATMENT: 2_700, CONTROL: 300})
    assert split.budgets == {TREATMENT: 900, CONTROL: 100}
    assert sum(split_budget(1_001, {TREATMENT: 1, CONTROL: 2}).budgets.values()) == 1_001
    with pytest.raises(InputRowsError, match="control arm ran no creatives"):
        split_budget(1_000, {TREATMENT: 2_700, CONTROL: 0})


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("experiment.holdout_share=0", r"experiment.holdout_share: must be in \(0, 1\), got 0"),
        ("experiment.holdout_share=1.0", r"experiment.holdout_share: must be in \(0, 1\), got 1.0"),
        ("experiment.control_method=random", r"experiment.control_method: must be one of"),
        ("experiment.salt=' '", r"experiment.salt: must be a non-empty string"),
    ],
)
def test_bad_experiment_settings_name_the_key(make_cfg, override, message):
    with pytest.raises(ConfigError, match=message):
        make_cfg(override)
