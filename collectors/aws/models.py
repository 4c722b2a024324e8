"""botocore sessions whose service models hold only the calls Annexa declares.

Once a client exists botocore keeps its service's whole API description in memory: for the ~35
services Annexa reads that is ~100 MB, nearly all of it operations Annexa never calls (EC2 alone
has ~700) and their documentation. When a model is loaded, the operations no `Api` names, the
shapes only they reach and every documentation string are dropped in place; and one loader serves
every session of the process, so each model is read once however many accounts and targets ask.

Which operations to keep is every `Api` made by the package's modules, all imported first, so the
import order of collectors cannot leave a model without a call some collector makes later; a call
made without an `Api` fails (AttributeError) as it would fail for want of the policy's permission.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from functools import cache
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.loaders import JSONFileLoader, Loader

_TRIMMED = "annexaTrimmed"  # set on a model once trimmed: the loader hands the same dict to every session
_lock = threading.Lock()


class _PlainJsonFileLoader(JSONFileLoader):
    """Models read into plain dicts: botocore's OrderedDicts (a leftover of Pythons whose dicts were
    unordered) make EC2's model parse ~3x slower and half as large again."""

    def _load_file(self, full_path: str, open_method: Any) -> Any:
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as fp:
            return json.loads(fp.read())


class _TrimmingLoader(Loader):
    """botocore's loader, whose service models (cached by the base class, trimmed here in place)
    keep only the declared operations."""

    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        model = super().load_service_model(service_name, type_name, api_version)
        if type_name == "service-2":
            with _lock:
                if not model.get(_TRIMMED):
                    trim(model, declared_methods())
                    model[_TRIMMED] = True
        return model


def core_session(profile: str | None = None) -> botocore.session.Session:
    """A botocore session on the process's shared, trimming loader."""
    core = botocore.session.Session(profile=profile)
    core.register_component("data_loader", _loader(core.get_config_variable("data_path")))
    return core


@cache
def _loader(data_path: str | None) -> Loader:
    """One per process (per AWS_DATA_PATH, which names where else models may be found)."""
    extra = (
        [os.path.expanduser(os.path.expandvars(p)) for p in data_path.split(os.pathsep)]
        if data_path
        else None
    )
    return _TrimmingLoader(extra_search_paths=extra, file_loader=_PlainJsonFileLoader())


@cache
def declared_methods() -> frozenset[str]:
    """The client method of every `Api` in collectors/aws (whose modules are all imported here)."""
    import collectors.aws.plugin  # noqa: F401  (imports every collector module)
    from collectors.aws.session import DECLARED_METHODS

    return frozenset(DECLARED_METHODS)


def trim(model: dict[str, Any], methods: frozenset[str]) -> None:
    """Keep the operations whose client method is in `methods` and the shapes they reach; drop docs."""
    operations: dict[str, Any] = model["operations"]
    for name in [n for n in operations if xform_name(n) not in methods]:
        del operations[name]
    shapes: dict[str, Any] = model["shapes"]
    reached = _reached(shapes, (ref for op in operations.values() for ref in _operation_refs(op)))
    for name in [n for n in shapes if n not in reached]:
        del shapes[name]
    model.pop("documentation", None)
    for part in (*operations.values(), *shapes.values()):
        part.pop("documentation", None)
        for member in (part.get("members") or {}).values():
            member.pop("documentation", None)


def _operation_refs(operation: dict[str, Any]) -> Iterator[str]:
    for key in ("input", "output"):
        if key in operation:
            yield operation[key]["shape"]
    for error in operation.get("errors", ()):
        yield error["shape"]


def _reached(shapes: dict[str, Any], roots: Iterator[str]) -> set[str]:
    """Every shape reachable from `roots` through members, list members and map keys and values."""
    reached: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        shape = shapes[name]
        refs = [
            *(shape.get("members") or {}).values(),
            *(shape[k] for k in ("member", "key", "value") if k in shape),
        ]
        todo.extend(ref["shape"] for ref in refs)
    return reached
