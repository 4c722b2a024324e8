"""Shared AWS plumbing: one place for clients, retries, timeouts, paging and error messages.

Every AWS collector goes through `AwsAccount.client`, `paginate` and `aws_errors`, so retry
policy, the user agent and the wording of failures recorded on observations stay uniform.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import structlog
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.parsers import ResponseParserError

import agent
from agent.config import AwsSettings
from agent.errors import CollectorError
from agent.redact import redact

log = structlog.get_logger()

DEFAULT_REGION = "us-east-1"
_ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
REPORT_TIMEOUT = 60.0
# Hosts of AWS's own endpoints; anything else is an override (a proxy, a test server).
_AWS_HOST = re.compile(r"\.(amazonaws\.com|amazonaws\.com\.cn|api\.aws|c2s\.ic\.gov|sc2s\.sgov\.gov)$")
_ACCOUNT_HOST_PREFIX = re.compile(r"^(https?://)\d{12}\.")


def client_config(settings: AwsSettings) -> Config:
    """Retry and timeout policy for every client, from `[aws]`.

    `max_attempts` counts every attempt, as AWS_MAX_ATTEMPTS does; botocore's own `max_attempts`
    key would count retries only (one more request than configured).
    """
    return Config(
        retries={"mode": settings.retry_mode, "total_max_attempts": settings.max_attempts},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        user_agent_extra=f"annexa/{agent.__version__}",
    )


def _one_line(text: str) -> str:
    """Error texts come from remote servers and proxies: mask anything secret-looking."""
    return " ".join(redact(text).split())


def _describe(exc: ClientError | BotoCoreError | ResponseParserError, service: str) -> str:
    """The one-line message recorded on the observation for a failed AWS call."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "Unknown")
        if code in _ACCESS_DENIED:
            return f"access denied: {service}:{exc.operation_name}"
        return _one_line(f"{code}: {error.get('Message') or exc.operation_name}")
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials found (standard credential chain)"
    if isinstance(exc, ResponseParserError):
        return f"{service}: unreadable response from the endpoint (HTTP error page?)"
    return _one_line(f"{type(exc).__name__}: {exc}")


@contextmanager
def aws_errors(service: str) -> Iterator[None]:
    """Turn SDK failures into `CollectorError` with a one-line message safe to store."""
    try:
        yield
    except (ClientError, BotoCoreError, ResponseParserError) as exc:
        message = _describe(exc, service)
        log.warning("aws.call_failed", service=service, error=message)
        raise CollectorError(message) from None


def iso(value: datetime | str | None) -> str | None:
    """Timestamps as ISO 8601 UTC strings, the form evidence stores them in (some APIs send strings)."""
    if value is None or isinstance(value, str):
        return value or None
    return value.astimezone(UTC).isoformat()


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "")


def call(client: Any, operation: str, absent: Collection[str] = (), **kwargs: Any) -> dict[str, Any] | None:
    """One API call; None when AWS answers with an `absent` code, i.e. "nothing is configured".

    Only the named codes mean absence: access denied and every other failure still raise.
    """
    with aws_errors(client.meta.service_model.signing_name):
        try:
            response: dict[str, Any] = getattr(client, operation)(**kwargs)
        except ClientError as exc:
            if error_code(exc) in absent:
                return None
            raise
    return response


def paginate(client: Any, operation: str, result_key: str, **kwargs: Any) -> Iterator[Any]:
    """Yield the items under `result_key` of every page, fetching pages only as they are consumed."""
    with aws_errors(client.meta.service_model.signing_name):
        for page in client.get_paginator(operation).paginate(**kwargs):
            yield from page.get(result_key, ())


def _strip_account_host_prefix(request: Any, **_: Any) -> None:
    """s3control puts the account id in front of the host, which only AWS's own DNS resolves."""
    request.url = _ACCOUNT_HOST_PREFIX.sub(r"\1", request.url)


def _endpoint_overridden(client: Any) -> bool:
    host = (client.meta.endpoint_url or "").split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return not _AWS_HOST.search(host)


@dataclass
class AwsAccount:
    """The target of scope kind `aws_account`: one account, reached through one boto3 session."""

    account_id: str
    partition: str
    session: boto3.Session
    settings: AwsSettings
    scope: str = field(init=False)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.scope = f"aws:{self.account_id}"

    @property
    def home_region(self) -> str:
        """Where account-wide (global) services are called: the first configured region, else the session's."""
        return (self.settings.regions or [None])[0] or self.session.region_name or DEFAULT_REGION

    def client(self, service: str, region: str | None = None) -> Any:
        """A cached client; created under a lock because boto3 sessions are not thread-safe."""
        region = region or self.home_region
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                client = self.session.client(service, region_name=region, config=client_config(self.settings))
                if service == "s3control" and _endpoint_overridden(client):
                    client.meta.events.register("before-send.s3-control", _strip_account_host_prefix)
                self._clients[key] = client
            return self._clients[key]

    def arn(self, service: str, region: str, resource: str) -> str:
        """An ARN in this account, for evidence about a setting rather than a listed resource."""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    def credential_report(self, timeout: float = REPORT_TIMEOUT) -> Iterator[dict[str, str]]:
        """Generate the IAM credential report, wait until it is ready, and yield its CSV rows."""
        iam = self.client("iam")
        deadline = time.monotonic() + timeout
        delay = 0.25
        with aws_errors("iam"):
            while iam.generate_credential_report()["State"] != "COMPLETE":
                if time.monotonic() + delay > deadline:
                    raise CollectorError(f"credential report not ready after {timeout:g} s")
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
            content = iam.get_credential_report()["Content"]
        yield from csv.DictReader(io.StringIO(content.decode("utf-8")))


@dataclass
class AwsRegion:
    """The target of scope kind `aws_region`: one region of one account, sharing the account's session.

    `failure` is set when the account's regions could not be listed: every collector of the
    target then fails with it, so regional checks report `error` for the account instead of
    silently covering no region.
    """

    account: AwsAccount
    region: str
    failure: str | None = None
    scope: str = field(init=False)

    def __post_init__(self) -> None:
        base = self.account.scope
        self.scope = f"{base}:{self.region}" if self.region else base

    @property
    def account_id(self) -> str:
        return self.account.account_id

    def client(self, service: str) -> Any:
        if self.failure is not None:
            raise CollectorError(self.failure)
        return self.account.client(service, self.region)

    def arn(self, service: str, resource: str) -> str:
        return self.account.arn(service, self.region, resource)
