"""The Entra ID tenant to collect from: one `[entra]` section, one tenant."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from agent.plugin import scope_kind
from collectors.entra.client import Graph
from collectors.entra.settings import EntraSettings


@dataclass(frozen=True)
class EntraTenant:
    """The target of scope kind `entra_tenant`; each collector run opens its own `Graph`."""

    tenant_id: str
    settings: EntraSettings = field(repr=False)

    @property
    def scope(self) -> str:
        return f"entra:{self.tenant_id}"

    @contextmanager
    def graph(self) -> Iterator[Graph]:
        """A Graph client bound to the calling thread, closed when the listing ends."""
        graph = Graph(self.settings)
        try:
            yield graph
        finally:
            graph.close()


@scope_kind("entra_tenant", system="entra")
def entra_tenants(settings: EntraSettings) -> Iterator[EntraTenant]:
    """The tenant named by `[entra] tenant_id`."""
    yield EntraTenant(settings.tenant_id, settings)
