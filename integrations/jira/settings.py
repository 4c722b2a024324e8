"""`[jira]`."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import field_validator

from agent.integrations.settings import TrackerSettings


class JiraSettings(TrackerSettings):
    """Cloud signs in with `email` and the API token in `api_token_env`; Data Center with the
    personal access token in `token_env`. Closing an NC applies `close_transition` when set
    (e.g. "Done"), else comments on the issue."""

    implementation: ClassVar[str] = "integrations.jira.tracker:JiraTracker"

    url: str = ""
    deployment: Literal["cloud", "datacenter"] = "cloud"
    email: str = ""
    api_token_env: str = ""
    token_env: str = ""
    project: str = ""
    issue_type: str = "Task"
    close_transition: str = ""
    labels: list[str] = ["annexa", "iso27001"]

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if url and not url.startswith(("https://", "http://")):
            raise ValueError("expected an http(s):// URL")
        return url.rstrip("/")
