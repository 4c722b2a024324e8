"""HR: importing this module (the `annexa.collectors` entry point) declares the system's
target resolvers and collectors."""

from __future__ import annotations

from collectors.hr import employees, targets

__all__ = ["employees", "targets"]
