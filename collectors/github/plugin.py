"""GitHub: importing this module (the `annexa.collectors` entry point) declares the system's
target resolvers and collectors."""

from __future__ import annotations

from collectors.github import (
    code_scanning,
    collaborators,
    dependabot,
    deploy_keys,
    org,
    permissions,
    protection,
    security,
    targets,
)

__all__ = [
    "code_scanning",
    "collaborators",
    "dependabot",
    "deploy_keys",
    "org",
    "permissions",
    "protection",
    "security",
    "targets",
]
