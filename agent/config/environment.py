"""`ANNEXA_<SECTION>__<KEY>=value`: configuration from the environment, over the file's.

A value for a list, a table or a whole section is JSON (`ANNEXA_AWS__REGIONS='["eu-west-1"]'`);
any other value is taken as written (`ANNEXA_SCHEDULE__INTERVAL=6h`) and validated like the
file's. Names are case-insensitive; variables that name no section (`ANNEXA_CONFIG`) are not
settings. Read here rather than through pydantic-settings, which costs every command's start-up
more than this whole module does.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from agent.config.messages import ENV_PREFIX
from agent.errors import ConfigError

_STRUCTURED = (list, dict, set, tuple, frozenset)


def _structured(annotation: Any) -> bool:
    """Whether a value of this type is written as JSON: a collection, a section, or an optional one."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _structured(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return any(_structured(a) for a in typing.get_args(annotation) if a is not type(None))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return (origin or annotation) in _STRUCTURED


def _field(model: type[BaseModel], path: list[str]) -> Any:
    """The annotation at `path` (None past the known keys: validation reports those)."""
    annotation: Any = model
    for key in path:
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        field = annotation.model_fields.get(key)
        if field is None:
            return None
        annotation = field.annotation
    return annotation


def overrides(model: type[BaseModel], environ: Mapping[str, str]) -> dict[str, Any]:
    """The nested tables the environment's `ANNEXA_` variables set, for `model`'s sections."""
    out: dict[str, Any] = {}
    for name, value in sorted(environ.items()):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        if path[0] not in model.model_fields or not all(path):
            continue
        if _structured(_field(model, path)):
            try:
                decoded: Any = json.loads(value)
            except ValueError:
                raise ConfigError(
                    f"environment variable {name}: not valid JSON for a list or table value"
                ) from None
        else:
            decoded = value
        table = out
        for key in path[:-1]:
            table = table.setdefault(key, {})
            if not isinstance(table, dict):
                raise ConfigError(f"environment variable {name}: {key} is set as a whole elsewhere")
        table[path[-1]] = decoded
    return out


def merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`, table by table (the environment over the file)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out
