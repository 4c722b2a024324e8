"""Shared AWS plumbing: one place for clients, retries, timeouts, paging and the calls' errors.

Every AWS collector goes through `AwsAccount.client` and calls through an `Api` (or `paginate`,
`aws_errors`), so retry policy, the user agent and the reading of failures stay uniform; the
shapes of evidence most collectors yield (a record per listed resource, a region's list of
settings, AWS's own fields copied as they are) are built here once.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from botocore.parsers import ResponseParserError

import agent
from agent.errors import CollectorError
from agent.plugin.model import Record
from collectors.aws.settings import AwsSettings
from collectors.errors import Failure, adapter, by_type, translate

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


@adapter(ClientError)
def _client_error(exc: ClientError) -> Failure:
    """AWS says access denied by its error code, whatever the HTTP status (often 400)."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "Unknown")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    detail = str(error.get("Message") or exc.operation_name)
    return Failure("denied" if code in _ACCESS_DENIED else "refused", status, code, detail)


adapter(NoCredentialsError)(lambda exc: Failure("unauthenticated"))
adapter(ResponseParserError)(lambda exc: Failure("malformed"))  # an HTML error page, most likely
adapter(BotoCoreError)(by_type)  # some are ValueErrors too (InvalidRegionError), yet not a malformed answer


@contextmanager
def aws_errors(service: str) -> Iterator[None]:
    """Turn SDK failures into `CollectorError`, naming the call `service:Operation` where known."""
    try:
        yield
    except (ClientError, BotoCoreError, ResponseParserError) as exc:
        call = f"{service}:{exc.operation_name}" if isinstance(exc, ClientError) else service
        raise translate(exc, "aws", call) from None


def iso(value: datetime | str | None) -> str | None:
    """Timestamps as ISO 8601 UTC strings, the form evidence stores them in (some APIs send strings)."""
    if value is None or isinstance(value, str):
        return value or None
    return value.astimezone(UTC).isoformat()


def fields(answer: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """`keys` of an API answer as AWS sends them, None where absent: evidence keeps AWS's names."""
    return {key: answer.get(key) for key in keys}


def flags(answer: Mapping[str, Any], *keys: str) -> dict[str, bool]:
    """Yes/no `keys` of an API answer, an absent one read as no (AWS often leaves false ones out)."""
    return {key: bool(answer.get(key)) for key in keys}


def tags(answer: Mapping[str, Any], key: str = "Tags") -> dict[str, str]:
    """AWS's tag list (`[{"Key": k, "Value": v}]`, under `Tags` or RDS's `TagList`) as {key: value},
    sorted: the asset inventory reads owner and classification from it, `aws.tags.required` judges it.
    Only where the listing already returns them: fetching tags would cost a call per resource."""
    listed = sorted(answer.get(key) or [], key=lambda t: str(t["Key"]))
    return {str(t["Key"]): str(t.get("Value") or "") for t in listed}


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


# The method of every `Api` made: the operations collectors/aws/models.py keeps in service models.
DECLARED_METHODS: set[str] = set()


@dataclass(frozen=True)
class Api:
    """One AWS operation and the IAM action that allows it (not always the operation's name).

    Collectors call through these and declare `permissions(...)` of the same ones, so the
    least-privilege policy names exactly what the code calls.
    """

    method: str  # the boto3 client method
    action: str
    absent: tuple[str, ...] = ()  # error codes that mean "nothing is configured"
    items: str = ""  # the result key a listing yields from every page

    def __post_init__(self) -> None:
        DECLARED_METHODS.add(self.method)

    def __call__(self, client: Any, **kwargs: Any) -> Any:
        """The answer; None when AWS answers an `absent` code. Access denied and all else raise."""
        with aws_errors(client.meta.service_model.signing_name):
            try:
                return getattr(client, self.method)(**kwargs)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in self.absent:
                    return None
                raise

    def pages(self, client: Any, **kwargs: Any) -> Iterator[Any]:
        return paginate(client, self.method, self.items, **kwargs)

    def records(
        self,
        client: Any,
        resource_id: Callable[[Any], str],
        data: Callable[[Any], dict[str, Any]],
        **kwargs: Any,
    ) -> Iterator[Record]:
        """One record per listed resource: named by `resource_id(item)`, holding `data(item)`."""
        for item in self.pages(client, **kwargs):
            yield Record(resource_id=resource_id(item), data=data(item))


def permissions(*apis: Api) -> list[str]:
    """The IAM actions a collector making these calls declares, in order, once each."""
    return list(dict.fromkeys(api.action for api in apis))


GENERATE_CREDENTIAL_REPORT = Api("generate_credential_report", "iam:GenerateCredentialReport")
GET_CREDENTIAL_REPORT = Api("get_credential_report", "iam:GetCredentialReport")


@dataclass
class AwsAccount:
    """The target of scope kind `aws_account`: one account, reached through one boto3 session.

    It lives for one run (the runner resolves targets afresh each time), so what `once` and
    `once_pages` remember is remembered for that run only.
    """

    account_id: str
    partition: str
    session: boto3.Session
    settings: AwsSettings
    scope: str = field(init=False)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _answers: dict[tuple[str, ...], Future[Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self.scope = f"aws:{self.account_id}"

    @property
    def home_region(self) -> str:
        """Where account-wide (global) services are called: the first configured region, else the session's."""
        first = self.settings.regions[0] if self.settings.regions else None
        return first or self.session.region_name or DEFAULT_REGION

    def client(self, service: str, region: str | None = None) -> Any:
        """A cached client; created under a lock because boto3 sessions are not thread-safe.

        A client already made is returned without the lock (a dict read is atomic): otherwise every
        request of every worker would queue behind whichever client is being created, ~6 ms each."""
        region = region or self.home_region
        key = (service, region)
        made = self._clients.get(key)
        if made is not None:
            return made
        with self._lock:
            if key not in self._clients:
                # types-boto3 overloads Session.client on Literal service names; `service` is a runtime str.
                session = cast(Any, self.session)
                client = session.client(service, region_name=region, config=client_config(self.settings))
                if service == "s3control" and _endpoint_overridden(client):
                    client.meta.events.register("before-send.s3-control", _strip_account_host_prefix)
                self._clients[key] = client
            return self._clients[key]

    def once(self, api: Api, client: Any, **kwargs: Any) -> Any:
        """`api(client, **kwargs)`, sent once while this account lives: "list once per run" when
        several collectors of the account read the same thing (S3's buckets). The answer is shared,
        so callers must not change it; so is a failure, which every caller raises (fail closed)."""
        return self._once(client, api.method, kwargs, lambda: api(client, **kwargs))

    def once_pages(self, api: Api, client: Any, **kwargs: Any) -> list[Any]:
        """Every item `api.pages(client, **kwargs)` yields, listed once while this account lives."""
        items: list[Any] = self._once(
            client, f"{api.method}#pages", kwargs, lambda: list(api.pages(client, **kwargs))
        )
        return items

    def _once(self, client: Any, call: str, kwargs: dict[str, Any], read: Callable[[], Any]) -> Any:
        """`read()` for the first caller of (service, region, call, arguments); later and concurrent
        callers wait for its answer rather than send the same request again."""
        meta = client.meta
        args = json.dumps(kwargs, sort_keys=True, default=str)
        key = (meta.service_model.service_name, meta.region_name, call, args)
        with self._lock:
            first = key not in self._answers
            answer = self._answers.setdefault(key, Future())
        if first:
            try:
                answer.set_result(read())
            except BaseException as exc:  # waiters must never hang, whatever stopped the first caller
                answer.set_exception(exc)
        return answer.result()

    def arn(self, service: str, region: str, resource: str) -> str:
        """An ARN in this account, for evidence about a setting rather than a listed resource."""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    def credential_report(self, timeout: float = REPORT_TIMEOUT) -> Iterator[dict[str, str]]:
        """Generate the IAM credential report, wait until it is ready, and yield its CSV rows."""
        iam = self.client("iam")
        deadline = time.monotonic() + timeout
        delay = 0.25
        while GENERATE_CREDENTIAL_REPORT(iam)["State"] != "COMPLETE":
            if time.monotonic() + delay > deadline:
                raise CollectorError(f"credential report not ready after {timeout:g} s")
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        content = GET_CREDENTIAL_REPORT(iam)["Content"]
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

    def listing(
        self, service: str, resource: str, key: str, listed: Api, read: Callable[[Any, Any], dict[str, Any]]
    ) -> Record:
        """The region's one record of a setting that is a list (backup plans, detectors): every item
        `listed` pages through, as `read(client, item)` details it. An empty list is evidence too,
        of a region where nothing is set up, so the record is there either way.
        """
        client = self.client(service)
        items = [read(client, item) for item in listed.pages(client)]
        return Record(resource_id=self.arn(service, resource), data={key: items})
