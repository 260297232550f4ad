"""S3 settings from the standard AWS environment, for Spark's ``s3a://`` connector and for the Python side.

With ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY`` (``AWS_SESSION_TOKEN``), ``AWS_REGION`` (or
``AWS_DEFAULT_REGION``) and, for an S3-compatible store such as MinIO or Ceph, ``AWS_ENDPOINT_URL``
(or ``AWS_ENDPOINT_URL_S3``), :func:`derived_settings` gives the Hadoop ``fs.s3a.*`` settings: the
credentials, the region, the endpoint with path-style access, and plain http where the endpoint is
http. Settings given explicitly (``spark.hadoop.fs.s3a.*`` in ``spark.conf`` or spark-defaults) win
over derived ones. :func:`arrow_options` turns the same settings into ``pyarrow.fs.S3FileSystem``'s
arguments, so Spark and Python read the store alike. Secrets never leave these dictionaries: use
:func:`redacted` to show them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from acq_spark.config.secrets import HADOOP_PREFIX, is_secret

DEFAULT_REGION = "us-east-1"
# How long s3a keeps retrying a store that does not answer before the operation fails. Hadoop's defaults
# (7 retries backing off exponentially from 500 ms, each try made 6 times by the AWS SDK) keep one operation
# retrying for minutes, and Spark retries a failed task on a cluster: a nightly could hang for many minutes on
# a dead store. 4 retries ride through a blip of tens of seconds, then fail the run (benchmarks/store_outage.py,
# BENCHMARKS.md). Explicit spark.hadoop.fs.s3a.* settings win.
RETRIES = {"fs.s3a.retry.limit": "4", "fs.s3a.retry.interval": "500ms"}


def derived_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``fs.s3a.*`` settings the standard AWS environment implies (empty when it sets nothing)."""
    settings: dict[str, str] = {}
    if environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY"):
        settings["fs.s3a.access.key"] = environ["AWS_ACCESS_KEY_ID"]
        settings["fs.s3a.secret.key"] = environ["AWS_SECRET_ACCESS_KEY"]
        if environ.get("AWS_SESSION_TOKEN"):
            settings["fs.s3a.session.token"] = environ["AWS_SESSION_TOKEN"]
            settings["fs.s3a.aws.credentials.provider"] = (
                "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider"
            )
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    endpoint = environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL")
    if region:
        settings["fs.s3a.endpoint.region"] = region
    if endpoint:
        settings["fs.s3a.endpoint"] = endpoint
        settings["fs.s3a.path.style.access"] = "true"  # S3-compatible stores rarely serve bucket sub-domains
        settings["fs.s3a.connection.ssl.enabled"] = str(urlparse(endpoint).scheme != "http").lower()
        settings.setdefault("fs.s3a.endpoint.region", DEFAULT_REGION)  # Hadoop 3.4+ needs one with an endpoint
    return settings


def effective_settings(environ: Mapping[str, str], spark_conf: Mapping[str, str]) -> dict[str, str]:
    """The ``fs.s3a.*`` settings in force: the environment's, under the explicit ``spark.hadoop.fs.s3a.*`` ones."""
    prefix = HADOOP_PREFIX + "fs.s3a."
    explicit = {k.removeprefix(HADOOP_PREFIX): v for k, v in spark_conf.items() if k.startswith(prefix)}
    return {**derived_settings(environ), **explicit}


def spark_settings(settings: Mapping[str, str]) -> dict[str, str]:
    """``settings`` as Spark settings (``spark.hadoop.`` before each key), which reach every executor."""
    return {HADOOP_PREFIX + k: v for k, v in settings.items()}


def arrow_options(settings: Mapping[str, str]) -> dict[str, Any]:
    """``pyarrow.fs.S3FileSystem`` keyword arguments for the ``fs.s3a.*`` ``settings``."""
    options: dict[str, Any] = {"region": settings.get("fs.s3a.endpoint.region", DEFAULT_REGION)}
    if "fs.s3a.access.key" in settings:
        options["access_key"] = settings["fs.s3a.access.key"]
        options["secret_key"] = settings.get("fs.s3a.secret.key", "")
        if "fs.s3a.session.token" in settings:
            options["session_token"] = settings["fs.s3a.session.token"]
    endpoint = settings.get("fs.s3a.endpoint")
    ssl = settings.get("fs.s3a.connection.ssl.enabled", "true").lower() == "true"
    if endpoint:
        parsed = urlparse(endpoint if "://" in endpoint else f"{'https' if ssl else 'http'}://{endpoint}")
        options["endpoint_override"] = parsed.netloc
        options["scheme"] = parsed.scheme
    else:
        options["scheme"] = "https" if ssl else "http"
    # pyarrow addresses buckets path-style by default, as fs.s3a.path.style.access=true does
    # One PUT of the complete object when it is closed (small objects; larger ones are one multipart upload,
    # which S3 also shows whole or not at all), and written before close() returns.
    options["allow_delayed_open"] = True
    options["background_writes"] = False
    options["connect_timeout"] = 5.0
    options["request_timeout"] = 30.0
    return options


def redacted(text: str, settings: Mapping[str, str]) -> str:
    """``text`` with every secret value of ``settings`` replaced by ``***``."""
    for key, value in settings.items():
        if value and is_secret(key):
            text = text.replace(value, "***")
    return text
