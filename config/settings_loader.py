"""Turn nested mappings (TOML + environment) into frozen, typed settings dataclasses.

Unknown keys and wrong types are refused with an error that names the dotted key. Each package
declares its own section as a frozen dataclass (validated in ``__post_init__``); this module only
converts.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from core.errors import ConfigurationError

T = TypeVar("T")


def build(cls: type[T], data: Mapping[str, Any], path: str) -> T:
    """Build dataclass ``cls`` from ``data``; ``path`` is the dotted prefix used in errors."""
    if not isinstance(data, Mapping):
        raise ConfigurationError(path, "must be a table")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigurationError(_join(path, unknown[0]), f"unknown setting (known: {', '.join(sorted(fields))})")
    values = {name: _convert(hints[name], value, _join(path, name)) for name, value in data.items()}
    try:
        return cls(**values)
    except ConfigurationError as exc:
        # Sections validate themselves with keys relative to where they sit; make them absolute.
        if path and exc.key != path and not exc.key.startswith(f"{path}."):
            raise ConfigurationError(_join(path, exc.key), exc.problem) from exc
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(path or cls.__name__, str(exc)) from exc


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _convert(hint: Any, value: Any, path: str) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        if value is None:
            return None
        errors = []
        for option in options:
            try:
                return _convert(option, value, path)
            except ConfigurationError as exc:
                errors.append(exc.problem)
        raise ConfigurationError(path, "; ".join(errors))
    if origin is typing.Literal:
        if value not in get_args(hint):
            raise ConfigurationError(path, f"must be one of {', '.join(map(repr, get_args(hint)))}")
        return value
    if dataclasses.is_dataclass(hint):
        return build(hint, value, path)  # type: ignore[arg-type]
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigurationError(path, "must be a list")
        (item,) = get_args(hint)[:1]
        return tuple(_convert(item, v, f"{path}[{i}]") for i, v in enumerate(value))
    if origin in (dict, Mapping):
        _, item = get_args(hint)
        if not isinstance(value, Mapping):
            raise ConfigurationError(path, "must be a table")
        return types.MappingProxyType({str(k): _convert(item, v, _join(path, str(k))) for k, v in value.items()})
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigurationError(path, "must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigurationError(path, "must be an integer")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigurationError(path, "must be a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigurationError(path, "must be a string")
        return value
    if hint is Any:
        return value
    raise ConfigurationError(path, f"unsupported setting type {hint!r}")


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
