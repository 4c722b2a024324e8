"""collectors/aws/models.py's trimming keeps every declared call exactly as botocore's full model
describes it: a member lost from an answer's shape would vanish from the evidence unnoticed (a
missing flag reads as off), so the trimmed shapes are compared with the full ones, in depth."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from botocore import xform_name
from botocore.loaders import Loader
from botocore.model import ServiceModel, Shape

from collectors.aws import models

COLLECTORS = Path(models.__file__).parent


def _services() -> list[str]:
    """Every service some collector makes a client for (`.client("<service>"`, `.listing("<service>"`);
    the test's last assertion fails if this misses one."""
    found: set[str] = set()
    for path in COLLECTORS.glob("*.py"):
        found.update(re.findall(r'\.(?:client|listing)\(\s*"([a-z0-9-]+)"', path.read_text()))
    return sorted(found)


def _described(shape: Shape | None, seen: frozenset[str] = frozenset()) -> Any:
    """A shape as the parser and serializer use it: type, wire names and members, all the way down."""
    if shape is None:
        return None
    if shape.name in seen:  # a recursive shape: its first appearance describes it
        return shape.name
    seen = seen | {shape.name}
    parts: dict[str, Any] = {
        "name": shape.name,
        "type": shape.type_name,
        "serialization": shape.serialization,
        "metadata": {k: v for k, v in shape.metadata.items() if k != "documentation"},
    }
    if shape.type_name == "structure":
        members = shape.members
        parts["members"] = {name: _described(member, seen) for name, member in members.items()}
    elif shape.type_name == "list":
        parts["member"] = _described(shape.member, seen)
    elif shape.type_name == "map":
        parts["key"] = _described(shape.key, seen)
        parts["value"] = _described(shape.value, seen)
    return parts


def test_trimmed_models_describe_every_declared_call_as_the_full_models_do() -> None:
    declared = models.declared_methods()
    loader = Loader()  # botocore's own, untrimmed
    kept: set[str] = set()
    for service in _services():
        full_description = loader.load_service_model(service, "service-2")
        trimmed_description = copy.deepcopy(full_description)
        models.trim(trimmed_description, declared)
        full, trimmed = ServiceModel(full_description, service), ServiceModel(trimmed_description, service)
        for name in trimmed.operation_names:
            ours, theirs = trimmed.operation_model(name), full.operation_model(name)
            kept.add(xform_name(name))
            assert _described(ours.input_shape) == _described(theirs.input_shape), (service, name)
            assert _described(ours.output_shape) == _described(theirs.output_shape), (service, name)
            assert [_described(e) for e in ours.error_shapes] == [_described(e) for e in theirs.error_shapes]
            assert ours.http == theirs.http and ours.metadata == theirs.metadata, (service, name)
        dropped = set(full.operation_names) - set(trimmed.operation_names)
        assert not {xform_name(n) for n in dropped} & declared, service
    assert declared <= kept  # every declared call belongs to a service read here
