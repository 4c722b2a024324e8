"""`[google_workspace]`: which customer (or domain) to list and how the agent authenticates.

Credentials are named, never written: a service-account key file with domain-wide delegation
(`credentials_file`) and the administrator it acts as (`admin_email`), or an OAuth access token in
the environment variable `access_token_env`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from agent.plugin import SystemSettings, resolve_secret

CUSTOMER = r"^(my_customer|C[0-9A-Za-z]{4,})$"  # the alias for the admin's own customer, or its id
DOMAIN = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class GoogleWorkspaceSettings(SystemSettings):
    customer_id: str = Field("my_customer", pattern=CUSTOMER)
    domain: str = Field("", pattern=f"^$|{DOMAIN}")  # list this domain's users only, not the customer's
    credentials_file: str = ""  # a service-account key (JSON) with domain-wide delegation
    admin_email: str = Field("", pattern=f"^$|{EMAIL}")  # the administrator the service account acts as
    access_token_env: str = ""
    api_endpoint: str = Field("", pattern=r"^(https?://\S+)?$")  # a proxy or a local server
    max_attempts: int = Field(6, ge=1, le=20)
    initial_backoff: float = Field(1.0, gt=0, le=60)  # seconds; doubled per attempt, up to 32
    timeout: float = Field(60, gt=0, le=600)

    @model_validator(mode="after")
    def _credentials(self) -> GoogleWorkspaceSettings:
        if not self.enabled:
            return self
        if self.credentials_file and self.access_token_env:
            raise ValueError("credentials_file: set credentials_file or access_token_env, not both")
        if self.access_token_env:
            resolve_secret(env=self.access_token_env, what="Google access token", key="access_token_env")
        elif self.credentials_file:
            if not self.admin_email:
                raise ValueError("admin_email: required with credentials_file (the administrator to act as)")
            if not Path(self.credentials_file).is_file():
                raise ValueError(f"credentials_file: {self.credentials_file} is not a readable file")
        else:
            raise ValueError(
                "credentials_file: no credentials: set credentials_file and admin_email "
                "(a service account with domain-wide delegation), or access_token_env"
            )
        return self
