"""The one filesystem layer for everything that is not a Delta table: artifacts, pointers, run records, reports.

Every location is a string: a local path, ``file://``, ``s3a://bucket/prefix`` (``s3://`` too), or any other
URI ``pyarrow.fs`` opens where its connector is present (``hdfs://``, ``gs://``). Nothing is ever half-written:
on a file system that renames atomically (POSIX, HDFS) a file goes to a temporary name beside its target and
is renamed into place; on an object store it is one PUT of the complete object, which readers see whole or
not at all. A version's files are written before the pointer that names it (:func:`write_latest`).

S3 is configured like Spark's ``s3a://`` connector (:mod:`acq_spark.platform.s3a`): :func:`configure` takes the
session's ``fs.s3a.*`` settings; without it, the standard AWS environment is used.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pyarrow import fs as pafs

from acq_spark.errors import InputNotFoundError, StoreError, UnreadableFileError
from acq_spark.platform import s3a

LATEST = "LATEST"  # the pointer file naming a folder's newest complete version
_S3_SCHEMES = ("s3a", "s3", "s3n")

_settings: dict[str, str] | None = None  # the fs.s3a.* settings in force in this process
_s3_filesystems: dict[tuple, pafs.S3FileSystem] = {}


def configure(settings: Mapping[str, str] | None) -> None:
    """Use these ``fs.s3a.*`` settings for ``s3a://`` from now on (the Spark session's, see :mod:`.s3a`).

    None goes back to the AWS environment's.
    """
    global _settings
    _settings = None if settings is None else dict(settings)


def s3_settings() -> dict[str, str]:
    """The ``fs.s3a.*`` settings in force: those given to :func:`configure`, else the AWS environment's."""
    return dict(_settings) if _settings is not None else s3a.derived_settings(os.environ)


def is_uri(location: str | Path) -> bool:
    """Whether ``location`` names a scheme (``s3a://``, ``file://``, ...) rather than a plain local path."""
    return "://" in str(location)


def join(base: str | Path, *parts: str) -> str:
    """``base/part/...``: a URI keeps its scheme, a local path stays a local path."""
    if not is_uri(base):
        return os.path.join(str(base), *parts)
    return "/".join([str(base).rstrip("/"), *(p.strip("/") for p in parts)])


def name_of(location: str | Path) -> str:
    """The last component of ``location``."""
    return str(location).rstrip("/").rsplit("/", 1)[-1]


def resolve(location: str | Path) -> tuple[pafs.FileSystem, str]:
    """The ``pyarrow`` file system that holds ``location`` and the path within it."""
    location = str(location)
    scheme = urlparse(location).scheme if is_uri(location) else ""
    if not scheme:
        return pafs.LocalFileSystem(), str(Path(location).expanduser().absolute())
    if scheme == "file":
        return pafs.LocalFileSystem(), urlparse(location).path
    if scheme in _S3_SCHEMES:
        return _s3(), location.split("://", 1)[1].rstrip("/")
    filesystem, path = pafs.FileSystem.from_uri(location)
    return filesystem, path


def _s3() -> pafs.S3FileSystem:
    options = s3a.arrow_options(s3_settings())
    key = tuple(sorted((k, str(v)) for k, v in options.items()))
    if key not in _s3_filesystems:
        _s3_filesystems[key] = pafs.S3FileSystem(**options)
    return _s3_filesystems[key]


def _renames_atomically(filesystem: pafs.FileSystem) -> bool:
    return filesystem.type_name in ("local", "hdfs")


def _store_error(action: str, location: str, exc: OSError) -> StoreError:
    return StoreError(f"cannot {action} {location}: {s3a.redacted(str(exc), s3_settings())}")


def write_bytes(location: str | Path, data: bytes) -> None:
    """Write ``data`` to ``location`` whole or not at all (temporary name + rename, or one object PUT).

    Raises:
        StoreError: the store refused the write (no such bucket, credentials, unreachable endpoint).
    """
    filesystem, path = resolve(location)
    if isinstance(filesystem, pafs.LocalFileSystem):
        _write_local(Path(path), data)
        return
    try:
        if _renames_atomically(filesystem):
            parent, name = path.rsplit("/", 1)
            filesystem.create_dir(parent, recursive=True)
            tmp = f"{parent}/.{name}.{uuid.uuid4().hex[:12]}.tmp"
            with filesystem.open_output_stream(tmp) as out:
                out.write(data)
            filesystem.move(tmp, path)
        else:
            with filesystem.open_output_stream(path) as out:
                out.write(data)
    except OSError as exc:
        raise _store_error("write", str(location), exc) from None


def _write_local(path: Path, data: bytes) -> None:
    """A temporary file beside ``path``, then a rename; the mode the umask gives (0644 by default)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # 0666 & ~umask, as open() does
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(location: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` whole or not at all (see :func:`write_bytes`)."""
    write_bytes(location, text.encode("utf-8"))


def write_json(location: str | Path, obj: Any) -> None:
    """Write ``obj`` as pretty, key-sorted JSON, whole or not at all."""
    write_text(location, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def read_bytes(location: str | Path, what: str = "artifact") -> bytes:
    """The bytes at ``location``.

    Raises:
        InputNotFoundError: nothing there.
        StoreError: the store could not be read.
    """
    filesystem, path = resolve(location)
    try:
        with filesystem.open_input_stream(path) as stream:
            return stream.read()
    except FileNotFoundError:
        raise InputNotFoundError(f"{what}: no file at {location}") from None
    except IsADirectoryError:
        raise InputNotFoundError(f"{what}: {location} is a folder, not a file") from None
    except OSError as exc:
        raise _store_error(f"read {what} at", str(location), exc) from None


def read_text(location: str | Path, what: str = "artifact") -> str:
    """A small UTF-8 text artifact.

    Raises:
        InputNotFoundError: nothing at ``location``.
        UnreadableFileError: it is not UTF-8 text.
    """
    data = read_bytes(location, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"{what}: {location} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def read_json(location: str | Path, what: str = "artifact") -> Any:
    """A JSON artifact, with a clear error naming ``what`` when it is missing or not JSON."""
    text = read_text(location, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFileError(f"{what}: {location} is not valid JSON ({exc})") from None


def read_pointer(location: str | Path, what: str) -> str:
    """The name a pointer file such as ``LATEST`` holds (one line of text).

    Raises:
        InputNotFoundError: no file at ``location``.
        UnreadableFileError: the file is not UTF-8 text or not one non-empty line.
    """
    name = read_text(location, what).strip()
    if not name or "\n" in name:
        raise UnreadableFileError(f"{what}: {location} should hold one name on one line, got {name[:80]!r}")
    return name


def write_latest(folder: str | Path, name: str) -> None:
    """Point ``<folder>/LATEST`` at ``name``: call it once every file of that version is written."""
    write_text(join(folder, LATEST), name + "\n")


def read_latest(folder: str | Path, what: str) -> str:
    """The name ``<folder>/LATEST`` holds.

    Raises:
        InputNotFoundError: no ``LATEST`` in ``folder``.
    """
    return read_pointer(join(folder, LATEST), what)


def is_file(location: str | Path) -> bool:
    """Whether a file (an object) is at ``location``."""
    filesystem, path = resolve(location)
    try:
        return filesystem.get_file_info(path).type == pafs.FileType.File
    except OSError as exc:
        raise _store_error("look at", str(location), exc) from None


def list_names(folder: str | Path, suffix: str = "") -> list[str]:
    """The sorted names of the files directly in ``folder`` that end with ``suffix`` (none when no folder)."""
    return [name for name, _ in list_files(folder, suffix)]


_LIST_ATTEMPTS = 5


def list_files(folder: str | Path, suffix: str = "") -> list[tuple[str, dt.datetime | None]]:
    """``(name, modified)`` of the files directly in ``folder`` ending with ``suffix``, sorted by name.

    ``modified`` is the store's time of the last write (UTC), None where the store does not say.
    """
    filesystem, path = resolve(folder)
    selector = pafs.FileSelector(path, allow_not_found=True)
    for attempt in range(_LIST_ATTEMPTS):
        try:
            infos = filesystem.get_file_info(selector)
            break
        except FileNotFoundError as exc:
            # Arrow's local listing fails when the folder appears between its failed read and its existence
            # check (another run writing the first claim of a lock): the folder is there now, so list again.
            if attempt == _LIST_ATTEMPTS - 1:
                raise _store_error("list", str(folder), exc) from None
        except OSError as exc:
            raise _store_error("list", str(folder), exc) from None
    files = [i for i in infos if i.type == pafs.FileType.File and i.base_name.endswith(suffix)]
    return sorted((i.base_name, _utc(i.mtime)) for i in files)


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def delete(location: str | Path) -> bool:
    """Delete the file at ``location``; False when there was none."""
    filesystem, path = resolve(location)
    try:
        filesystem.delete_file(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise _store_error("delete", str(location), exc) from None
    return True


def upload(local: Path, location: str | Path) -> None:
    """Copy the local file ``local`` to ``location``, whole or not at all."""
    write_bytes(location, local.read_bytes())


def download(location: str | Path, local: Path, what: str = "artifact") -> Path:
    """Copy the file at ``location`` to the local file ``local`` (whole: temporary name + rename)."""
    _write_local(local, read_bytes(location, what))
    return local


def check_store(location: str, what: str) -> None:
    """Fail now, before anything is written, when the store holding ``location`` cannot be used.

    Local paths always pass. For a bucket: it must exist and answer to the credentials in force.

    Raises:
        StoreError: naming ``what``, ``location`` and the cause (missing bucket, refused credentials, no answer).
    """
    if not is_uri(location) or location.startswith("file:"):
        return
    filesystem, path = resolve(location)
    bucket = path.split("/", 1)[0]
    try:
        if isinstance(filesystem, pafs.S3FileSystem):
            if filesystem.get_file_info(bucket).type == pafs.FileType.NotFound:
                raise StoreError(f"{what} {location}: the bucket {bucket!r} does not exist")
        filesystem.get_file_info(path)
    except StoreError:
        raise
    except OSError as exc:
        raise StoreError(f"{what} {location}: {s3a.redacted(str(exc), s3_settings())}") from None
