"""Loading the configuration: the packaged ``resources/default.yaml`` + an environment file + ``--set`` overrides.

Every job loads its configuration once, through :func:`load_config`, into the frozen dataclasses of
:mod:`acq_spark.config.schema`. Unknown keys are errors that name the full dotted key, and values are
checked against the field's type (``Literal`` fields against their choices); the range rules are the
schema's (:mod:`acq_spark.config.rules`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml

from acq_spark.config.schema import Config
from acq_spark.errors import ConfigError
from acq_spark.resources import DEFAULT_CONFIG


def _is_mapping(hint: Any) -> bool:
    return hint in (Mapping, dict) or typing.get_origin(hint) in (Mapping, dict)


def _field_hint(cls: Any, name: str) -> Any:
    """The type of field ``name`` of the dataclass ``cls`` (``X | None`` read as ``X``), None if there is none."""
    if not dataclasses.is_dataclass(cls):
        return None
    hint = typing.get_type_hints(cls).get(name)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = args[0] if len(args) == 1 else hint
    return hint


def _dotted(mapping: Mapping[Any, Any], key: str, prefix: str = "") -> dict[str, Any]:
    """Nested mappings flattened to dotted keys: ``{"a": {"b": 1}}`` → ``{"a.b": 1}``."""
    flat: dict[str, Any] = {}
    for name, value in mapping.items():
        name = f"{prefix}{name}"
        for dotted, leaf in (_dotted(value, key, f"{name}.") if isinstance(value, Mapping) else {name: value}).items():
            if dotted in flat:
                raise ConfigError(f"{key}: '{dotted}' is given twice")
            flat[dotted] = leaf
    return flat


def _flatten_mappings(cls: Any, data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``data`` with the value of every Mapping-typed field of the schema ``cls`` flattened to dotted keys.

    Flattening each source before merging makes ``spark.conf: {spark: {sql: {x: 1}}}`` in one file
    and ``--set spark.conf.spark.sql.x=2`` the same key, so the later one wins.
    """
    flat = dict(data)
    for name, value in data.items():
        hint, key = _field_hint(cls, name), f"{prefix}.{name}" if prefix else name
        if isinstance(value, Mapping) and dataclasses.is_dataclass(hint):
            flat[name] = _flatten_mappings(hint, value, key)
        elif isinstance(value, Mapping) and _is_mapping(hint):
            flat[name] = _dotted(value, key)
    return flat


def _deep_merge(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Check ``value`` against the type ``hint`` and convert where YAML's type is looser."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{key}: invalid value {value!r}")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{key}: must be one of {list(args)}, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return tuple(_coerce(v, args[0], f"{key}[{i}]") for i, v in enumerate(value))
    if _is_mapping(hint):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return {k: str(v) for k, v in _dotted(value, key).items()}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _build(hint, value, key)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true/false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return str(value)
    if hint is dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError as exc:
            raise ConfigError(f"{key}: expected a date YYYY-MM-DD, got {value!r} ({exc})") from exc
    raise ConfigError(f"{key}: unsupported type {hint}")


def _build(cls: type, data: Any, prefix: str = "") -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{prefix or 'config'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        keys = ", ".join(f"{prefix}.{k}" if prefix else str(k) for k in unknown)
        raise ConfigError(f"unknown configuration key: {keys}")
    kwargs = {k: _coerce(v, hints[k], f"{prefix}.{k}" if prefix else k) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{prefix or 'config'}: {exc}") from exc


def parse_override(item: str, schema: type = Config) -> dict[str, Any]:
    """Turn ``a.b.c=value`` into ``{"a": {"b": {"c": value}}}``; the value is parsed as YAML.

    The key is read along the dataclasses of ``schema``: below a Mapping-typed field the rest
    of the key is one key of that mapping, so ``spark.conf.spark.executor.cores=4`` gives
    ``{"spark": {"conf": {"spark.executor.cores": 4}}}``.
    """
    if "=" not in item:
        raise ConfigError(f"--set expects dotted.key=value, got {item!r}")
    key, raw = item.split("=", 1)
    key = key.strip()
    parts = key.split(".")
    if not key or any(not part for part in parts):
        raise ConfigError(f"--set expects dotted.key=value, got {item!r}")
    cls: Any = schema
    for i, part in enumerate(parts[:-1]):
        cls = _field_hint(cls, part)
        if _is_mapping(cls):
            parts = [*parts[: i + 1], ".".join(parts[i + 1 :])]
            break
    value: Any = _parse_value(raw, key) if raw.strip() else None
    for part in reversed(parts):
        value = {part: value}
    return _flatten_mappings(schema, value)


class _DatesAsText(yaml.SafeLoader):
    """YAML's safe loader without implicit timestamps: ``2026-13-01`` stays text and the date field names its key."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _parse_value(raw: str, key: str) -> Any:
    """The YAML value of an override, or a ConfigError naming ``key``."""
    try:
        return yaml.load(raw, Loader=_DatesAsText)  # a SafeLoader (no timestamps)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{key}: not a YAML value: {raw!r} ({' '.join(str(exc).split())})") from exc


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> Config:
    """Load the packaged ``default.yaml``, then the file ``path`` (if any), then the ``--set`` overrides.

    Args:
        path: an environment file such as ``conf/local.yaml``; its keys override the defaults.
        overrides: ``dotted.key=value`` strings, applied last, in order.

    Returns:
        The frozen, type-checked :class:`Config`.

    Raises:
        ConfigError: an unknown key (named in full), a value of the wrong type, or a missing file.
    """
    data: dict[str, Any] = {}
    for source in (DEFAULT_CONFIG, path):
        if source is None:
            continue
        source = Path(source)
        if not source.is_file():
            raise ConfigError(f"configuration file not found: {source}")
        try:
            loaded = yaml.load(source.read_text(), Loader=_DatesAsText) or {}  # a SafeLoader (no timestamps)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{source}: not valid YAML: {' '.join(str(exc).split())}") from exc
        if not isinstance(loaded, Mapping):
            raise ConfigError(f"{source}: expected a mapping at the top level")
        data = _deep_merge(data, _flatten_mappings(Config, loaded))
    for item in overrides:
        data = _deep_merge(data, parse_override(item))
    return _build(Config, data)
