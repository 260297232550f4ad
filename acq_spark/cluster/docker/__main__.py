"""``python -m acq_spark.cluster.docker engine-up|image|up|down|compose ARGS|engine-down`` (see the package)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from acq_spark import PROJECT_ROOT
from acq_spark.cluster.docker.base_image import BaseImage, debian_mirror, image_id, image_size_mb
from acq_spark.cluster.docker.compose import PROJECT_IMAGE, Compose
from acq_spark.cluster.docker.engine import (
    DockerError,
    install_packages,
    last_line,
    missing_packages,
    run,
    start_engine,
    stop_engine,
)

LOCAL = "local"


def build_images(spark_image: str) -> None:
    """The base (``local``: built here once, see :class:`BaseImage`; else an image to pull) and the project image."""
    base = BaseImage(debian_mirror()).ensure() if spark_image == LOCAL else spark_image
    previous = image_id(PROJECT_IMAGE)
    started = time.perf_counter()
    # docker build, not compose build: compose v1 would build the one image once per service;
    # --force-rm: a failed build leaves no container behind
    build = ["docker", "build", "-q", "--force-rm", "--build-arg", f"SPARK_IMAGE={base}", "-t", PROJECT_IMAGE]
    run([*build, str(PROJECT_ROOT)], 1800)
    seconds = time.perf_counter() - started
    print(f"docker: project image {PROJECT_IMAGE} on {base} built in {seconds:.0f} s "
          f"({image_size_mb(PROJECT_IMAGE):,.0f} MB)", flush=True)  # fmt: skip
    if previous is not None and previous != image_id(PROJECT_IMAGE):
        # the tag moved, so the last build is untagged; each fresh clone's dist/ differs, so every compose test
        # would otherwise leave one more image of about 4 GB behind
        removed = run(["docker", "image", "rm", previous], 300, check=False)
        what = "removed" if removed.returncode == 0 else f"kept ({last_line(removed.stderr)})"
        print(f"docker: the previous {PROJECT_IMAGE} ({previous[:19]}) {what}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acq_spark.cluster.docker", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    engine = sub.add_parser("engine-up", help="install what is missing (apt-get), start dockerd unless one answers")
    engine.add_argument("--no-debootstrap", action="store_true", help="do not install debootstrap (no local base)")
    sub.add_parser("engine-down", help="stop the dockerd that engine-up started")
    image = sub.add_parser("image", help="build the base image (once) and the project image")
    image.add_argument("--spark-image", default=os.environ.get("SPARK_IMAGE") or LOCAL,
                       help="the base: 'local' (debootstrap here; the default) or an image (apache/spark:...)")
    sub.add_parser("up", help="start the cluster and wait for it; make the bucket")
    sub.add_parser("down", help="remove the cluster's containers, networks and volumes")
    passthrough = sub.add_parser("compose", help="run compose (v2 or v1) with the project's settings")
    passthrough.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    try:
        if args.command == "engine-up":
            install_packages(missing_packages(need_debootstrap=not args.no_debootstrap))
            if start_engine() is None:
                print("docker: an engine already answers; it is used and left running", flush=True)
        elif args.command == "engine-down":
            stop_engine()
        elif args.command == "image":
            build_images(args.spark_image)
        elif args.command == "up":
            Compose().up()
        elif args.command == "down":
            Compose().down()
        else:
            compose = Compose()
            return subprocess.run(compose.args(*args.args), env=compose.environ(), check=False).returncode
    except DockerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
