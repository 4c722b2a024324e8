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

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import botocore
import botocore.session
from botocore import xform_name
from botocore.loaders import JSONFileLoader, Loader

_FORMAT = 1  # bump when `trim` keeps something else: names the on-disk cache
_lock = threading.Lock()


class _PlainJsonFileLoader(JSONFileLoader):
    """Models read into plain dicts: botocore's OrderedDicts (a leftover of Pythons whose dicts were
    unordered) make EC2's model parse ~3x slower and half as large again."""

    def _load_file(self, full_path: str, open_method: Any) -> Any:
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as fp:
            return json.loads(fp.read())


class TrimmingLoader(Loader):
    """botocore's loader, whose service models keep only the declared operations: trimmed in place
    (the base class caches the same dict) and kept on disk, so later processes skip the full parse."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._trimmed: dict[tuple[str, str], Any] = {}

    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        if type_name != "service-2":
            return super().load_service_model(service_name, type_name, api_version)
        version = api_version or self.determine_latest_version(service_name, type_name)
        with _lock:
            if (service_name, version) not in self._trimmed:
                self._trimmed[(service_name, version)] = self._load_trimmed(service_name, version)
            return self._trimmed[(service_name, version)]

    def _load_trimmed(self, service_name: str, version: str) -> Any:
        directory = cache_dir(tuple(self.search_paths))
        path = directory / f"{service_name}-{version}.json" if directory else None
        with contextlib.suppress(OSError, ValueError):
            kept = json.loads(path.read_bytes()) if path else None
            if isinstance(kept, dict) and {"metadata", "operations", "shapes"} <= kept.keys():
                return kept
        model = super().load_service_model(service_name, "service-2", version)
        trim(model, declared_methods())
        if path:
            with contextlib.suppress(OSError):
                _write_atomically(path, json.dumps(model).encode())
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
    return TrimmingLoader(extra_search_paths=extra, file_loader=_PlainJsonFileLoader())


@cache
def cache_dir(search_paths: tuple[str, ...]) -> Path | None:
    """Where trimmed models are kept: named by everything they depend on (botocore's version, where
    models are searched, the declared calls, this module's trimming), so none is ever stale. None
    without a home to keep them in: models are then trimmed afresh in every process.

    Trusting it is trusting the user's home, as botocore does: it reads ~/.aws/models first."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"))
    if not base.is_absolute():  # no HOME: "~" was left as it is
        return None
    key = json.dumps([botocore.__version__, _FORMAT, search_paths, sorted(declared_methods())])
    return base / "annexa" / "aws-models" / hashlib.sha256(key.encode()).hexdigest()[:32]


def _write_atomically(path: Path, content: bytes) -> None:
    """Readers see the whole file or none: agents starting together may write the same one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, name = tempfile.mkstemp(dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(content)
        os.replace(name, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


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
