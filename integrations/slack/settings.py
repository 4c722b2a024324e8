"""`[notify.slack]`."""

from __future__ import annotations

from typing import ClassVar

from agent.integrations.settings import ChannelSettings


class SlackSettings(ChannelSettings):
    """A bot token (`token_env`, scope chat:write) posting to `channel`, or an incoming webhook
    whose URL, itself a secret, is in `webhook_url_env`. `api_url` for proxies and tests."""

    implementation: ClassVar[str] = "integrations.slack.channel:send"

    token_env: str = ""
    channel: str = ""
    webhook_url_env: str = ""
    api_url: str = "https://slack.com/api/"
