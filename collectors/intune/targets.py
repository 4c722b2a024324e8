"""The Intune tenant to collect from: `[entra]`'s tenant, signed in to with `[entra]`'s credentials."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import ValidationError

from agent.errors import CollectorError
from agent.plugin import scope_kind
from collectors.entra.settings import EntraSettings
from collectors.entra.targets import EntraTenant
from collectors.intune.settings import IntuneSettings

NO_TENANT = "[intune] signs in with [entra]: set [entra] tenant_id and its credentials"


@dataclass(frozen=True)
class IntuneTenant(EntraTenant):
    """The target of scope kind `intune_tenant`: Entra's tenant (and its `graph()`), under Intune's scope."""

    @property
    def scope(self) -> str:
        return f"intune:{self.tenant_id}"


def _signing_in(entra: EntraSettings) -> EntraSettings:
    """`[entra]` as Intune signs in with it. Collecting Entra itself may be off (`enabled = false`),
    in which case its credentials were never validated: validate them here, as if it were on."""
    if entra.enabled:
        return entra
    try:
        return EntraSettings.model_validate({**entra.model_dump(), "enabled": True})
    except ValidationError as exc:
        detail = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise CollectorError(f"[intune] signs in with [entra]: {detail}") from None


@scope_kind("intune_tenant", system="intune", uses=("entra",))
def intune_tenants(intune: IntuneSettings, entra: EntraSettings) -> Iterator[IntuneTenant]:
    """The tenant `[entra] tenant_id` names; without one there is nothing to sign in to."""
    if not isinstance(entra, EntraSettings) or not entra.tenant_id:
        raise CollectorError(NO_TENANT)
    yield IntuneTenant(entra.tenant_id, _signing_in(entra))
