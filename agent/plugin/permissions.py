"""The permission set each source system needs, generated from what its collectors declare.

    python -m agent.plugin.permissions entra > deploy/entra/graph-permissions.json
    python -m agent.plugin.permissions gcp > deploy/gcp/annexa-role.yaml
    python -m agent.plugin.permissions hr       # any system without a document: one permission per line

A system's set is what its `@collector(permissions=...)` and `@scope_kind(permissions=...)`
declare; a system may register how the set is rendered (a role, a manifest) with
`@permissions_document`. The files in deploy/ are regenerated and compared by a test, so they
cannot drift from the code.
"""

from __future__ import annotations

import argparse
import sys

from agent.errors import PluginError
from agent.plugin.loader import load_plugins
from agent.plugin.registry import Registry


def declared(registry: Registry, system: str) -> list[str]:
    """Every permission the system's collectors and target resolvers declare, sorted."""
    wanted = {p for spec in registry.collectors.values() if spec.system == system for p in spec.permissions}
    wanted.update(
        p for kind in registry.scope_kinds.values() if kind.system == system for p in kind.permissions
    )
    if not wanted:
        raise PluginError(f"no collector of system {system!r} declares a permission")
    return sorted(wanted)


def render(registry: Registry, system: str) -> str:
    """The system's own document if it registered one, else one permission per line."""
    permissions = declared(registry, system)
    document = registry.permission_documents.get(system)
    return document(permissions) if document else "".join(f"{p}\n" for p in permissions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the permissions a source system needs.")
    parser.add_argument("system", help="a system's name, as its config section is named")
    args = parser.parse_args(argv)
    try:
        text = render(load_plugins(systems=[args.system]), args.system)
    except PluginError as exc:
        sys.stderr.write(f"agent.plugin.permissions: {exc}\n")
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
