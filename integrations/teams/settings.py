"""`[notify.teams]`."""

from __future__ import annotations

from typing import ClassVar

from agent.integrations.settings import ChannelSettings


class TeamsSettings(ChannelSettings):
    """The webhook URL, itself a secret, is in `webhook_url_env`."""

    implementation: ClassVar[str] = "integrations.teams.channel:send"

    webhook_url_env: str = ""
