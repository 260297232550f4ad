"""The configuration: its typed schema, the loader (YAML + ``--set`` overrides) and the range rules.

Loaded once per job into frozen dataclasses; the layer above everything but :mod:`acq_spark.errors`.
"""

from __future__ import annotations

from acq_spark.config.hparams import ModelHParams
from acq_spark.config.loader import load_config, parse_override
from acq_spark.config.schema import (
    AllocationConfig,
    BudgetConfig,
    Config,
    ConfigError,
    ExperimentConfig,
    FeaturesConfig,
    InputConfig,
    LockConfig,
    MaintenanceConfig,
    OutlierConfig,
    PublishConfig,
    ReportConfig,
    ScoreConfig,
    SimulateConfig,
    SparkConfig,
    TrainConfig,
    TreeConfig,
    ValidationConfig,
    table_path,
)

__all__ = [
    "AllocationConfig",
    "BudgetConfig",
    "Config",
    "ConfigError",
    "ExperimentConfig",
    "FeaturesConfig",
    "InputConfig",
    "LockConfig",
    "MaintenanceConfig",
    "ModelHParams",
    "OutlierConfig",
    "PublishConfig",
    "ReportConfig",
    "ScoreConfig",
    "SimulateConfig",
    "SparkConfig",
    "TrainConfig",
    "TreeConfig",
    "ValidationConfig",
    "load_config",
    "parse_override",
    "table_path",
]
