"""`[github]`: which organisations to collect from and how the agent authenticates.

Credentials are named, never written: a GitHub App (`app_id`, `private_key_file`,
`installation_id`), or a fine-grained or classic token in the environment variable `token_env`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from agent.plugin import SystemSettings, resolve_secret

LOGIN = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$"


class GithubSettings(SystemSettings):
    organizations: list[Annotated[str, Field(pattern=LOGIN)]] = []
    # GitHub Enterprise Server: https://HOST/api/v3 (GraphQL is then HOST/api/graphql).
    api_url: str = Field("https://api.github.com", pattern=r"^https?://\S+$")
    token_env: str = ""
    app_id: str = Field("", pattern=r"^(\d+)?$")
    private_key_file: str = ""
    installation_id: str = Field("", pattern=r"^(\d+)?$")
    # Requests in flight per organisation, across every GitHub collector: GitHub asks clients to
    # avoid concurrent bursts (secondary rate limits), so this stays small.
    max_concurrency: int = Field(8, ge=1, le=20)
    max_attempts: int = Field(5, ge=1, le=10)
    # The longest wait for a Retry-After, a secondary limit or a primary limit's reset; a longer
    # one fails the call (the observation's error says so) rather than stalling the run.
    max_retry_wait: int = Field(60, ge=0, le=3600)  # seconds
    timeout: int = Field(30, ge=1, le=600)

    @model_validator(mode="after")
    def _required(self) -> GithubSettings:
        if not self.enabled:
            return self
        if not self.organizations:
            raise ValueError("organizations: required when [github] is enabled (organisation logins)")
        app = {
            "app_id": self.app_id,
            "private_key_file": self.private_key_file,
            "installation_id": self.installation_id,
        }
        if self.token_env:
            resolve_secret(env=self.token_env, what="GitHub token", key="token_env")
        elif any(app.values()):
            missing = next((key for key, value in app.items() if not value), None)
            if missing:
                raise ValueError(
                    f"{missing}: required with a GitHub App (app_id, private_key_file, installation_id)"
                )
            if not Path(self.private_key_file).is_file():
                raise ValueError(f"private_key_file: {self.private_key_file} is not a readable file")
        else:
            raise ValueError(
                "token_env: no credentials: set token_env, or a GitHub App's app_id, private_key_file "
                "and installation_id"
            )
        return self
