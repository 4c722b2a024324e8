"""The settings an integration plugin extends, and the core's `[notify]` section."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field

from agent.config.durations import Delay, Duration
from agent.config.sections import Section


class EventKind(StrEnum):
    """What a notification is about: one message per run (or per person's action) and kind."""

    NC_OPENED = "nc_opened"
    NC_REGRESSED = "nc_regressed"
    NC_READY_FOR_VERIFICATION = "nc_ready_for_verification"
    NC_CLOSED = "nc_closed"
    RUN_FAILED = "run_failed"
    EVIDENCE_STALE = "evidence_stale"


class IntegrationSettings(Section):
    """A channel's `[notify.<name>]` or a tracker's `[<name>]` section. A plugin subclasses
    `ChannelSettings` or `TrackerSettings` and names its implementation, imported when used."""

    kind: ClassVar[Literal["channel", "tracker"]]
    implementation: ClassVar[str]  # "package.module:attribute"

    enabled: bool = False


class ChannelSettings(IntegrationSettings):
    kind: ClassVar[Literal["channel", "tracker"]] = "channel"
    events: list[EventKind] = list(EventKind)


class TrackerSettings(IntegrationSettings):
    kind: ClassVar[Literal["channel", "tracker"]] = "tracker"


class NotifySettings(Section):
    """`[notify]`: how every channel is retried; each channel's own table (`[notify.slack]`) is
    added by its plugin. A notification that fails after its attempts is logged and counted,
    and never fails the run it is about."""

    attempts: int = Field(4, ge=1, le=10)
    backoff: Delay = timedelta(seconds=2)  # before the second attempt, doubled before each next one
    max_backoff: Delay = timedelta(minutes=1)
    timeout: Duration = timedelta(seconds=10)  # one attempt

    def channels(self) -> dict[str, ChannelSettings]:
        """The enabled channels' sections, by channel name."""
        return {
            name: value
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), ChannelSettings) and value.enabled
        }
