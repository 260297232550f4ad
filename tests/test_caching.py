from __future__ import annotations

import pytest

from acq_spark.platform.caching import INPUT_SIZED_CACHE, cached


def test_cached_releases_the_cache_when_the_block_ends(spark):
    source_df = spark.range(10)
    with cached(source_df, INPUT_SIZED_CACHE) as df:
        assert df.count() == 10
        assert df.is_cached
        assert df.storageLevel == INPUT_SIZED_CACHE
    assert not df.is_cached

def test_cached_releases_the_cache_when_the_block_fails(spark):
    source_df = spark.range(10)
    with pytest.raises(RuntimeError, match="stage failed"), cached(source_df) as df:
        df.count()
        raise RuntimeError("stage failed")
    assert not df.is_cached
