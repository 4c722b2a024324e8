"""`[okta]`: which Okta org to collect from and how the agent authenticates.

Credentials are named, never written: an SSWS API token in the environment variable
`api_token_env`, or an OAuth 2.0 service app (`client_id` and the `private_key_file` it signs its
client assertions with, private_key_jwt). The service app is granted exactly the scopes the Okta
collectors declare (`python -m agent.plugin.permissions okta`).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from agent.plugin import SystemSettings, resolve_secret


def is_loopback(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1: the only hosts an org may be reached at over plain http."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def org_host(org_url: str) -> str:
    """The host of an org URL (`acme.okta.com`), without its port: the scope names it."""
    return (urlsplit(org_url).hostname or "").lower()


class OktaSettings(SystemSettings):
    org_url: str = ""  # https://acme.okta.com (not the -admin console URL)
    api_token_env: str = ""
    client_id: str = ""
    private_key_file: str = ""  # the service app's private key, PEM
    # Requests in flight per org, across every Okta collector: Okta limits concurrent requests per
    # org (429 with X-Rate-Limit-Limit: 0 past it), and an API token shares that limit with others.
    max_concurrency: int = Field(8, ge=1, le=50)
    max_attempts: int = Field(5, ge=1, le=10)
    # The longest wait for a rate limit's reset (or a 5xx back-off); a longer one fails the call
    # (the observation's error says so) rather than stalling the run.
    max_retry_wait: int = Field(60, ge=0, le=3600)  # seconds
    timeout: int = Field(30, ge=1, le=600)  # seconds, per request

    @model_validator(mode="after")
    def _required(self) -> OktaSettings:
        if not self.enabled:
            return self
        if not self.org_url:
            raise ValueError("org_url: required when [okta] is enabled (https://<your org>.okta.com)")
        self.org_url = self.org_url.rstrip("/")
        _check_org_url(self.org_url)
        service_app = {"client_id": self.client_id, "private_key_file": self.private_key_file}
        if self.api_token_env and any(service_app.values()):
            raise ValueError(
                "api_token_env: set either api_token_env or a service app's client_id and "
                "private_key_file, not both"
            )
        if self.api_token_env:
            resolve_secret(env=self.api_token_env, what="Okta API token", key="api_token_env")
        elif any(service_app.values()):
            missing = next((key for key, value in service_app.items() if not value), None)
            if missing:
                raise ValueError(f"{missing}: required with a service app (client_id, private_key_file)")
            resolve_secret(file=self.private_key_file, what="service app private key", key="private_key_file")
        else:
            raise ValueError(
                "api_token_env: no credentials: set api_token_env, or a service app's client_id "
                "and private_key_file"
            )
        return self


def _check_org_url(url: str) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError("org_url: not a URL such as https://acme.okta.com")
    if parts.scheme == "http" and not is_loopback(host):
        raise ValueError(f"org_url: must be https:// (plain http only for a loopback host, not {host})")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("org_url: the org's base URL only, such as https://acme.okta.com (no path)")
    if host.split(".")[0].endswith("-admin"):
        raise ValueError(f"org_url: {host} is the Admin Console; use the org URL (without -admin)")
