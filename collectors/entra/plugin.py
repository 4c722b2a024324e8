"""Entra ID: importing this module (the `annexa.collectors` entry point) declares the system's
target resolvers and collectors."""

from __future__ import annotations

from collectors.entra import auth_methods, conditional_access, directory_roles, permissions, targets, users

__all__ = ["auth_methods", "conditional_access", "directory_roles", "permissions", "targets", "users"]
