"""The Spark cluster of ``docker-compose.yml`` on a machine with no image registry and no systemd.

``python -m acq_spark.cluster.docker`` (the Makefile's ``cluster-*`` and ``compose-test`` targets):

    engine-up      install Docker's Debian packages if missing; start dockerd unless an engine answers
    image          the local base image (once; or SPARK_IMAGE=...), then the project image
    up | down      the cluster: master, two workers, an S3 server (moto) on an internal network
    compose ARGS   compose v2 (``docker compose``) or v1 (``docker-compose``), whichever is installed
    engine-down    stop the dockerd that engine-up started (no other)
"""

from __future__ import annotations

from acq_spark.cluster.docker.base_image import BaseImage, debian_mirror
from acq_spark.cluster.docker.compose import Compose
from acq_spark.cluster.docker.engine import start_engine, stop_engine
from acq_spark.errors import DockerError

__all__ = ["BaseImage", "Compose", "DockerError", "debian_mirror", "start_engine", "stop_engine"]
