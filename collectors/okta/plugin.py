"""Okta: importing this module (the `annexa.collectors` entry point) declares the system's
target resolvers and collectors."""

from __future__ import annotations

from collectors.okta import permissions, policies, roles, targets, users

__all__ = ["permissions", "policies", "roles", "targets", "users"]
