"""Fixtures of the feature tests."""

from __future__ import annotations

import pytest
from feature_sample import source_frame


@pytest.fixture(scope="module")
def source_df(spark):
    """The tiny ``creative_daily`` of :mod:`feature_sample`."""
    return source_frame(spark)
