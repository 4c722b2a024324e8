"""Entra ID collectors (msgraph-sdk); importing this package registers `entra_tenant` and its sources."""

from __future__ import annotations

from collectors.entra import auth_methods, conditional_access, directory_roles, targets, users

__all__ = ["auth_methods", "conditional_access", "directory_roles", "targets", "users"]
