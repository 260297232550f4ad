"""Delta Lake's JVM jars: resolved once at set-up, used from local files ever after.

``python -m acq_spark.jars`` (run by ``make setup``) asks Spark's own Ivy resolver for
``io.delta:delta-spark_<spark major.minor>_2.13:<delta-spark version>`` from Maven Central
into the local Ivy cache, then copies Delta's own jars (``io.delta_*``) into ``<project>/.jars``. Jobs load
them from there with ``spark.jars``, so nothing is downloaded at job time.
"""

from __future__ import annotations

import shutil
import sys
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlparse

from acq_spark.errors import AcqError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
JARS_DIR = PROJECT_ROOT / ".jars"
MANIFEST = JARS_DIR / "MANIFEST"


class MissingJarsError(AcqError):
    """Delta's jars have not been resolved (run ``make setup``), or were not passed to spark-submit."""


def delta_coordinate() -> str:
    """The Maven coordinate of the Delta jar matching the installed pyspark and delta-spark."""
    import pyspark

    spark_mm = ".".join(pyspark.__version__.split(".")[:2])
    return f"io.delta:delta-spark_{spark_mm}_2.13:{version('delta-spark')}"


def local_delta_jars() -> list[Path]:
    """The resolved jar files, in manifest order.

    Raises:
        MissingJarsError: set-up has not run, or the manifest is for other versions.
    """
    if not MANIFEST.is_file():
        raise MissingJarsError(f"Delta jars not resolved ({MANIFEST} missing): run `make setup`")
    lines = MANIFEST.read_text().split()
    coordinate, names = lines[0], lines[1:]
    if coordinate != delta_coordinate():
        raise MissingJarsError(f"{MANIFEST} is for {coordinate}, need {delta_coordinate()}: run `make setup`")
    jars = [JARS_DIR / name for name in names]
    missing = [str(j) for j in jars if not j.is_file()]
    if missing:
        raise MissingJarsError(f"Delta jars missing: {missing}: run `make setup`")
    return jars


def resolve() -> list[Path]:
    """Resolve Delta's jars through Spark's Ivy (network needed once) and copy them to ``.jars``."""
    try:
        return local_delta_jars()
    except MissingJarsError:
        pass
    from pyspark.sql import SparkSession

    coordinate = delta_coordinate()
    print(f"resolving {coordinate} from Maven Central into the local Ivy cache ...", flush=True)
    spark = (
        SparkSession.builder.master("local[1]")
        .appName("acq-resolve-jars")
        .config("spark.jars.packages", coordinate)
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    resolved = [urlparse(u).path for u in spark.sparkContext.getConf().get("spark.jars", "").split(",") if u]
    spark.stop()
    if not resolved:
        raise MissingJarsError(f"Spark resolved no jars for {coordinate}")
    JARS_DIR.mkdir(exist_ok=True)
    names = []
    # Only Delta's own jars: the transitive ones (jackson, log4j, hadoop, parquet) are Spark's
    # already, at other versions, and would shadow them.
    for src in (s for s in resolved if Path(s).name.startswith("io.delta_")):
        shutil.copy2(src, JARS_DIR / Path(src).name)
        names.append(Path(src).name)
    MANIFEST.write_text("\n".join([coordinate, *names]) + "\n")
    return local_delta_jars()


if __name__ == "__main__":
    jars = resolve()
    print("Delta jars ready:", *[j.name for j in jars], sep="\n  ", file=sys.stdout)
