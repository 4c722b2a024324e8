"""Intune: importing this module (the `annexa.collectors` entry point) declares the system's
target resolvers and collectors."""

from __future__ import annotations

from collectors.intune import devices, permissions, policies, targets

__all__ = ["devices", "permissions", "policies", "targets"]
