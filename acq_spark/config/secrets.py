"""Which settings hold secrets: what the configuration's record and :func:`acq_spark.platform.s3a.redacted` hide."""

from __future__ import annotations

import re

HADOOP_PREFIX = "spark.hadoop."
SECRET_KEYS = ("fs.s3a.access.key", "fs.s3a.secret.key", "fs.s3a.session.token")
# Anything named like a secret is one too, whatever its store.
SECRET_NAME = re.compile(r"secret|password|token|access[._]?key", re.IGNORECASE)


def is_secret(key: str) -> bool:
    """Whether the setting ``key`` holds a secret (a credential, a password, a token)."""
    return key.removeprefix(HADOOP_PREFIX) in SECRET_KEYS or bool(SECRET_NAME.search(key))
