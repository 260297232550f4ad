"""Counter-based random numbers as Spark columns: a hash of (seed, keys, salt).

Unlike ``F.rand``, the value of a row does not depend on how the data is partitioned, so the
simulated world is the same for a seed whatever the cluster, partition count or row order.
"""

from __future__ import annotations

import math

from pyspark.sql import Column
from pyspark.sql import functions as F

_MANTISSA = (1 << 53) - 1


def uniform(seed: int, salt: str, *keys: Column) -> Column:
    """A uniform double in (0, 1) determined by ``seed``, ``salt`` and the key columns."""
    h = F.xxhash64(F.lit(seed), F.lit(salt), *keys)
    return (h.bitwiseAND(F.lit(_MANTISSA)).cast("double") + F.lit(0.5)) / F.lit(float(_MANTISSA + 1))


def normal(seed: int, salt: str, *keys: Column) -> Column:
    """A standard normal draw (Box–Muller over two hashed uniforms)."""
    u1 = uniform(seed, f"{salt}/u1", *keys)
    u2 = uniform(seed, f"{salt}/u2", *keys)
    return F.sqrt(F.lit(-2.0) * F.log(u1)) * F.cos(F.lit(2.0 * math.pi) * u2)
