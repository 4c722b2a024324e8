"""Which AWS accounts to collect from: the caller's own, or each listed account through a role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.session
import structlog
from botocore.credentials import CredentialProvider, CredentialResolver, DeferredRefreshableCredentials

from agent.config import AwsSettings, Settings
from agent.errors import CollectorError
from agent.registry import scope_kind
from collectors.aws.session import DEFAULT_REGION, AwsAccount, aws_errors, client_config

log = structlog.get_logger()

SESSION_NAME = "annexa"


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
            with aws_errors("sts"):
                creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME, **extra)
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


def _assumed_session(base: boto3.Session, sts: Any, role_arn: str, settings: AwsSettings) -> boto3.Session:
    core = botocore.session.Session()
    refresh = _role_refresher(sts, role_arn, settings.external_id)
    core.register_component("credential_provider", CredentialResolver([_AssumedRole(refresh)]))
    return boto3.Session(botocore_session=core, region_name=base.region_name)


@scope_kind("aws_account", system="aws")
def aws_accounts(settings: Settings) -> Iterator[AwsAccount]:
    """The standard credential chain's account, or every `[aws] accounts` entry via `role_name`."""
    aws = settings.aws
    with aws_errors("sts"):
        base = boto3.Session(profile_name=aws.profile or None)
        sts = base.client("sts", region_name=base.region_name or DEFAULT_REGION, config=client_config(aws))
        caller = sts.get_caller_identity()
    account_id, partition = caller["Account"], caller["Arn"].split(":")[1]
    listed = list(dict.fromkeys(aws.accounts))
    if not listed or (listed == [account_id] and not aws.role_name):
        log.info("aws.target", account=account_id, via="credential chain")
        yield AwsAccount(account_id, partition, base, aws)
        return
    if not aws.role_name:
        raise CollectorError(
            f"[aws] role_name is needed to reach accounts other than {account_id} (the caller's)"
        )
    for acct in listed:
        role_arn = f"arn:{partition}:iam::{acct}:role/{aws.role_name}"
        log.info("aws.target", account=acct, via=role_arn)
        yield AwsAccount(acct, partition, _assumed_session(base, sts, role_arn, aws), aws)
