"""Benchmark: `annexa collect` over an AWS Organization of 3 accounts x 3 regions.

Seeds moto (in this process, through its backends: the HTTP API manages ~100 calls/s) with, in
total, >= 5,000 IAM users, >= 1,000 buckets, >= 3,000 security groups and >= 2,000 volumes, then
prints from one run:
  - collect wall time / the same calls made sequentially by a plain boto3 script (target <= 0.5),
    with every moto answer delayed by `--latency-ms` (20 ms: a network round trip to a cloud API;
    moto alone answers in microseconds, so without it the ratio measures this machine's CPU)
  - checks-only time: re-judging the stored evidence, no collection           (target <= 5 s)
  - peak RSS of `annexa collect`                                               (target <= 400 MB)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from agent.config.settings import load_settings
from agent.demo.setup import moto_endpoint
from agent.plugin.loader import load_plugins
from agent.run.runner import Runner
from agent.store import Store
from bench.measure import run_annexa

REGIONS = ("eu-west-1", "us-east-1", "eu-central-1")
ROLE, EXTERNAL_ID = "annexa-audit", "bench-external-id"
SERVICES = ("ec2", "kms", "rds", "config", "guardduty", "securityhub", "inspector2", "backup")


def _organization(endpoint: str) -> list[str]:
    org = boto3.client("organizations", endpoint_url=endpoint, region_name=REGIONS[0])
    org.create_organization(FeatureSet="ALL")
    members = [
        org.create_account(AccountName=f"m{n}", Email=f"m{n}@example.com")["CreateAccountStatus"]["AccountId"]
        for n in (1, 2)
    ]
    caller = boto3.client("sts", endpoint_url=endpoint, region_name=REGIONS[0]).get_caller_identity()[
        "Account"
    ]
    return [caller, *members]


def seed(endpoint: str, users: int, buckets: int, groups: int, volumes: int) -> list[str]:
    """Spread the totals evenly over the accounts (and regions) through moto's in-process backends."""
    from moto.ec2.models import ec2_backends
    from moto.iam.models import iam_backends
    from moto.s3.models import s3_backends

    accounts = _organization(endpoint)
    for n, acct in enumerate(accounts):
        iam = iam_backends[acct]["aws"]
        for i in range(-(-users // len(accounts))):
            name = f"user-{n}-{i:05d}"
            iam.create_user(REGIONS[0], name)
            if i % 3 == 0:
                iam.create_access_key(name)
        s3 = s3_backends[acct]["aws"]
        for i in range(-(-buckets // len(accounts))):
            s3.create_bucket(f"bench-{acct}-{i:05d}", REGIONS[i % len(REGIONS)])
        for region in REGIONS:
            ec2 = ec2_backends[acct][region]
            vpc = ec2.describe_vpcs()[0].id
            per_region = len(accounts) * len(REGIONS)
            for i in range(-(-groups // per_region)):
                ec2.create_security_group(f"sg-{i:05d}", "bench", vpc_id=vpc)
            for i in range(-(-volumes // per_region)):
                ec2.create_volume(8, f"{region}a", encrypted=i % 2 == 0)
    return accounts


def _session(endpoint: str, account: str, caller: str) -> boto3.Session:
    if account == caller:
        return boto3.Session(region_name=REGIONS[0])
    creds = boto3.client("sts", endpoint_url=endpoint, region_name=REGIONS[0]).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="bench", ExternalId=EXTERNAL_ID
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGIONS[0],
    )


def _pages(client: Any, operation: str, **kwargs: Any) -> list[dict[str, Any]]:
    return list(client.get_paginator(operation).paginate(**kwargs))


def _clients(session: boto3.Session, endpoint: str) -> Any:
    """Clients created once per service and region, as any sensible script would."""
    made: dict[tuple[str, str], Any] = {}

    def client(service: str, region: str = REGIONS[0]) -> Any:
        if (service, region) not in made:
            made[(service, region)] = session.client(
                service,
                endpoint_url=endpoint,
                region_name=region,
                config=Config(retries={"mode": "standard"}),
            )
        return made[(service, region)]

    return client


def _global_calls(c: Any, account: str) -> None:
    iam = c("iam")
    while iam.generate_credential_report()["State"] != "COMPLETE":
        time.sleep(0.25)
    iam.get_credential_report()
    iam.get_account_summary()
    with contextlib.suppress(iam.exceptions.NoSuchEntityException):
        iam.get_account_password_policy()
    for kind in ("User", "LocalManagedPolicy"):
        _pages(iam, "get_account_authorization_details", Filter=[kind])
    s3control = c("s3control")
    s3control.meta.events.register("before-send.s3-control", _local_host)
    with contextlib.suppress(s3control.exceptions.ClientError):
        s3control.get_public_access_block(AccountId=account)
    s3 = c("s3")
    for page in _pages(s3, "list_buckets"):
        for bucket in page["Buckets"]:
            name = bucket["Name"]
            location = s3.get_bucket_location(Bucket=name)["LocationConstraint"] or "us-east-1"
            regional = c("s3", location)
            for call in ("get_public_access_block", "get_bucket_policy_status", "get_bucket_encryption"):
                with contextlib.suppress(regional.exceptions.ClientError):
                    getattr(regional, call)(Bucket=name)
            for call in ("get_bucket_acl", "get_bucket_versioning", "get_bucket_logging"):
                getattr(regional, call)(Bucket=name)
    c("cloudtrail").describe_trails(includeShadowTrails=True)
    with contextlib.suppress(c("account").exceptions.ClientError):
        c("account").get_alternate_contact(AlternateContactType="SECURITY")


def _regional_calls(client: Any, region: str, account: str) -> None:
    def c(service: str) -> Any:
        return client(service, region)

    ec2 = c("ec2")
    for op in (
        "describe_security_groups",
        "describe_volumes",
        "describe_flow_logs",
        "describe_vpcs",
        "describe_instances",
    ):
        _pages(ec2, op)
    ec2.get_ebs_encryption_by_default()
    kms = c("kms")
    for page in _pages(kms, "list_keys"):
        for key in page["Keys"]:
            kms.describe_key(KeyId=key["KeyId"])
            kms.get_key_rotation_status(KeyId=key["KeyId"])
    _pages(c("rds"), "describe_db_instances")
    config = c("config")
    config.describe_configuration_recorders()
    config.describe_configuration_recorder_status()
    _pages(c("guardduty"), "list_detectors")
    hub = c("securityhub")
    with contextlib.suppress(hub.exceptions.ClientError):
        hub.describe_hub()
    c("inspector2").batch_get_account_status(accountIds=[account])
    backup = c("backup")
    _pages(backup, "list_backup_plans")
    _pages(backup, "list_backup_vaults")


def _local_host(request: Any, **_: Any) -> None:
    request.url = re.sub(r"//\d{12}\.", "//", request.url)


def sequential(endpoint: str, accounts: list[str]) -> float:
    """The collectors' calls, one after the other, as a plain boto3 script would make them."""
    started = time.perf_counter()
    for account in accounts:
        client = _clients(_session(endpoint, account, accounts[0]), endpoint)
        _global_calls(client, account)
        for region in REGIONS:
            _regional_calls(client, region, account)
    org = boto3.client("organizations", endpoint_url=endpoint, region_name=REGIONS[0])
    _pages(org, "list_accounts")
    for page in _pages(org, "list_policies", Filter="SERVICE_CONTROL_POLICY"):
        for policy in page["Policies"]:
            org.describe_policy(PolicyId=policy["Id"])
            _pages(org, "list_targets_for_policy", PolicyId=policy["Id"])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=5001)
    parser.add_argument("--buckets", type=int, default=1002)
    parser.add_argument("--security-groups", type=int, default=3006)
    parser.add_argument("--volumes", type=int, default=2007)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    os.environ.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)  # not needed here, and slow per account
    with tempfile.TemporaryDirectory() as tmp, moto_endpoint(args.latency_ms / 1000) as endpoint:
        os.environ.pop("MOTO_IAM_LOAD_MANAGED_POLICIES", None)
        t0 = time.perf_counter()
        accounts = seed(endpoint, args.users, args.buckets, args.security_groups, args.volumes)
        print(f"seeded {len(accounts)} accounts x {len(REGIONS)} regions in {time.perf_counter() - t0:.1f} s")
        config = Path(tmp) / "annexa.toml"
        config.write_text(
            f'[store]\nurl = "sqlite:///{Path(tmp) / "bench.db"}"\n'
            f'[aws]\nenabled = true\ndiscover_organization = true\nrole_name = "{ROLE}"\n'
            f'external_id = "{EXTERNAL_ID}"\nregions = {json.dumps(list(REGIONS))}\n'
        )
        collect_s, rss, summary = run_annexa(["collect", "--json", "--config", str(config)])
        observations = summary["observations"]
        sequential_s = sequential(endpoint, accounts)
        settings, _ = load_settings(config)
        runner = Runner(Store(settings.store.url), settings, load_plugins())
        t0 = time.perf_counter()
        checked = runner.check()
        checks_s = time.perf_counter() - t0

    print(f"observations:             {observations} (run {summary['run']['status']})")
    print(
        f"annexa collect:           {collect_s:8.2f} s (whole command: start-up, collection, checks, store)"
    )
    print(
        f"sequential plain boto3:   {sequential_s:8.2f} s (each call answered after {args.latency_ms:g} ms)"
    )
    print(f"ratio collect/sequential: {collect_s / sequential_s:8.3f}   (target <= 0.5)")
    print(
        f"checks only:              {checks_s:8.2f} s for {len(checked.outcomes)} check x scope evaluations (target <= 5 s)"
    )
    print(f"peak RSS of collect:      {rss / 1e6:8.1f} MB (target <= 400 MB)")


if __name__ == "__main__":
    main()
