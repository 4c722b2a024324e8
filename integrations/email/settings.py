"""`[notify.email]`."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from agent.integrations.settings import ChannelSettings


class EmailSettings(ChannelSettings):
    """Sends from `sender` to `recipients` through `host`; `username` with the password in
    `password_env` when the relay wants one."""

    implementation: ClassVar[str] = "integrations.email.channel:send"

    host: str = ""
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = ""
    password_env: str = ""
    sender: str = ""
    recipients: list[str] = []
