"""`[jira]`."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import field_validator, model_validator

from agent.config.sections import BaseUrl
from agent.integrations.settings import TrackerSettings
from agent.plugin.model import Severity


class JiraSettings(TrackerSettings):
    """Cloud signs in with `email` and the API token in `api_token_env` (or `api_token_file`); Data
    Center with the personal access token in `token_env` (or `token_file`). Closing an NC applies
    `close_transition` when set (e.g. "Done") and the issue offers it, else comments on the issue.
    `priorities` maps a severity to a priority name of the project (unmapped: the project's
    default); `ca_file` trusts a private CA."""

    implementation: ClassVar[str] = "integrations.jira.tracker:JiraTracker"

    url: BaseUrl = ""
    deployment: Literal["cloud", "datacenter"] = "cloud"
    email: str = ""
    api_token_env: str = ""
    api_token_file: str = ""
    token_env: str = ""
    token_file: str = ""
    project: str = ""
    issue_type: str = "Task"
    close_transition: str = ""
    labels: list[str] = ["annexa", "iso27001"]
    priorities: dict[Severity, str] = {}
    ca_file: str = ""

    @field_validator("labels")
    @classmethod
    def _no_spaces(cls, labels: list[str]) -> list[str]:
        if any(not label or any(c.isspace() for c in label) for label in labels):
            raise ValueError("a Jira label is one word without spaces")
        return labels

    @model_validator(mode="after")
    def _complete(self) -> JiraSettings:
        """An enabled section names where, which project and whose credentials (fail closed at start)."""
        if not self.enabled:
            return self
        missing = [name for name in ("url", "project") if not getattr(self, name)]
        if self.deployment == "cloud" and not self.email:
            missing.append("email")
        if self.deployment == "cloud" and not (self.api_token_env or self.api_token_file):
            missing.append("api_token_env")
        if self.deployment == "datacenter" and not (self.token_env or self.token_file):
            missing.append("token_env")
        if missing:
            raise ValueError(f"[jira] is enabled but {', '.join(missing)} is not set")
        return self
