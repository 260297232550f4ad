"""One session-scoped Spark (local[2], UI off, few shuffle partitions, Delta on) for the suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from acq_spark.config import PROJECT_ROOT, Config, load_config

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
TEST_CONFIG = PROJECT_ROOT / "conf" / "test.yaml"


def make_test_config(tmp_path: Path, *overrides: str) -> Config:
    """The test configuration with its warehouse under ``tmp_path`` (plus any overrides)."""
    return load_config(TEST_CONFIG, [f"warehouse={tmp_path / 'warehouse'}", *overrides])


@pytest.fixture(scope="session")
def spark():
    from acq_spark.spark import get_spark

    session = get_spark(load_config(TEST_CONFIG).spark, app_name="acq-tests")
    yield session
    session.stop()


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    """The test configuration, its warehouse in this test's temporary folder."""
    return make_test_config(tmp_path)


@pytest.fixture
def make_cfg(tmp_path: Path):
    """A factory: ``make_cfg("simulate.n_pairs=500", ...)`` gives a test config with overrides."""
    return lambda *overrides: make_test_config(tmp_path, *overrides)
