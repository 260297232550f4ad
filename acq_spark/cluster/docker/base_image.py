"""The local base image, for machines that reach no image registry: Debian, Java 17, Python 3.11 and Spark.

    debootstrap --variant=minbase --include=<PACKAGES> bookworm ROOTFS <the mirror apt uses>
    + Spark at /opt/spark (the installed pyspark's: its jars and launch scripts) + the user spark (uid 185)
    tar -C ROOTFS -c . | docker import - acq-spark-base:<key>

It has the layout of the official ``apache/spark`` image (``SPARK_HOME=/opt/spark``, user ``spark``), so
the project's ``Dockerfile`` builds on either. Packages go in with debootstrap on the host, not with
apt in a container: no container needs a network. The tag's key is a digest of every input (suite,
mirror, packages, Spark's version): the image is built once and reused while they stay the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyspark

from acq_spark.cluster.docker.engine import run
from acq_spark.cluster.standalone import copy_spark_home
from acq_spark.errors import DockerError

REPOSITORY = "acq-spark-base"
SUITE = "bookworm"  # its python3 is 3.11, the archive's Python (make dist --python-prefix /usr)
PACKAGES = ("openjdk-17-jre-headless", "python3", "procps")  # procps: Spark's scripts call ps
SPARK_UID = 185  # the official image's user spark
ENV = {
    "SPARK_HOME": "/opt/spark",
    "JAVA_HOME": "/usr/lib/jvm/java-17-openjdk-amd64",
    "PATH": "/opt/spark/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}
SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))


def debian_mirror(sources: tuple[Path, ...] = SOURCES) -> str:
    """The Debian mirror apt already uses (``ACQ_DEBIAN_MIRROR`` overrides): the first ``.../debian`` URI.

    Raises:
        DockerError: apt's sources name no Debian mirror.
    """
    if os.environ.get("ACQ_DEBIAN_MIRROR"):
        return os.environ["ACQ_DEBIAN_MIRROR"]
    files: list[Path] = []
    for source in sources:
        files += sorted(source.glob("*.list")) + sorted(source.glob("*.sources")) if source.is_dir() else [source]
    for path in (f for f in files if f.is_file()):
        for line in path.read_text(errors="replace").splitlines():
            line = line.split("#", 1)[0]
            for uri in re.findall(r"(?:^deb\s+(?:\[[^]]*\]\s+)?|^URIs:\s*)(\S+)", line.strip()):
                if uri.rstrip("/").endswith("/debian"):
                    return uri.rstrip("/")
    raise DockerError(f"no Debian mirror in {', '.join(map(str, sources))}: set ACQ_DEBIAN_MIRROR")


@dataclass(frozen=True)
class BaseImage:
    """What the base image is made of; :attr:`tag` names exactly that."""

    mirror: str
    suite: str = SUITE
    packages: tuple[str, ...] = PACKAGES
    spark_version: str = pyspark.__version__
    env: dict[str, str] = field(default_factory=lambda: dict(ENV))

    @property
    def tag(self) -> str:
        key = hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]
        return f"{REPOSITORY}:{key}"

    def exists(self) -> bool:
        return run(["docker", "image", "inspect", self.tag], 60, check=False).returncode == 0

    def ensure(self) -> str:
        """The tag, built first unless an image of that tag is there (see :meth:`build`)."""
        if self.exists():
            print(f"docker: base image {self.tag} reused ({image_size_mb(self.tag):,.0f} MB)", flush=True)
            return self.tag
        return self.build()

    def build(self, workdir: Path = Path("/var/tmp")) -> str:
        """debootstrap, Spark and the user into a root filesystem, imported as :attr:`tag`.

        Raises:
            DockerError: debootstrap failed (the message names the package or the mirror it could not get).
        """
        if shutil.which("debootstrap") is None:
            raise DockerError("the base image cannot be built: no debootstrap (apt-get install debootstrap)")
        started = time.perf_counter()
        print(f"docker: building {self.tag} from {self.mirror} ({self.suite}, {', '.join(self.packages)})", flush=True)
        with tempfile.TemporaryDirectory(prefix="acq-base-", dir=workdir) as tmp:
            rootfs = Path(tmp) / "rootfs"
            command = ["debootstrap", "--variant=minbase", f"--include={','.join(self.packages)}",
                       self.suite, str(rootfs), self.mirror]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                errors = [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("E:")]
                why = errors[-1][2:].strip() if errors else done.stderr.strip().splitlines()[-1:]
                raise DockerError(f"the base image cannot be built: debootstrap {self.suite} from {self.mirror}: {why}")
            shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
            (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True)
            shutil.rmtree(rootfs / "var/lib/apt/lists", ignore_errors=True)
            (rootfs / "var/lib/apt/lists").mkdir()
            copy_spark_home(rootfs / "opt/spark")
            useradd = ["chroot", str(rootfs), "useradd", "--uid", str(SPARK_UID), "--user-group",
                       "--home-dir", "/opt/spark", "--no-create-home", "--shell", "/bin/bash", "spark"]  # fmt: skip
            run(useradd, 60)
            changes = [f"ENV {k}={v}" for k, v in self.env.items()] + ["WORKDIR /opt/spark", "USER spark"]
            imported = ["docker", "import", *(a for c in changes for a in ("--change", c)), "-", self.tag]
            with subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE) as tar:
                done = subprocess.run(imported, stdin=tar.stdout, capture_output=True, text=True, check=False)
            if done.returncode != 0 or tar.returncode != 0:
                raise DockerError(f"the base image cannot be built: docker import failed: {done.stderr.strip()}")
        seconds = time.perf_counter() - started
        print(f"docker: base image {self.tag} built in {seconds:.0f} s ({image_size_mb(self.tag):,.0f} MB)", flush=True)
        return self.tag


def image_size_mb(tag: str) -> float:
    """The image's size in MB (10^6 bytes, as ``docker images`` shows it)."""
    return int(run(["docker", "image", "inspect", "--format", "{{.Size}}", tag], 60).stdout.strip()) / 1e6


def image_id(tag: str) -> str | None:
    """The image id that ``tag`` names now, or None when there is no such image."""
    done = run(["docker", "image", "inspect", "--format", "{{.Id}}", tag], 60, check=False)
    return done.stdout.strip() if done.returncode == 0 else None
