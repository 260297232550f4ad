"""``make dist``: what a cluster needs besides Java, Spark and Python 3.11, built under ``dist/``.

    python -m acq_spark.cluster.dist [--python-prefix /usr] [--compress-level 1]
    python -m acq_spark.cluster.dist --install DIR    # as a host holds it: for ``submit --installed DIR``

* ``acq-spark-env.tar.gz``: a relocatable virtualenv (venv-pack) holding the project's wheel and
  every runtime dependency, TensorFlow included, pinned by ``constraints.txt``. spark-submit ships it
  with ``--archives dist/acq-spark-env.tar.gz#environment``; executors run ``./environment/bin/python``.
  pyspark's own jars and TensorFlow's C headers are left out: the cluster's Spark brings the JVM side,
  and nothing runs a compiler.
* ``jars/``: Delta Lake's jars (``--jars``), copied from the local Ivy cache of ``make setup``; ``jars/s3a/``
  the ``s3a://`` connector's (hadoop-aws and the AWS SDK bundle, about 660 MiB, hard-linked where it can),
  shipped only to jobs whose warehouse or input is in a bucket.
* ``log4j2.properties``: the driver's quiet logging.
* ``MANIFEST.json``: the versions, the files, their sizes and how long the build took.

The archive's ``bin/python`` links to this machine's Python 3.11 unless ``--python-prefix`` names
where the cluster's hosts have it (``/usr`` for ``/usr/bin/python3.11``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from acq_spark import PROJECT_ROOT
from acq_spark.cluster.processes import link_or_copy
from acq_spark.errors import DistError
from acq_spark.platform.jars import local_delta_jars, local_s3a_jars
from acq_spark.resources import LOG4J_CONFIG

DIST_DIR = PROJECT_ROOT / "dist"
ENV_ARCHIVE = "acq-spark-env.tar.gz"
ENV_ALIAS = "environment"  # the folder executors unpack the archive into: ./environment/bin/python
MANIFEST = "MANIFEST.json"
# Not needed where the archive runs: the cluster's Spark has the JVM side, and no compiler runs there.
EXCLUDE = ("lib/python3.11/site-packages/pyspark/jars/*", "lib/python3.11/site-packages/tensorflow/include/*")


@dataclass(frozen=True)
class Dist:
    """A built ``dist/``: the environment archive, Delta's jars and the log4j file."""

    root: Path
    archive: Path
    jars: tuple[Path, ...]
    log4j: Path
    s3a_jars: tuple[Path, ...] = ()

    @classmethod
    def load(cls, root: str | Path = DIST_DIR) -> Dist:
        """The ``dist/`` at ``root``, checked complete.

        Raises:
            DistError: no manifest, or a file it lists is missing.
        """
        root = Path(root)
        manifest = root / MANIFEST
        if not manifest.is_file():
            raise DistError(f"no {manifest}: run `make dist` to build the cluster environment")
        data = json.loads(manifest.read_text())
        jars, s3a_jars = (tuple(root / j for j in data.get(key, [])) for key in ("jars", "s3a_jars"))
        dist = cls(root, root / data["archive"], jars, root / data["log4j"], s3a_jars)
        missing = [str(p) for p in (dist.archive, *dist.jars, *dist.s3a_jars, dist.log4j) if not p.is_file()]
        if missing:
            raise DistError(f"dist incomplete, missing {missing}: run `make dist`")
        return dist

    @property
    def archives_arg(self) -> str:
        """``--archives`` value: the archive, unpacked as ``./environment`` on every executor."""
        return f"{self.archive}#{ENV_ALIAS}"

    @property
    def executor_python(self) -> str:
        return f"./{ENV_ALIAS}/bin/python"

    def install(self, dest: str | Path) -> Path:
        """This ``dist/`` as a cluster host that has it installed holds it: the environment unpacked at
        ``dest/environment``, the s3a jars in ``dest/jars/s3a`` (``submit --installed dest``).

        A host image or a shared mount set up once serves every application, where ``--archives`` ships
        and unpacks the environment (and ``--jars`` the AWS SDK) into every executor of every application.
        """
        dest = Path(dest)
        done = dest / ".acq-installed"
        if done.is_file() and done.read_text() == str(self.archive.stat().st_mtime_ns):
            return dest
        shutil.rmtree(dest, ignore_errors=True)
        (dest / ENV_ALIAS).mkdir(parents=True)
        _run(["tar", "-xzf", str(self.archive), "-C", str(dest / ENV_ALIAS)])
        (dest / "jars" / "s3a").mkdir(parents=True)
        for jar in self.s3a_jars:
            link_or_copy(jar, dest / "jars" / "s3a" / jar.name)
        done.write_text(str(self.archive.stat().st_mtime_ns))
        return dest


def _run(command: list[str], **kwargs: object) -> None:
    subprocess.run(command, check=True, **kwargs)  # type: ignore[call-overload]


def _deps_key() -> str:
    """What the environment's third-party packages depend on: the pins and the declared dependencies."""
    digest = hashlib.sha256()
    for name in ("constraints.txt", "pyproject.toml"):
        digest.update((PROJECT_ROOT / name).read_bytes())
    return digest.hexdigest()


def build_wheel(out: Path) -> Path:
    """The project's wheel (acq_spark + models + package data) in ``out``."""
    with tempfile.TemporaryDirectory() as tmp:
        _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp, str(PROJECT_ROOT)])
        shutil.rmtree(PROJECT_ROOT / "build", ignore_errors=True)  # setuptools' leftovers in the checkout
        (wheel,) = Path(tmp).glob("acq_spark-*.whl")
        out.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(wheel, out / wheel.name))


def _installer(env: Path) -> tuple[list[str], list[str], str]:
    """(options of ``venv`` for ``env``, how to install into it, its flag to reinstall): uv beside this Python
    when set-up put it there, else pip.

    uv links the packages from its cache instead of unpacking every wheel again (TensorFlow's alone is
    over a gigabyte unpacked), which is most of the environment step's time.
    """
    uv = Path(sys.executable).with_name("uv")
    if uv.is_file():
        # compiled here, once: executors unpack the archive afresh for every application
        uv_pip = [str(uv), "pip", "install", "-q", "--compile-bytecode", "--python", str(env / "bin" / "python")]
        return ["--without-pip"], uv_pip, "--reinstall"
    pip = [str(env / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    return [], pip, "--force-reinstall"


def build_env(env: Path, wheel: Path, python: str) -> None:
    """A virtualenv at ``env`` with ``wheel`` and its pinned dependencies (just the wheel if the pins are as before)."""
    stamp, key = env / ".acq-deps", _deps_key()
    venv_options, install, reinstall = _installer(env)
    if stamp.is_file() and stamp.read_text() == key:
        _run([*install, "--no-deps", reinstall, str(wheel)])
        return
    shutil.rmtree(env, ignore_errors=True)
    _run([python, "-m", "venv", *venv_options, str(env)])
    _run([*install, "-c", str(PROJECT_ROOT / "constraints.txt"), str(wheel)])
    stamp.write_text(key)


@contextlib.contextmanager
def python_links_for_venv_pack(env: Path) -> Iterator[None]:
    """While packing with ``--python-prefix``: ``env/bin``'s links to ``<home>/python3.11`` point at ``<home>/python``.

    venv-pack 0.2.0 rewrites the start ``<home>/python`` of a link's target into ``<prefix>/bin/python3.11``,
    so a link to ``<home>/python3.11`` (what ``python3.11 -m venv`` makes) would come out as
    ``<prefix>/bin/python3.113.11``; a target of exactly ``<home>/python`` comes out right. The links are put
    back afterwards (``<home>/python`` need not exist: only the archive's copy of the link is used).
    """
    home = next(line.split("=", 1)[1].strip() for line in (env / "pyvenv.cfg").read_text().splitlines()
                if line.split("=", 1)[0].strip() == "home")  # fmt: skip
    stem = os.path.join(home, "python")
    changed = [(link, os.readlink(link)) for link in (env / "bin").iterdir()
               if link.is_symlink() and os.readlink(link).startswith(stem) and os.readlink(link) != stem]  # fmt: skip
    try:
        for link, _ in changed:
            link.unlink()
            link.symlink_to(stem)
        yield
    finally:
        for link, target in changed:
            link.unlink(missing_ok=True)
            link.symlink_to(target)


def pack_env(env: Path, archive: Path, python_prefix: str | None, compress_level: int) -> None:
    """venv-pack ``env`` into ``archive`` (written beside it, then renamed: never half there)."""
    tmp = archive.with_name(f".tmp-{archive.name}")  # venv-pack infers the format from the suffix
    command = [str(Path(sys.executable).with_name("venv-pack")), "-f", "-p", str(env), "-o", str(tmp)]
    command += ["--compress-level", str(compress_level)]
    for pattern in EXCLUDE:
        command += ["--exclude", pattern]
    if python_prefix:
        command += ["--python-prefix", python_prefix]
        with python_links_for_venv_pack(env):
            _run(command)
    else:
        _run(command)
    tmp.chmod(0o644)  # venv-pack leaves it private; a cluster's other users (an image's `spark`) read it too
    os.replace(tmp, archive)


def build(
    root: Path = DIST_DIR, python_prefix: str | None = None, compress_level: int = 1, env: Path = DIST_DIR / ".env"
) -> dict[str, object]:
    """Build ``dist/`` at ``root``; returns the manifest (also written to ``root/MANIFEST.json``).

    Args:
        root: the output folder.
        python_prefix: where the hosts have Python 3.11 (``/usr``); default: this machine's.
        compress_level: gzip level of the archive.
        env: the virtualenv that is packed (kept between builds: only the wheel is reinstalled
            while ``constraints.txt`` and ``pyproject.toml`` stay the same).
    """
    started = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    (root / MANIFEST).unlink(missing_ok=True)  # incomplete until the end
    timings: dict[str, float] = {}

    def step(name: str) -> None:
        timings[name] = round(time.perf_counter() - started - sum(timings.values()), 1)
        print(f"dist: {name} done in {timings[name]:.1f} s", flush=True)

    for old in root.glob("acq_spark-*.whl"):
        old.unlink()
    wheel = build_wheel(root)
    step("wheel")
    build_env(env, wheel, getattr(sys, "_base_executable", sys.executable))
    step("environment")
    pack_env(env, root / ENV_ARCHIVE, python_prefix, compress_level)
    step("archive")
    jars_dir = root / "jars"
    shutil.rmtree(jars_dir, ignore_errors=True)
    jars_dir.mkdir()
    jars = [Path(shutil.copy2(j, jars_dir / j.name)) for j in local_delta_jars()]
    (jars_dir / "s3a").mkdir()
    s3a_jars = [Path(link_or_copy(j, jars_dir / "s3a" / j.name)) for j in local_s3a_jars()]  # the SDK is 654 MiB
    shutil.copy2(LOG4J_CONFIG, root / "log4j2.properties")
    files = [root / ENV_ARCHIVE, wheel, *jars, *s3a_jars, root / "log4j2.properties"]
    manifest: dict[str, object] = {
        "archive": ENV_ARCHIVE,
        "wheel": wheel.name,
        "jars": [str(j.relative_to(root)) for j in jars],
        "s3a_jars": [str(j.relative_to(root)) for j in s3a_jars],
        "log4j": "log4j2.properties",
        "python_prefix": python_prefix or str(Path(getattr(sys, "_base_executable", sys.executable)).parent.parent),
        "bytes": {str(f.relative_to(root)): f.stat().st_size for f in files},
        "seconds": {**timings, "total": round(time.perf_counter() - started, 1)},
    }
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acq_spark.cluster.dist", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DIST_DIR, help=f"where to build (default {DIST_DIR})")
    parser.add_argument("--python-prefix", default=None, help="the prefix of Python 3.11 on the cluster's hosts")
    parser.add_argument("--compress-level", type=int, default=1, help="gzip level of the archive (0-9)")
    parser.add_argument("--install", type=Path, default=None, metavar="DIR",
                        help="install the built dist at DIR as a cluster host holds it (for submit --installed DIR)")
    args = parser.parse_args(argv)
    if args.install:
        try:
            print(f"dist: installed at {Dist.load(args.out).install(args.install)}")
        except DistError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        return 0
    manifest = build(args.out, args.python_prefix, args.compress_level)
    size = manifest["bytes"][ENV_ARCHIVE] / 2**20  # type: ignore[index]
    jars = f"{len(manifest['jars'])} jars + {len(manifest['s3a_jars'])} s3a jars"  # type: ignore[arg-type]
    print(f"dist: {args.out / ENV_ARCHIVE} ({size:,.0f} MiB), {jars}, "
          f"built in {manifest['seconds']['total']:.0f} s")  # type: ignore[index]
    return 0


if __name__ == "__main__":
    sys.exit(main())
