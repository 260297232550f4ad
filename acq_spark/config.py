"""Typed configuration: the packaged ``acq_spark/resources/default.yaml`` + an environment file + ``--set`` overrides.

Every job loads its configuration once, through :func:`load_config`, into frozen
dataclasses. Unknown keys are errors that name the full dotted key, and values are
checked against the field's type (``Literal`` fields against their choices) and, for
every numeric key, against its range rule (:mod:`acq_spark.config_rules`). Below a
mapping field (``spark.conf``) the rest of a dotted key is one key of the mapping, and
nested mappings in YAML are flattened to dotted keys: ``spark.conf.spark.executor.cores=4``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from acq_spark.config_rules import first_violation
from acq_spark.models.hparams import ModelHParams
from acq_spark.resources import DEFAULT_CONFIG
from acq_spark.s3a import is_secret

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout: jobs/, conf/ (absent in an installed wheel)


class ConfigError(ValueError):
    """A configuration file or override is invalid (unknown key, wrong type, bad value)."""


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


@dataclass(frozen=True)
class FeaturesConfig:
    """``features.*``: the windows, the label days, and which training examples are built.

    ``training_examples``: ``sample`` builds only the examples the trainer uses (the hash sample of
    ``train.max_examples`` per part, :mod:`acq_spark.sampling`); ``full`` builds every label-day row.
    """

    windows: tuple[int, ...] = (1, 3, 7, 14)
    train_days: int = 14
    training_examples: Literal["sample", "full"] = "sample"


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
    method: Literal["acq", "rule_based", "oracle"] = "acq"
    solver: Literal["fast", "bisection"] = "fast"
    tolerance: float = 1e-9
    max_passes: int = 100
    lambdas_per_pass: int = 1


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
    """``lock.*``: the warehouse lock every writing job takes (:mod:`acq_spark.lock`).

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


def _is_mapping(hint: Any) -> bool:
    return hint in (Mapping, dict) or typing.get_origin(hint) in (Mapping, dict)


def _field_hint(cls: Any, name: str) -> Any:
    """The type of field ``name`` of the dataclass ``cls`` (``X | None`` read as ``X``), None if there is none."""
    if not dataclasses.is_dataclass(cls):
        return None
    hint = typing.get_type_hints(cls).get(name)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = args[0] if len(args) == 1 else hint
    return hint


def _dotted(mapping: Mapping[Any, Any], key: str, prefix: str = "") -> dict[str, Any]:
    """Nested mappings flattened to dotted keys: ``{"a": {"b": 1}}`` → ``{"a.b": 1}``."""
    flat: dict[str, Any] = {}
    for name, value in mapping.items():
        name = f"{prefix}{name}"
        for dotted, leaf in (_dotted(value, key, f"{name}.") if isinstance(value, Mapping) else {name: value}).items():
            if dotted in flat:
                raise ConfigError(f"{key}: '{dotted}' is given twice")
            flat[dotted] = leaf
    return flat


def _flatten_mappings(cls: Any, data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``data`` with the value of every Mapping-typed field of the schema ``cls`` flattened to dotted keys.

    Flattening each source before merging makes ``spark.conf: {spark: {sql: {x: 1}}}`` in one file
    and ``--set spark.conf.spark.sql.x=2`` the same key, so the later one wins.
    """
    flat = dict(data)
    for name, value in data.items():
        hint, key = _field_hint(cls, name), f"{prefix}.{name}" if prefix else name
        if isinstance(value, Mapping) and dataclasses.is_dataclass(hint):
            flat[name] = _flatten_mappings(hint, value, key)
        elif isinstance(value, Mapping) and _is_mapping(hint):
            flat[name] = _dotted(value, key)
    return flat


def _deep_merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Check ``value`` against the type ``hint`` and convert where YAML's type is looser."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{key}: invalid value {value!r}")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{key}: must be one of {list(args)}, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return tuple(_coerce(v, args[0], f"{key}[{i}]") for i, v in enumerate(value))
    if _is_mapping(hint):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return {k: str(v) for k, v in _dotted(value, key).items()}
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, key)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true/false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return str(value)
    if hint is dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError as exc:
            raise ConfigError(f"{key}: expected a date YYYY-MM-DD, got {value!r} ({exc})") from exc
    raise ConfigError(f"{key}: unsupported type {hint}")


def _build(cls: type, data: Any, prefix: str = "") -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{prefix or 'config'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        keys = ", ".join(f"{prefix}.{k}" if prefix else str(k) for k in unknown)
        raise ConfigError(f"unknown configuration key: {keys}")
    kwargs = {k: _coerce(v, hints[k], f"{prefix}.{k}" if prefix else k) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{prefix or 'config'}: {exc}") from exc


def parse_override(item: str, schema: type = Config) -> dict[str, Any]:
    """Turn ``a.b.c=value`` into ``{"a": {"b": {"c": value}}}``; the value is parsed as YAML.

    The key is read along the dataclasses of ``schema``: below a Mapping-typed field the rest
    of the key is one key of that mapping, so ``spark.conf.spark.executor.cores=4`` gives
    ``{"spark": {"conf": {"spark.executor.cores": 4}}}``.
    """
    if "=" not in item:
        raise ConfigError(f"--set expects dotted.key=value, got {item!r}")
    key, raw = item.split("=", 1)
    key = key.strip()
    parts = key.split(".")
    if not key or any(not part for part in parts):
        raise ConfigError(f"--set expects dotted.key=value, got {item!r}")
    cls: Any = schema
    for i, part in enumerate(parts[:-1]):
        cls = _field_hint(cls, part)
        if _is_mapping(cls):
            parts = [*parts[: i + 1], ".".join(parts[i + 1 :])]
            break
    value: Any = _parse_value(raw, key) if raw.strip() else None
    for part in reversed(parts):
        value = {part: value}
    return _flatten_mappings(schema, value)


class _DatesAsText(yaml.SafeLoader):
    """YAML's safe loader without implicit timestamps: ``2026-13-01`` stays text and the date field names its key."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _parse_value(raw: str, key: str) -> Any:
    """The YAML value of an override, or a ConfigError naming ``key``."""
    try:
        return yaml.load(raw, Loader=_DatesAsText)  # a SafeLoader (no timestamps)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{key}: not a YAML value: {raw!r} ({' '.join(str(exc).split())})") from exc


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> Config:
    """Load the packaged ``default.yaml``, then the file ``path`` (if any), then the ``--set`` overrides.

    Args:
        path: an environment file such as ``conf/local.yaml``; its keys override the defaults.
        overrides: ``dotted.key=value`` strings, applied last, in order.

    Returns:
        The frozen, type-checked :class:`Config`.

    Raises:
        ConfigError: an unknown key (named in full), a value of the wrong type, or a missing file.
    """
    data: dict[str, Any] = {}
    for source in (DEFAULT_CONFIG, path):
        if source is None:
            continue
        source = Path(source)
        if not source.is_file():
            raise ConfigError(f"configuration file not found: {source}")
        try:
            loaded = yaml.load(source.read_text(), Loader=_DatesAsText) or {}  # a SafeLoader (no timestamps)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{source}: not valid YAML: {' '.join(str(exc).split())}") from exc
        if not isinstance(loaded, Mapping):
            raise ConfigError(f"{source}: expected a mapping at the top level")
        data = _deep_merge(data, _flatten_mappings(Config, loaded))
    for item in overrides:
        data = _deep_merge(data, parse_override(item))
    return _build(Config, data)
