"""One session-scoped Spark (local[2], UI off, few shuffle partitions, Delta on) for the suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from acq_spark import PROJECT_ROOT
from acq_spark.config import Config, load_config

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
TEST_CONFIG = PROJECT_ROOT / "conf" / "test.yaml"


def make_test_config(tmp_path: Path, *overrides: str) -> Config:
    """The test configuration with its warehouse under ``tmp_path`` (plus any overrides)."""
    return load_config(TEST_CONFIG, [f"warehouse={tmp_path / 'warehouse'}", *overrides])


# The modules that take longest, longest first (BENCHMARKS.md, issue 26). Under ``make test`` xdist hands the
# modules out in collection order, so these start first and the two workers finish together, instead of one
# starting the chain's module when the other is nearly done.
LONGEST_FIRST = (
    "tests/cluster/",
    "tests/test_chain.py",
    "tests/features/test_history.py",
    "tests/allocation/test_alloc_job.py",
    "tests/features/test_feature_sample.py",
    "tests/features/test_duckdb_reference.py",
    "tests/features/test_feature_job.py",
    "tests/test_simulate.py",
    "tests/test_maintenance.py",
    "tests/test_launch.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every process collects the same order: :data:`LONGEST_FIRST`, then the rest as found (a stable sort)."""

    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)), len(LONGEST_FIRST))

    items.sort(key=rank)


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Under ``pytest -n N`` (``make test``): a module's tests on one worker, so its module fixtures (a simulated
    world, a trained model) are built once, and every cluster test on one worker, so one cluster serves them."""
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "tests/cluster" if nodeid.startswith("tests/cluster/") else nodeid.split("::", 1)[0]

    return ModuleScheduling(config, log)


@pytest.fixture(scope="session")
def spark():
    from acq_spark.platform.session import get_spark

    session = get_spark(load_config(TEST_CONFIG).spark, app_name="acq-tests", scores=True)  # the suite scores
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



@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on 127.0.0.1 (a free port), started for the session and stopped after it."""
    from s3_store import MotoServer

    server = MotoServer.start()
    yield server
    server.stop()


@pytest.fixture
def bucket(s3_server, monkeypatch):
    """A fresh bucket on :func:`s3_server`, named by the AWS environment variables (and so the Python side)."""
    from acq_spark.platform import fs, s3a

    for key, value in s3_server.environment().items():
        monkeypatch.setenv(key, value)
    fs.configure(s3a.derived_settings(os.environ))
    yield s3_server.new_bucket()
    monkeypatch.undo()
    fs.configure(s3a.derived_settings(os.environ))


@pytest.fixture
def spark_bucket(spark, bucket, s3_server):
    """:func:`bucket`, with the running session's Hadoop configuration pointed at the store too."""
    from s3_store import use_store

    with use_store(spark, s3_server.environment()):
        yield bucket
