"""Jira Cloud and Data Center through the `jira` package: the core's Tracker protocol.

The package's own retrying (sleeps of up to a minute on 429 and 503, jittered) is switched off with
`max_retries=0`: the core retries, with waits it records and Retry-After honoured. The client is
made at the first request (it reads serverInfo then, which tells the package which search API the
deployment has), inside the same error translation as every other call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from jira import JIRA
from pydantic import SecretStr

from agent.config.secrets import resolve_secret
from agent.integrations.settings import TrackerSettings
from agent.logs import get_logger
from agent.tickets.model import NcSummary, Note, Ticket, TicketStatus, TrackerError, TrackerUnavailable
from integrations.jira import wiki
from integrations.jira.errors import translated
from integrations.jira.settings import JiraSettings

log = get_logger()
T = TypeVar("T")
ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-[0-9]+$")
CLOUD_TYPES = {"Cloud"}


class JiraTracker:
    """One `[jira]` project. The token is resolved when the tracker is made (a missing one fails
    before any request) and stays a SecretStr until the client is."""

    def __init__(self, settings: TrackerSettings, timeout: float) -> None:
        if not isinstance(settings, JiraSettings):
            raise TypeError("JiraTracker needs the [jira] section")
        self.settings = settings
        self.timeout = timeout
        self._token = self._resolve()
        self._client: JIRA | None = None

    def _resolve(self) -> SecretStr:
        s = self.settings
        if s.deployment == "cloud":
            return resolve_secret(
                env=s.api_token_env, file=s.api_token_file, what="Jira API token", key="[jira] api_token_env"
            )
        return resolve_secret(
            env=s.token_env, file=s.token_file, what="Jira personal access token", key="[jira] token_env"
        )

    def _auth(self) -> dict[str, Any]:
        """Cloud: HTTP basic with the e-mail and API token; Data Center: the PAT as a bearer token."""
        token = self._token.get_secret_value()
        return (
            {"basic_auth": (self.settings.email, token)}
            if self.settings.deployment == "cloud"
            else {"token_auth": token}
        )

    def _connect(self) -> JIRA:
        client = JIRA(
            server=self.settings.url,
            options={"verify": self.settings.ca_file or True, "check_update": False},
            max_retries=0,
            timeout=self.timeout,
            logging=False,
            **self._auth(),
        )
        cloud = client.deploymentType in CLOUD_TYPES
        if cloud != (self.settings.deployment == "cloud"):
            log.warning(
                "jira_deployment_mismatch", configured=self.settings.deployment, server=client.deploymentType
            )
        return client

    def _call(self, what: str, call: Callable[[JIRA], T]) -> T:
        def attempt() -> T:
            if self._client is None:
                self._client = self._connect()
            return call(self._client)

        return translated(what, attempt)

    def open(self, nc: NcSummary) -> Ticket:
        """The NC's issue: the one already labelled with its ref if there is one (a create whose
        answer was lost, or a store write that failed after it), else a new one."""
        s = self.settings
        key = self._labelled(nc.ref) or self._create(nc)
        return Ticket(key, f"{s.url}/browse/{key}")

    def _labelled(self, ref: str) -> str | None:
        jql = f"project = {_quoted(self.settings.project)} AND labels = {_quoted(ref)} ORDER BY created ASC"
        found = self._call(
            "search issues",
            lambda j: j.search_issues(
                jql, maxResults=1, fields=["status"], validate_query=False, json_result=True
            ),
        )
        issues = found.get("issues", [])
        return str(issues[0]["key"]) if issues else None

    def _create(self, nc: NcSummary) -> str:
        s = self.settings
        fields: dict[str, Any] = {
            "project": {"key": s.project},
            "issuetype": {"name": s.issue_type},
            "summary": wiki.summary(nc),
            "description": wiki.description(nc),
            "labels": [*s.labels, nc.ref],
        }
        priority = {severity.value: name for severity, name in s.priorities.items()}.get(nc.severity)
        if priority:
            fields["priority"] = {"name": priority}
        issue = self._call("create an issue", lambda j: j.create_issue(fields=fields, prefetch=False))
        return str(issue.key)

    def comment(self, key: str, note: Note) -> None:
        self._call("add a comment", lambda j: j.add_comment(key, wiki.comment(note)))

    def close(self, key: str, note: Note) -> bool:
        name = self.settings.close_transition
        found = (
            self._call("list transitions", lambda j: j.find_transitionid_by_name(key, name)) if name else None
        )
        if found is None:
            if name:
                log.info("jira_transition_unavailable", key=key, transition=name)
            self.comment(key, note)
            return False
        body = wiki.comment(note)
        self._call("transition an issue", lambda j: j.transition_issue(key, str(found), comment=body))
        return True

    def status(self, keys: Sequence[str]) -> dict[str, TicketStatus]:
        """One JQL search for all `keys`; should Jira refuse it (a deleted issue makes some
        deployments reject the query), each issue is read on its own."""
        valid = [key for key in keys if ISSUE_KEY.match(key)]
        if not valid:
            return {}
        jql = f"key in ({', '.join(valid)})"
        try:
            found = self._call(
                "search issues",
                lambda j: j.search_issues(
                    jql, maxResults=len(valid), fields=["status"], validate_query=False, json_result=True
                ),
            )
        except TrackerUnavailable:
            raise
        except TrackerError:
            return {key: status for key in valid if (status := self._read(key)) is not None}
        return dict(_status(issue) for issue in found.get("issues", []))

    def _read(self, key: str) -> TicketStatus | None:
        """One issue's status; None when Jira refuses (gone, or no longer visible: its last known
        status stays)."""
        try:
            issue = self._call("read an issue", lambda j: j.issue(key, fields="status"))
        except TrackerUnavailable:
            raise
        except TrackerError:
            return None
        return _status(issue.raw)[1]


def _quoted(value: str) -> str:
    """A JQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _status(issue: dict[str, Any]) -> tuple[str, TicketStatus]:
    status = issue["fields"]["status"]
    return issue["key"], TicketStatus(status["name"], status.get("statusCategory", {}).get("key") == "done")
