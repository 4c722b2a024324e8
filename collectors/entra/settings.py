"""`[entra]`: the tenant and how the agent authenticates to Microsoft Graph."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from agent.plugin import SystemSettings, resolve_secret


class EntraSettings(SystemSettings):
    tenant_id: str = ""
    client_id: str = ""
    client_secret_env: str = ""
    client_secret_file: str = ""
    certificate_path: str = ""
    managed_identity: bool = False
    workload_identity: bool = False
    access_token_env: str = ""
    graph_url: str = "https://graph.microsoft.com"
    max_attempts: int = Field(5, ge=1, le=10)
    max_retry_wait: float = Field(60, gt=0, le=600)
    timeout: float = Field(60, gt=0)

    @model_validator(mode="after")
    def _credentials(self) -> EntraSettings:
        if not self.enabled:
            return self
        if not self.tenant_id:
            raise ValueError("tenant_id: required when [entra] is enabled")
        needs_client = self.client_secret_env or self.client_secret_file or self.certificate_path
        if needs_client and not self.access_token_env and not self.client_id:
            raise ValueError("client_id: required with a client secret or certificate")
        if self.access_token_env:
            resolve_secret(env=self.access_token_env, what="Graph access token", key="access_token_env")
        elif self.client_secret_env or self.client_secret_file:
            resolve_secret(
                env=self.client_secret_env,
                file=self.client_secret_file,
                what="client secret",
                key="client_secret_env",
            )
        elif self.certificate_path:
            if not Path(self.certificate_path).is_file():
                raise ValueError(f"certificate_path: {self.certificate_path} is not a readable file")
        elif not (self.managed_identity or self.workload_identity):
            raise ValueError(
                "no credentials: set client_secret_env, client_secret_file, certificate_path, "
                "managed_identity, workload_identity or access_token_env"
            )
        return self
