"""A local Spark standalone cluster (master + worker JVMs on 127.0.0.1) and ``spark-submit`` against it.

For machines without Docker, for integration tests and for fault drills::

    with StandaloneCluster(n_workers=2) as cluster:
        result = submit_job("simulate", cluster.master_url, ["--config", "conf/test.yaml"])

``python -m acq_spark.cluster start|stop|status`` runs one in the background (``make cluster-local-up``).
"""

from __future__ import annotations

from acq_spark.cluster.standalone import SPARK_HOME, Daemon, StandaloneCluster
from acq_spark.cluster.submit import SubmittedJob, start_job, submit_command, submit_job
from acq_spark.errors import ClusterError

__all__ = [
    "SPARK_HOME",
    "ClusterError",
    "Daemon",
    "StandaloneCluster",
    "SubmittedJob",
    "start_job",
    "submit_command",
    "submit_job",
]
