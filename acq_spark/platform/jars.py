"""Delta Lake's and the ``s3a://`` connector's JVM jars: resolved once at set-up, used from local files ever after.

``python -m acq_spark.platform.jars`` (run by ``make setup``) asks Spark's own Ivy resolver for
``io.delta:delta-spark_<spark major.minor>_2.13:<delta-spark version>`` from Maven Central
into the local Ivy cache, then copies Delta's own jars (``io.delta_*``) into ``<project>/.jars``; and
for ``org.apache.hadoop:hadoop-aws:<the Hadoop pyspark bundles>``, whose jars (hadoop-aws, the AWS SDK
bundle and its two small helpers) go to ``<project>/.jars/s3a``. Jobs load them from there, so nothing
is downloaded at job time.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlparse

from acq_spark import PROJECT_ROOT
from acq_spark.errors import MissingJarsError

JARS_DIR = PROJECT_ROOT / ".jars"
MANIFEST = JARS_DIR / "MANIFEST"
S3A_DIR = JARS_DIR / "s3a"
# hadoop-aws, the AWS SDK bundle, S3's analytics accelerator and wildfly-openssl: what Spark lacks of it.
S3A_JARS = ("org.apache.hadoop_hadoop-aws-", "software.amazon.", "org.wildfly.openssl_")


def delta_coordinate() -> str:
    """The Maven coordinate of the Delta jar matching the installed pyspark and delta-spark."""
    import pyspark

    spark_mm = ".".join(pyspark.__version__.split(".")[:2])
    return f"io.delta:delta-spark_{spark_mm}_2.13:{version('delta-spark')}"


def hadoop_version() -> str:
    """The Hadoop version pyspark bundles (from its ``hadoop-client-api`` jar)."""
    import pyspark

    jars = Path(pyspark.__file__).parent / "jars"
    (api,) = jars.glob("hadoop-client-api-*.jar")
    return api.name.removeprefix("hadoop-client-api-").removesuffix(".jar")


def s3a_coordinate() -> str:
    """The Maven coordinate of ``hadoop-aws`` matching the Hadoop that pyspark bundles."""
    return f"org.apache.hadoop:hadoop-aws:{hadoop_version()}"


def local_delta_jars() -> list[Path]:
    """Delta's resolved jar files, in manifest order.

    Raises:
        MissingJarsError: set-up has not run, or the manifest is for other versions.
    """
    return _local_jars(MANIFEST, delta_coordinate(), "Delta")


def local_s3a_jars() -> list[Path]:
    """The ``s3a://`` connector's resolved jar files (hadoop-aws and the AWS SDK), in manifest order.

    Raises:
        MissingJarsError: set-up has not run, or the manifest is for another Hadoop.
    """
    return _local_jars(S3A_DIR / "MANIFEST", s3a_coordinate(), "hadoop-aws")


def _local_jars(manifest: Path, wanted: str, what: str) -> list[Path]:
    if not manifest.is_file():
        raise MissingJarsError(f"{what} jars not resolved ({manifest} missing): run `make setup`")
    lines = manifest.read_text().split()
    coordinate, names = lines[0], lines[1:]
    if coordinate != wanted:
        raise MissingJarsError(f"{manifest} is for {coordinate}, need {wanted}: run `make setup`")
    if not names:
        raise MissingJarsError(f"{manifest} lists no {what} jars: run `make setup`")
    jars = [manifest.parent / name for name in names]
    missing = [str(j) for j in jars if not j.is_file()]
    if missing:
        raise MissingJarsError(f"{what} jars missing: {missing}: run `make setup`")
    return jars


def resolve() -> list[Path]:
    """Resolve Delta's and hadoop-aws's jars through Spark's Ivy (network needed once) and copy them to ``.jars``.

    Both packages are resolved by one JVM: ``spark.jars.packages`` is read only when the JVM starts,
    so a second session in the same process would resolve nothing.
    """
    wanted = {
        MANIFEST: (delta_coordinate(), ("io.delta_",), local_delta_jars),
        S3A_DIR / "MANIFEST": (s3a_coordinate(), S3A_JARS, local_s3a_jars),
    }
    missing = {manifest: spec for manifest, spec in wanted.items() if not _present(spec[2])}
    if missing:
        resolved = _ivy_resolve([coordinate for coordinate, _, _ in missing.values()])
        for manifest, (coordinate, keep, _) in missing.items():
            _keep(manifest, coordinate, [s for s in resolved if Path(s).name.startswith(keep)])
    return [jar for _, _, local in wanted.values() for jar in local()]


def _present(local: Callable[[], list[Path]]) -> bool:
    try:
        local()
    except MissingJarsError:
        return False
    return True


def _ivy_resolve(coordinates: list[str]) -> list[str]:
    from pyspark.sql import SparkSession

    print(f"resolving {', '.join(coordinates)} from Maven Central into the local Ivy cache ...", flush=True)
    spark = (
        SparkSession.builder.master("local[1]")
        .appName("acq-resolve-jars")
        .config("spark.jars.packages", ",".join(coordinates))
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    resolved = [urlparse(u).path for u in spark.sparkContext.getConf().get("spark.jars", "").split(",") if u]
    spark.stop()
    return resolved


def _keep(manifest: Path, coordinate: str, jars: list[str]) -> None:
    """Copy the package's own ``jars`` beside ``manifest`` and list them in it.

    Only the package's own jars: the transitive ones (jackson, log4j, hadoop, parquet) are Spark's
    already, at other versions, and would shadow them.
    """
    if not jars:
        raise MissingJarsError(f"Spark resolved no jars for {coordinate}")
    manifest.parent.mkdir(parents=True, exist_ok=True)
    for src in jars:
        shutil.copy2(src, manifest.parent / Path(src).name)
    manifest.write_text("\n".join([coordinate, *[Path(j).name for j in jars]]) + "\n")


if __name__ == "__main__":
    jars = resolve()
    print("Delta and s3a jars ready:", *[j.name for j in jars], sep="\n  ", file=sys.stdout)
