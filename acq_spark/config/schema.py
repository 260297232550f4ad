"""The configuration's schema: one frozen dataclass a section, each field typed and defaulted.

:mod:`acq_spark.config.loader` fills it from YAML and ``--set`` overrides. Every numeric key is checked
against its range rule (:mod:`acq_spark.config.rules`) when the configuration is built.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from acq_spark.config.hparams import ModelHParams
from acq_spark.config.rules import first_violation
from acq_spark.config.secrets import is_secret
from acq_spark.errors import ConfigError


@dataclass(frozen=True)
class InputConfig:
    path: str | None = None  # None: <warehouse>/creative_daily
    format: Literal["delta", "parquet"] = "delta"
    days: Literal["needed", "all"] = "needed"  # needed: the longest window + the label days (see features.history)


@dataclass(frozen=True)
class SparkConfig:
    master: str = "local[*]"
    app_name: str = "acq-spark"
    shuffle_partitions: int = 8
    driver_memory: str = "4g"
    executor_memory: str = "2g"
    ui: bool = True
    log_level: str = "WARN"
    progress: bool = True
    java_options: str = ""
    preload_tensorflow: bool = True
    conf: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SimulateConfig:
    n_pairs: int = 100_000
    n_days: int = 15
    start_date: dt.date = dt.date(2026, 1, 1)
    pairs_per_account: float = 8.0
    n_products: int = 200
    n_industries_l1: int = 12
    n_industries_l2: int = 60
    partitions: int = 8
    # What the world runs on a day the closed loop decided: the published allocation, or its own logging
    # policy (the loop's control: the world moves as it would without ACQ, and the model learns from it).
    logged_under: Literal["allocation", "logging_policy"] = "allocation"


@dataclass(frozen=True)
class OutlierConfig:
    """Costs above ``multiple`` × the ``quantile`` of the input's valid positive costs are outliers.

    ``action``: ``quarantine`` (the row goes to the quarantine with the reason "outlier"), ``cap``
    (the cost is set to the bound, the row kept) or ``off``.
    """

    action: Literal["quarantine", "cap", "off"] = "quarantine"
    quantile: float = 0.99
    multiple: float = 100.0


@dataclass(frozen=True)
class ValidationConfig:
    max_bad_share: float = 0.01
    outlier: OutlierConfig = field(default_factory=OutlierConfig)


# The rule-based baseline's input, cost_7d, sums the 7 days before the target day, whatever the windows are.
TRAILING_COST_DAYS = 7


def lookback_days(windows: Sequence[int]) -> int:
    """How many days before a target day its features read: the longest window, or ``cost_7d``'s 7 days."""
    return max(*windows, TRAILING_COST_DAYS)


@dataclass(frozen=True)
class FeaturesConfig:
    """``features.*``: the windows, the label days, and which training examples are built.

    ``training_examples``: ``sample`` builds only the examples the trainer uses (the hash sample of
    ``train.max_examples`` per part, :mod:`acq_spark.features.sampling`); ``full`` builds every label-day row.
    ``compute``: ``window`` evaluates the per-pair windows for every input row and keeps the rows written;
    ``written_rows`` computes them for the rows written only, in one vectorised pass over each pair's rows
    (:mod:`acq_spark.features.written`; the same values).
    """

    windows: tuple[int, ...] = (1, 3, 7, 14)
    train_days: int = 14
    training_examples: Literal["sample", "full"] = "sample"
    compute: Literal["window", "written_rows"] = "window"

    @property
    def lookback_days(self) -> int:
        """How many days before a target day its features read (:func:`lookback_days` of the windows)."""
        return lookback_days(self.windows)


@dataclass(frozen=True)
class TreeConfig:
    n_positive_leaves: int = 16
    quantile_accuracy: int = 100_000


@dataclass(frozen=True)
class TrainConfig(ModelHParams):
    """``train.*``: the model's hyper-parameters (:class:`ModelHParams`, defined once there) and how to train."""

    model: Literal["ubtm", "dnn", "ziln", "cread"] = "ubtm"
    variant: Literal["control", "mon", "sub", "smo"] = "sub"
    max_examples: int = 1_000_000
    batch_size: int = 4096
    epochs: int = 20
    patience: int = 3
    baselines: tuple[str, ...] = ("dnn", "ziln", "cread")
    evaluate_variants: tuple[str, ...] = ("control", "mon", "sub", "smo")
    evaluate: bool = False  # the nightly also trains the Table-2 comparison (jobs/evaluate_models.py on demand)
    promotion_auc_tolerance: float | None = 0.02  # a new model scores only if its AUC >= the champion's - this
    deterministic: bool = True


@dataclass(frozen=True)
class ScoreConfig:
    """``score.*``. ``model_version``: score with this saved model (a rollback: yesterday's); the nightly then
    trains nothing. None: the nightly's newly trained model, if it passes the promotion gate, else the champion."""

    beta: float = 0.0
    batch_size: int = 16_384
    model_version: str | None = None


@dataclass(frozen=True)
class BudgetConfig:
    total_creatives: int | None = None
    ratio_of_last_day: float = 1.0


@dataclass(frozen=True)
class AllocationConfig:
    """``allocation.*``: the method and its solver; ``explore_share`` of the pairs (a hash of the seed, the day
    and the pair) run a random level (uniform, or with ``explore_steps`` > 0 up to that many levels from the
    method's own), their creatives taken from the budget first (:mod:`acq_spark.allocation.explore`)."""

    method: Literal["acq", "rule_based", "oracle"] = "acq"
    solver: Literal["fast", "bisection"] = "fast"
    tolerance: float = 1e-9
    max_passes: int = 100
    lambdas_per_pass: int = 1
    explore_share: float = 0.0
    explore_steps: int = 0


@dataclass(frozen=True)
class PublishConfig:
    """The publish guard: checks on a day's allocation before ``allocation`` / ``account_rules`` are written."""

    min_pairs_share_of_previous: float = 0.5
    min_budget_used_share: float = 0.5
    max_input_age_days: int | None = 2
    max_days_before_today: int | None = None


@dataclass(frozen=True)
class MaintenanceConfig:
    """Delta maintenance (``jobs/maintain.py``): how long old versions stay readable, and what OPTIMIZE rewrites.

    ``retention_days``: VACUUM's retention and ``delta.deletedFileRetentionDuration`` (time travel reaches this
    far back); ``log_retention_days``: ``delta.logRetentionDuration``, at least ``retention_days`` (Delta refuses
    less); ``zorder_days``: Z-order the last this many days of a table's partitions (0 = compaction only).
    """

    retention_days: float = 7.0
    log_retention_days: float = 30.0
    zorder_days: int = 2

    def __post_init__(self) -> None:
        if self.log_retention_days < self.retention_days:
            raise ConfigError(
                f"maintenance.log_retention_days: must be >= maintenance.retention_days ({self.retention_days:g}), "
                f"got {self.log_retention_days:g}"
            )


@dataclass(frozen=True)
class LockConfig:
    """``lock.*``: the warehouse lock every writing job takes (:mod:`acq_spark.platform.lock`).

    The holder refreshes its claim every ``heartbeat_seconds``; a claim not refreshed for
    ``stale_after_minutes`` was left by a killed run and is taken over (at once by a run on its host that
    sees its process gone). ``wait_seconds``: how long a run that started together with another waits for
    the other to give way.
    """

    stale_after_minutes: float = 10.0
    heartbeat_seconds: float = 30.0
    wait_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.stale_after_minutes <= 0:
            return  # the range rule names the bad value
        if self.heartbeat_seconds * 2 > self.stale_after_minutes * 60:
            raise ConfigError(
                f"lock.heartbeat_seconds: must be at most half of lock.stale_after_minutes "
                f"({self.stale_after_minutes:g} min), got {self.heartbeat_seconds:g} s"
            )


@dataclass(frozen=True)
class ExperimentConfig:
    """``experiment.*``: a holdout of accounts kept on a baseline policy, to measure ACQ's uplift from the logs.

    ``holdout_share`` of the accounts (a salted hash of ``account_id``, the same every night) is the control
    arm and gets ``control_method``: ``rule_based`` (the rule at the arm's budget) or ``yesterday`` (each pair
    the creatives it ran on the last input day, mapped down to a level). The budget splits between the arms
    in proportion to their creatives on the last input day, and each arm spends only its own share.
    """

    enabled: bool = False
    holdout_share: float = 0.1
    control_method: Literal["rule_based", "yesterday"] = "rule_based"
    salt: str = "acq-holdout"


@dataclass(frozen=True)
class ReportConfig:
    sample_pairs: int = 12
    table4: bool = True  # the nightly chain evaluates ACQ / rule-based / oracle when a truth table exists


@dataclass(frozen=True)
class Config:
    warehouse: str = "warehouse"
    levels: tuple[int, ...] = (1, 2, 3, 5, 8, 13, 20, 50, 100)
    run_date: dt.date | None = None
    seed: int = 42
    input: InputConfig = field(default_factory=InputConfig)
    spark: SparkConfig = field(default_factory=SparkConfig)
    simulate: SimulateConfig = field(default_factory=SimulateConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    tree: TreeConfig = field(default_factory=TreeConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    score: ScoreConfig = field(default_factory=ScoreConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    allocation: AllocationConfig = field(default_factory=AllocationConfig)
    publish: PublishConfig = field(default_factory=PublishConfig)
    maintenance: MaintenanceConfig = field(default_factory=MaintenanceConfig)
    lock: LockConfig = field(default_factory=LockConfig)
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    report: ReportConfig = field(default_factory=ReportConfig)

    def __post_init__(self) -> None:
        problem = first_violation(self)
        if problem:
            raise ConfigError(problem)

    @property
    def input_path(self) -> str:
        """Where ``creative_daily`` is read from: ``input.path`` or ``<warehouse>/creative_daily``."""
        return self.input.path or table_path(self.warehouse, "creative_daily")

    def table(self, name: str) -> str:
        """The location of the project table ``name`` under the warehouse."""
        return table_path(self.warehouse, name)

    def to_dict(self) -> dict[str, Any]:
        """A plain, YAML/JSON-serialisable view of the configuration, secrets in ``spark.conf`` shown as ``***``.

        This is what run records and model artifacts keep: credentials never reach them.
        """
        plain = _plain(dataclasses.asdict(self))
        plain["spark"]["conf"] = {k: "***" if is_secret(k) else v for k, v in plain["spark"]["conf"].items()}
        return plain


def table_path(warehouse: str, name: str) -> str:
    """``<warehouse>/<name>`` as an absolute path (a URI such as ``s3a://`` is kept as it is)."""
    if "://" in warehouse:
        return f"{warehouse.rstrip('/')}/{name}"
    return str(Path(warehouse).expanduser().resolve() / name)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
