"""The evidence store: runs, observations, content-addressed evidence, results and nonconformities."""

from __future__ import annotations

from agent.store.db import Store

__all__ = ["Store"]
