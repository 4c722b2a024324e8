"""What every page is rendered with: the configuration, the store, the registry and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from agent.config.settings import Settings
from agent.plugin.registry import Registry
from agent.store import Store
from agent.web.sealed import Sealed

if TYPE_CHECKING:
    from agent.web.oidc import Oidc


@dataclass
class Web:
    settings: Settings
    store: Store
    registry: Registry
    token: str | None  # the bootstrap admin token; None: sign-in by OIDC or proxy only
    clock: Callable[[], datetime]
    oidc: Oidc | None = None
    sealed: Sealed = field(default_factory=Sealed)
