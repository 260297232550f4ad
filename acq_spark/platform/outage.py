"""A store that stopped answering, told apart from other failures and said in one line.

Spark's ``s3a://`` connector retries a request the store does not answer (``fs.s3a.retry.limit`` times,
backing off exponentially from ``fs.s3a.retry.interval``, each try made up to ``fs.s3a.attempts.maximum``
times by the AWS SDK; :data:`acq_spark.platform.s3a.RETRIES`), then fails with a Java exception that names the
operation and the object, e.g. ``java.net.ConnectException: listObjects() on s3a://b/wh/scores/_delta_log:
… Connection refused``, under pages of Spark's stack trace. :func:`store_outage` finds that line and says it
as a :class:`~acq_spark.platform.fs.StoreError` naming the store, the operation and the object.
"""

from __future__ import annotations

import re

from acq_spark.platform import fs

# "<exception class>: <operation> on <s3a URI>: <detail>", as the s3a connector words a failed operation
_FAILED_OPERATION = re.compile(
    r"(?:[\w$]+\.)*[\w$]+(?:Exception|Error): (?P<operation>[^:\n]{1,120}?) on (?P<location>s3[an]?://[^\s:]+): "
    r"(?P<detail>[^\n]*)"
)
# What the AWS SDK (and curl, for pyarrow) say when no one answers at the endpoint
_NO_ANSWER = re.compile(
    r"Connection refused|Connection reset|failed to respond|[Cc]onnect(?:ion)? timed out|Read timed out|"
    r"No route to host|UnknownHost\w*|Couldn't connect to server"
)


def store_name() -> str:
    """The store ``s3a://`` reaches: its endpoint, or AWS S3 and the region."""
    settings = fs.s3_settings()
    endpoint = settings.get("fs.s3a.endpoint")
    return endpoint if endpoint else f"S3 ({settings.get('fs.s3a.endpoint.region', 'default region')})"


def store_outage(exc: BaseException) -> fs.StoreError | None:
    """The :class:`~acq_spark.platform.fs.StoreError` ``exc`` amounts to when the store did not answer, else None.

    Its cause is ``exc``, so the log keeps the whole Java stack.
    """
    if isinstance(exc, fs.StoreError):
        return exc
    for failed in _FAILED_OPERATION.finditer(str(exc)):  # a Py4JJavaError's text holds the Java causes
        why = _NO_ANSWER.search(failed["detail"])
        if why:
            outage = fs.StoreError(
                f"store {store_name()} did not answer: {failed['operation']} on {failed['location']} failed "
                f"({why.group(0)}) after the s3a connector's retries; re-run once the store answers"
            )
            outage.__cause__ = exc
            return outage
    return None
