"""`[notify.webhook]`."""

from __future__ import annotations

from typing import ClassVar

from pydantic import field_validator

from agent.integrations.settings import ChannelSettings


class WebhookSettings(ChannelSettings):
    """POSTs each message as JSON to `url`, signed with the key in `secret_env` (or `secret_file`)."""

    implementation: ClassVar[str] = "integrations.webhook.channel:send"

    url: str = ""
    secret_env: str = ""
    secret_file: str = ""

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if url and not url.startswith(("https://", "http://")):
            raise ValueError("expected an http(s):// URL")
        return url
