"""What a table path holds: a Delta log, data files Spark would read, or nothing.

:func:`inspect_path` asks Hadoop's FileSystem through the SparkSession's JVM, so it
answers for every URI scheme Spark reads (``s3a://``, ``hdfs://``, ``file:``, plain paths).
:func:`inspect_local_path` gives the same answer for a local path in plain Python, for
callers that should not start a JVM. Both follow Spark's rule for what is data: a file
none of whose names below the path starts with ``.``, or with ``_`` unless it holds ``=``
(a partition folder such as ``_col=1``); the path itself may name a single file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from acq_spark.platform.frames import jvm

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DELTA_LOG = "_delta_log"


@dataclass(frozen=True)
class PathContents:
    """What :func:`inspect_path` found: whether the path exists, has a Delta log, and a first data file."""

    exists: bool
    delta_log: bool = False
    data_file: str | None = None

    @property
    def has_data(self) -> bool:
        """Whether Spark can read anything here, as Delta or as Parquet."""
        return self.delta_log or self.data_file is not None


def is_hidden(name: str) -> bool:
    """Whether Spark's file listing skips a file or folder called ``name`` (metadata, checksums, temporaries)."""
    return (name.startswith("_") and "=" not in name) or name.startswith(".") or name.endswith("._COPYING_")


def hadoop_filesystem(spark: SparkSession, path: str) -> tuple[Any, Any]:
    """Hadoop's FileSystem for ``path`` (any scheme the session can read) and ``path`` as a Hadoop Path."""
    root = jvm(spark).org.apache.hadoop.fs.Path(path)
    # The session's Hadoop configuration also carries runtime settings such as s3a credentials.
    return root.getFileSystem(spark._jsparkSession.sessionState().newHadoopConf()), root


def inspect_path(spark: SparkSession, path: str) -> PathContents:
    """Look at ``path`` through Hadoop's FileSystem (any scheme the session can read).

    The listing stops at the first data file, so a large table costs one listing call or a few.
    """
    hadoop_path = jvm(spark).org.apache.hadoop.fs.Path
    fs, root = hadoop_filesystem(spark, path)
    if not fs.exists(root):
        return PathContents(exists=False)
    status = fs.getFileStatus(root)
    if status.isFile():
        return PathContents(exists=True, data_file=status.getPath().toString())
    delta_log = bool(fs.exists(hadoop_path(root, DELTA_LOG)))
    prefix = fs.makeQualified(root).toUri().getPath().rstrip("/") + "/"
    files = fs.listFiles(root, True)
    while files.hasNext():
        found = files.next().getPath()
        relative = found.toUri().getPath().removeprefix(prefix)
        if not any(is_hidden(part) for part in relative.split("/")):
            return PathContents(exists=True, delta_log=delta_log, data_file=found.toString())
    return PathContents(exists=True, delta_log=delta_log)


def is_local(path: str, spark_conf: Mapping[str, str] | None = None) -> bool:
    """Whether ``path`` is on the local file system for Spark: no scheme or ``file:``, and no other default FS.

    A path without a scheme is on Hadoop's default file system, which ``spark.hadoop.fs.defaultFS``
    or a ``core-site.xml`` under ``HADOOP_CONF_DIR`` may set to HDFS; then it is not taken as local.
    """
    scheme = urlparse(path).scheme
    if scheme == "file":
        return True
    if scheme:
        return False
    default_fs = (spark_conf or {}).get("spark.hadoop.fs.defaultFS", "file:///")
    return urlparse(default_fs).scheme == "file" and not os.environ.get("HADOOP_CONF_DIR")


def inspect_local_path(path: str) -> PathContents:
    """:func:`inspect_path` for a local path (or a ``file:`` URI), in plain Python."""
    root = Path(urlparse(path).path if path.startswith("file:") else path)
    if not root.exists():
        return PathContents(exists=False)
    if root.is_file():
        return PathContents(exists=True, data_file=str(root))
    delta_log = (root / DELTA_LOG).exists()
    for folder, subfolders, names in os.walk(root, followlinks=True):
        subfolders[:] = [name for name in subfolders if not is_hidden(name)]
        for name in names:
            if not is_hidden(name):
                return PathContents(exists=True, delta_log=delta_log, data_file=os.path.join(folder, name))
    return PathContents(exists=True, delta_log=delta_log)
