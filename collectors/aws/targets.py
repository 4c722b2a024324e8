"""Which AWS accounts and regions to collect from.

Accounts come from `[aws] accounts` and/or Organizations discovery; each is reached through an
assumed read-only role. Regions come from `[aws] regions` or each account's enabled regions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.credentials import CredentialProvider, CredentialResolver, DeferredRefreshableCredentials

from agent.errors import CollectorError
from agent.logs import get_logger
from agent.plugin import scope_kind
from collectors.aws.models import core_session
from collectors.aws.organizations import LIST_ACCOUNTS
from collectors.aws.session import (
    DEFAULT_REGION,
    Api,
    AwsAccount,
    AwsRegion,
    aws_errors,
    client_config,
    permissions,
)
from collectors.aws.settings import AwsSettings

log = get_logger()

SESSION_NAME = "annexa"
REGION_LOOKUPS = 16
DESCRIBE_REGIONS = Api("describe_regions", "ec2:DescribeRegions")
# The agent's own calls: allowed by its identity's policy, not the audit role's.
GET_CALLER_IDENTITY = Api("get_caller_identity", "sts:GetCallerIdentity")
ASSUME_ROLE = Api("assume_role", "sts:AssumeRole")
# What resolving targets calls, beyond the collectors' own permissions.
TARGET_PERMISSIONS = tuple(permissions(LIST_ACCOUNTS, DESCRIBE_REGIONS))


class _AssumedRole(CredentialProvider):
    """Hands botocore credentials that renew themselves, so runs longer than a role session work."""

    METHOD = "assume-role"
    CANONICAL_NAME = "annexa-assume-role"

    def __init__(self, refresh: Callable[[], dict[str, Any]]) -> None:
        super().__init__()
        self._credentials = DeferredRefreshableCredentials(refresh_using=refresh, method=self.METHOD)

    def load(self) -> DeferredRefreshableCredentials:
        return self._credentials


def _role_refresher(sts: Any, role_arn: str, external_id: str) -> Callable[[], dict[str, Any]]:
    def refresh() -> dict[str, Any]:
        extra = {"ExternalId": external_id} if external_id else {}
        try:
            creds = ASSUME_ROLE(sts, RoleArn=role_arn, RoleSessionName=SESSION_NAME, **extra)
        except CollectorError as exc:
            raise CollectorError(f"cannot assume {role_arn}: {exc}") from None
        c = creds["Credentials"]
        return {
            "access_key": c["AccessKeyId"],
            "secret_key": c["SecretAccessKey"],
            "token": c["SessionToken"],
            "expiry_time": c["Expiration"].isoformat(),
        }

    return refresh


@dataclass(frozen=True)
class _Caller:
    session: boto3.Session
    sts: Any
    account_id: str
    partition: str


def _assumed_session(caller: _Caller, role_arn: str, settings: AwsSettings) -> boto3.Session:
    core = core_session()
    refresh = _role_refresher(caller.sts, role_arn, settings.external_id)
    core.register_component("credential_provider", CredentialResolver([_AssumedRole(refresh)]))
    return boto3.Session(botocore_session=core, region_name=caller.session.region_name)


def _caller(aws: AwsSettings) -> _Caller:
    with aws_errors("sts"):
        base = boto3.Session(botocore_session=core_session(aws.profile or None))
        sts = base.client("sts", region_name=base.region_name or DEFAULT_REGION, config=client_config(aws))
    arn = GET_CALLER_IDENTITY(sts)["Arn"]
    return _Caller(base, sts, arn.split(":")[4], arn.split(":")[1])


def _organization_accounts(caller: _Caller, aws: AwsSettings) -> list[str]:
    """ACTIVE member accounts of the caller's Organization (management or delegated admin account)."""
    org = caller.session.client("organizations", region_name=DEFAULT_REGION, config=client_config(aws))
    accounts = LIST_ACCOUNTS.pages(org)
    return [a["Id"] for a in accounts if (a.get("State") or a.get("Status")) == "ACTIVE"]


def _account_ids(caller: _Caller, aws: AwsSettings) -> list[str]:
    wanted = list(aws.accounts)
    if aws.discover_organization:
        wanted += _organization_accounts(caller, aws)
    excluded = set(aws.exclude_accounts)
    return [a for a in dict.fromkeys(wanted or [caller.account_id]) if a not in excluded]


def resolve_accounts(aws: AwsSettings) -> list[AwsAccount]:
    """The accounts to audit: `[aws] accounts` and/or the Organization's, minus `exclude_accounts`.

    The caller's own account is reached with the caller's credentials; every other one through
    `role_name` (with `external_id`), assumed lazily so one unreachable account fails alone.
    """
    caller = _caller(aws)
    ids = _account_ids(caller, aws)
    if any(a != caller.account_id for a in ids) and not aws.role_name:
        raise CollectorError(
            f"[aws] role_name is needed to reach accounts other than {caller.account_id} (the caller's)"
        )
    out = []
    for acct in ids:
        if acct == caller.account_id:
            log.info("aws.target", account=acct, via="credential chain")
            out.append(AwsAccount(acct, caller.partition, caller.session, aws))
            continue
        role_arn = f"arn:{caller.partition}:iam::{acct}:role/{aws.role_name}"
        log.info("aws.target", account=acct, via=role_arn)
        out.append(AwsAccount(acct, caller.partition, _assumed_session(caller, role_arn, aws), aws))
    return out


def _enabled_regions(account: AwsAccount) -> list[str]:
    """Regions the account can use: opted in, or needing no opt-in."""
    regions = DESCRIBE_REGIONS(account.client("ec2"), AllRegions=False)["Regions"]
    return sorted(r["RegionName"] for r in regions if r.get("OptInStatus") != "not-opted-in")


def _regions_of(account: AwsAccount) -> list[AwsRegion]:
    if account.settings.regions:
        return [AwsRegion(account, r) for r in dict.fromkeys(account.settings.regions)]
    try:
        return [AwsRegion(account, r) for r in _enabled_regions(account)]
    except CollectorError as exc:
        failure = f"cannot list the enabled regions of {account.account_id}: {exc}"
        log.warning("aws.regions_unknown", account=account.account_id, error=str(exc))
        return [AwsRegion(account, "", failure=failure)]


@scope_kind("aws_account", system="aws", permissions=TARGET_PERMISSIONS)
def aws_accounts(settings: AwsSettings) -> Iterator[AwsAccount]:
    """Every account, once: where global services (IAM, S3, CloudTrail's trail list) are collected."""
    yield from resolve_accounts(settings)


@scope_kind("aws_region", system="aws", permissions=TARGET_PERMISSIONS)
def aws_regions(settings: AwsSettings) -> Iterator[AwsRegion]:
    """Every account x region: `[aws] regions`, else each account's enabled regions.

    Listing regions is one call per account, made concurrently so target resolution stays
    short for large Organizations; an account whose regions cannot be listed yields one
    failing target, so its regional evidence is `error` and never silently empty.
    """
    accounts = resolve_accounts(settings)
    if not accounts:
        return
    with ThreadPoolExecutor(max_workers=min(REGION_LOOKUPS, len(accounts))) as pool:
        for regions in pool.map(_regions_of, accounts):
            yield from regions


@scope_kind("aws_organization", system="aws", permissions=TARGET_PERMISSIONS)
def aws_organization(settings: AwsSettings) -> Iterator[AwsAccount]:
    """The caller's account, from which the Organization (accounts, SCPs) is read once."""
    caller = _caller(settings)
    yield AwsAccount(caller.account_id, caller.partition, caller.session, settings)
