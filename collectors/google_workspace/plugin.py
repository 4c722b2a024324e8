"""Google Workspace: importing this module (the `annexa.collectors` entry point) declares the system's
target resolvers and collectors."""

from __future__ import annotations

from collectors.google_workspace import permissions, roles, targets, users

__all__ = ["permissions", "roles", "targets", "users"]
