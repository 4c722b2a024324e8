"""`[notify.webhook]`."""

from __future__ import annotations

from typing import ClassVar

from agent.config.sections import HttpUrl
from agent.integrations.settings import ChannelSettings


class WebhookSettings(ChannelSettings):
    """POSTs each message as JSON to `url`, signed with the key in `secret_env` (or `secret_file`)."""

    implementation: ClassVar[str] = "integrations.webhook.channel:send"

    url: HttpUrl = ""
    secret_env: str = ""
    secret_file: str = ""
