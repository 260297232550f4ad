from __future__ import annotations

import dataclasses
import datetime as dt
import typing

import pytest
import yaml

from acq_spark import PROJECT_ROOT
from acq_spark.config import Config, ConfigError, load_config
from acq_spark.config.rules import RULES, dotted_values
from acq_spark.platform.cli import parse_job_args


def test_defaults_environment_file_and_overrides_apply_in_order(tmp_path):
    env = tmp_path / "env.yaml"
    env.write_text("seed: 7\nsimulate:\n  n_pairs: 10\n")
    cfg = load_config(env, ["simulate.n_pairs=20", "levels=[1, 4, 9]", "run_date=2026-02-01"])
    assert cfg.seed == 7
    assert cfg.simulate.n_pairs == 20
    assert cfg.simulate.n_days == 15
    assert cfg.levels == (1, 4, 9)
    assert cfg.run_date == dt.date(2026, 2, 1)
    assert cfg.input.format == "delta"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("simulate.n_pair=3", "unknown configuration key: simulate.n_pair"),
        ("nosuch=1", "unknown configuration key: nosuch"),
        ("input.format=csv", "input.format: must be one of ['delta', 'parquet']"),
        ("seed=abc", "seed: expected an integer"),
        ("levels=[3, 2]", "levels: must be strictly increasing"),
        ("run_date=yesterday", "run_date: expected a date"),
        ("validation.max_bad_share=2", "validation.max_bad_share: must be in [0, 1]"),
        ("publish.min_pairs_share_of_previous=1.5", "publish.min_pairs_share_of_previous: must be in [0, 1]"),
        ("publish.min_budget_used_share=-0.1", "publish.min_budget_used_share: must be in [0, 1]"),
        ("allocation.explore_share=1", "allocation.explore_share: must be in [0, 1)"),
        ("publish.max_input_age_days=0", "publish.max_input_age_days: must be null or an integer >= 1"),
        ("publish.max_days_before_today=-1", "publish.max_days_before_today: must be null or an integer >= 0"),
        ("novalue", "--set expects dotted.key=value"),
        ("run_date=2026-13-01", "run_date: expected a date YYYY-MM-DD, got '2026-13-01' (month must be in 1..12)"),
        ("budget.ratio_of_last_day=-1", "budget.ratio_of_last_day: must be a finite number > 0, got -1.0"),
        ("budget.total_creatives=0", "budget.total_creatives: must be null or an integer >= 1, got 0"),
        ("train.epochs=-1", "train.epochs: must be an integer >= 1, got -1"),
        ("score.batch_size=0", "score.batch_size: must be an integer >= 1, got 0"),
        ("features.windows=[0]", "features.windows: must be strictly increasing positive integers, at least one"),
        ("features.windows=[3, 3]", "features.windows: must be strictly increasing positive integers, at least one"),
        ("features.train_days=1", "features.train_days: must be an integer >= 2, got 1"),
        ("tree.n_positive_leaves=0", "tree.n_positive_leaves: must be an integer >= 1, got 0"),
        ("train.learning_rate=.nan", "train.learning_rate: must be a finite number > 0, got nan"),
        ("train.ema_momentum=1", "train: ema_momentum: must be in [0, 1), got 1.0"),
        ("train.ema_momentum=-0.5", "train: ema_momentum: must be in [0, 1), got -0.5"),
        ("validation.outlier.quantile=0", "validation.outlier.quantile: must be in (0, 1], got 0.0"),
        ("validation.outlier.action=drop", "validation.outlier.action: must be one of ['quarantine', 'cap', 'off']"),
        ("train.model=xgb", "train.model: must be one of ['ubtm', 'dnn', 'ziln', 'cread']"),
        ("seed=[1", "seed: not a YAML value: '[1'"),
        ("lock.heartbeat_seconds=400", "lock.heartbeat_seconds: must be at most half of lock.stale_after_minutes"),
        ("lock.stale_after_minutes=0", "lock.stale_after_minutes: must be a finite number > 0, got 0.0"),
        ("train.promotion_auc_tolerance=2", "train.promotion_auc_tolerance: must be null or in [0, 1], got 2.0"),
    ],
)
def test_bad_configuration_names_the_key(override, message):
    with pytest.raises(ConfigError) as err:
        load_config(None, [override])
    assert message in str(err.value)


def test_unknown_key_in_a_file_is_named(tmp_path):
    env = tmp_path / "env.yaml"
    env.write_text("spark:\n  mastr: local[1]\n")
    with pytest.raises(ConfigError, match=r"spark\.mastr"):
        load_config(env)


@pytest.mark.parametrize("name", ["local", "cluster", "test"])
def test_every_environment_file_loads_and_its_values_apply(name):
    path = PROJECT_ROOT / "conf" / f"{name}.yaml"
    given = dict(_leaves(yaml.safe_load(path.read_text())))
    loaded = dict(dotted_values(load_config(path)))
    assert given, f"{path} sets nothing"
    assert {key: loaded[key] for key in given} == given


def _leaves(mapping: dict, prefix: str = ""):
    for key, value in mapping.items():
        if f"{prefix}{key}" == "spark.conf":  # one mapping of Spark's own dotted keys, its values strings
            yield "spark.conf", {k: str(v) for k, v in value.items()}
        elif isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def test_job_command_line_exits_with_the_key_on_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_job_args("x", ["--set", "simulate.bogus=1"])
    assert exit_info.value.code == 2
    assert "simulate.bogus" in capsys.readouterr().err
    _, cfg = parse_job_args("x", ["--config", "conf/test.yaml", "--set", "seed=3", "--set", "input.format=parquet"])
    assert (cfg.seed, cfg.input.format, cfg.spark.master) == (3, "parquet", "local[2]")


def test_dotted_keys_under_spark_conf_are_one_key_merged_with_the_files(tmp_path):
    env = tmp_path / "env.yaml"
    env.write_text(
        "spark:\n  conf:\n    spark.executor.cores: 2\n    spark.sql.adaptive.coalescePartitions.minPartitionSize: 1m\n"
        "    spark:\n      sql:\n        shuffle:\n          partitions: 4\n"
    )
    cfg = load_config(env, ["spark.conf.spark.executor.cores=4", "spark.conf.spark.driver.maxResultSize=1g"])
    assert cfg.spark.conf == {
        "spark.executor.cores": "4",
        "spark.sql.adaptive.coalescePartitions.minPartitionSize": "1m",
        "spark.sql.shuffle.partitions": "4",
        "spark.driver.maxResultSize": "1g",
    }


def test_a_later_dotted_key_wins_over_an_earlier_one_and_over_nested_yaml(tmp_path):
    env = tmp_path / "env.yaml"
    env.write_text("spark:\n  conf:\n    spark:\n      executor:\n        cores: 2\n")
    overrides = ["spark.conf.spark.executor.cores=3", "spark.conf={'spark.executor.cores': 5}"]
    assert load_config(env, overrides[:1]).spark.conf == {"spark.executor.cores": "3"}
    assert load_config(env, overrides).spark.conf == {"spark.executor.cores": "5"}
    assert load_config(env, [*overrides, "spark.conf.spark.executor.cores=6"]).spark.conf == {
        "spark.executor.cores": "6"
    }


def test_a_conf_key_given_twice_in_one_file_is_an_error(tmp_path):
    env = tmp_path / "env.yaml"
    env.write_text("spark:\n  conf:\n    spark.executor.cores: 2\n    spark:\n      executor:\n        cores: 3\n")
    with pytest.raises(ConfigError, match=r"spark\.conf: 'spark\.executor\.cores' is given twice"):
        load_config(env)


def numeric_keys(cls: type, prefix: str = "") -> set[str]:
    """The dotted keys of every int / float field (or list of them) below the dataclass ``cls``."""
    keys = set()
    for name, hint in typing.get_type_hints(cls).items():
        if dataclasses.is_dataclass(hint):
            keys |= numeric_keys(hint, f"{prefix}{name}.")
        elif {int, float} & {hint, *typing.get_args(hint)}:
            keys.add(f"{prefix}{name}")
    return keys


def test_every_numeric_key_has_a_range_rule():
    assert {"train.epochs", "budget.total_creatives", "features.windows", "levels"} <= numeric_keys(Config)
    assert numeric_keys(Config) - set(RULES) == set()
    assert set(RULES) - {key for key, _ in dotted_values(Config())} == set(), "a rule for a key that does not exist"


def test_a_bad_date_in_a_file_names_the_key_and_dates_load(tmp_path):
    env = tmp_path / "env.yaml"
    env.write_text("run_date: 2026-13-01\n")
    with pytest.raises(ConfigError, match=r"^run_date: expected a date YYYY-MM-DD, got '2026-13-01'"):
        load_config(env)
    env.write_text("run_date: 2026-02-01\nsimulate:\n  start_date: 2026-01-03\nspark:\n  app_name: 2026-01-01\n")
    cfg = load_config(env)
    assert (cfg.run_date, cfg.simulate.start_date, cfg.spark.app_name) == (
        dt.date(2026, 2, 1),
        dt.date(2026, 1, 3),
        "2026-01-01",
    )


def test_a_bad_run_date_on_the_command_line_is_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_job_args("x", ["--set", "run_date=2026-13-01"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "configuration error: run_date: expected a date YYYY-MM-DD" in err
