"""A simulated organisation seeded into a moto server, for `annexa demo`, end-to-end tests and benchmarks.

Moto stamps every creation "now", so the ages that make credential checks interesting (old keys,
dormant users) are written into moto's in-process backend objects: the server must run in this
process (moto's `ThreadedMotoServer`).
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

import boto3

from agent.logs import get_logger

if TYPE_CHECKING:
    from types_boto3_iam import IAMClient

log = get_logger()


class _Credentials(TypedDict):
    aws_access_key_id: str
    aws_secret_access_key: str


class _MfaCodes(TypedDict):
    AuthenticationCode1: str
    AuthenticationCode2: str


FAKE_CREDENTIALS: _Credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
REGION = "us-east-1"
ADMIN = "AdministratorAccess"
FULL_ACCESS = "legacy-full-access"
AWS_POLICY = "arn:aws:iam::aws:policy/{}"
MFA_CODES: _MfaCodes = {"AuthenticationCode1": "123456", "AuthenticationCode2": "654321"}


def _document(*statements: tuple[str | list[str], str]) -> str:
    stmts = [{"Effect": "Allow", "Action": action, "Resource": res} for action, res in statements]
    return json.dumps({"Version": "2012-10-17", "Statement": stmts})


CUSTOMER_POLICIES = {
    FULL_ACCESS: _document(("*", "*")),
    "finance-cost-explorer": _document((["ce:Get*", "ce:Describe*", "budgets:View*"], "*")),
    "ci-deploy": _document((["ecr:*", "ecs:UpdateService", "s3:PutObject"], "*")),
}
INLINE_POLICY = _document((["s3:GetObject", "s3:ListBucket"], "arn:aws:s3:::acme-analytics-exports*"))
# Group name -> (AWS managed or customer managed policy names attached to it).
GROUPS = {
    "administrators": (ADMIN,),
    "engineering": ("PowerUserAccess",),
    "finance": ("finance-cost-explorer",),
    "readonly": ("ReadOnlyAccess",),
    "ci": ("ci-deploy",),
}


@dataclass(frozen=True)
class DemoUser:
    """One seeded user. Ages are days before seeding: of the user, of its key, since the password
    (`pw_used`) or key was last used; None means never."""

    name: str
    group: str
    age: int
    console: bool = False
    mfa: bool = False
    pw_used: int | None = None
    key_age: int | None = None
    key_used: int | None = None
    direct: tuple[str, ...] = ()
    inline: bool = False


DEMO_USERS = (
    DemoUser("alice.nguyen", "administrators", 720, console=True, mfa=True, pw_used=1),
    DemoUser("ben.okafor", "engineering", 540, console=True, mfa=True, pw_used=2, key_age=30, key_used=1),
    DemoUser("carla.mendes", "engineering", 400, console=True, pw_used=3),
    DemoUser("david.kim", "finance", 365, console=True, pw_used=10),
    DemoUser("emma.schulz", "readonly", 600, console=True, mfa=True, pw_used=140),
    DemoUser("farid.haddad", "engineering", 300, console=True, mfa=True, pw_used=1, direct=(ADMIN,)),
    DemoUser("grace.liu", "engineering", 250, console=True, mfa=True, pw_used=5, inline=True),
    DemoUser("hiro.tanaka", "engineering", 200, console=True, mfa=True, pw_used=7, direct=(FULL_ACCESS,)),
    DemoUser("isabel.rossi", "finance", 20, console=True, mfa=True),
    DemoUser("finn.berg", "engineering", 500, key_age=60, key_used=10),  # left 30 days ago (demo/people.py)
    DemoUser("svc-ci-deploy", "ci", 500, key_age=30, key_used=0),
    DemoUser("svc-backup", "readonly", 800, key_age=200, key_used=2),
    DemoUser("svc-reporting", "readonly", 120, key_age=120),
)


@dataclass(frozen=True)
class DemoOrg:
    """What was seeded, and the resources each IAM check must report as failing."""

    account_id: str
    partition: str
    users: tuple[str, ...]
    expected_failures: dict[str, set[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class BulkSeed:
    """How many users got each kind of credential or grant, for benchmarks to assert against."""

    users: int
    console: int
    mfa: int
    access_keys: int
    direct_policies: int
    inline_policies: int


def _iam(endpoint_url: str) -> IAMClient:
    return boto3.client("iam", endpoint_url=endpoint_url, region_name=REGION, **FAKE_CREDENTIALS)


def _account(endpoint_url: str) -> tuple[str, str]:
    sts = boto3.client("sts", endpoint_url=endpoint_url, region_name=REGION, **FAKE_CREDENTIALS)
    arn = sts.get_caller_identity()["Arn"]
    return arn.split(":")[4], arn.split(":")[1]


def _policy_arn(name: str, local: dict[str, str]) -> str:
    return local.get(name) or AWS_POLICY.format(name)


def _create_user(iam: IAMClient, u: DemoUser, local: dict[str, str]) -> None:
    """Create one user with its password, MFA device, key and grants, all through the IAM API."""
    iam.create_user(UserName=u.name)
    if u.group:
        iam.add_user_to_group(GroupName=u.group, UserName=u.name)
    if u.console:
        iam.create_login_profile(UserName=u.name, Password=secrets.token_urlsafe(18) + "aA1!")
    if u.mfa:
        serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=u.name)["VirtualMFADevice"]
        iam.enable_mfa_device(UserName=u.name, SerialNumber=serial["SerialNumber"], **MFA_CODES)
    if u.key_age is not None:
        iam.create_access_key(UserName=u.name)
    for name in u.direct:
        iam.attach_user_policy(UserName=u.name, PolicyArn=_policy_arn(name, local))
    if u.inline:
        iam.put_user_policy(UserName=u.name, PolicyName="analytics-exports", PolicyDocument=INLINE_POLICY)


def _backend(endpoint_url: str) -> Any:
    """Moto's IAM backend behind `endpoint_url`, proven to be this process's by a probe alias."""
    from moto.iam.models import iam_backends

    account_id, partition = _account(endpoint_url)
    backend = iam_backends[account_id][partition]
    iam, probe = _iam(endpoint_url), f"annexa-probe-{secrets.token_hex(4)}"
    iam.create_account_alias(AccountAlias=probe)
    try:
        if probe not in backend.account_aliases:
            raise RuntimeError(f"the moto server at {endpoint_url} does not run in this process")
    finally:
        iam.delete_account_alias(AccountAlias=probe)
    return backend


def _backdate(backend: Any, users: Sequence[DemoUser], at: datetime) -> None:
    """Write the ages moto cannot be told through its API into its IAM backend, counted back from `at`."""
    from moto.iam.models import AccessKeyLastUsed

    now = at.astimezone(UTC).replace(tzinfo=None)  # moto keeps naive UTC datetimes

    def ago(days: int) -> datetime:
        return now - timedelta(days=days)

    for u in users:
        user = backend.users[u.name]
        user.create_date = ago(u.age)
        if u.pw_used is not None:
            user.password_last_used = ago(u.pw_used)
        for key in user.access_keys:
            key.create_date = ago(u.key_age or 0)
            if u.key_used is not None:
                key.last_used = AccessKeyLastUsed(timestamp=ago(u.key_used), service="s3", region="eu-west-1")


def _idle(used: int | None, issued: int) -> int:
    return issued if used is None else used


def _expected_failures(users: Sequence[DemoUser], arn: Callable[[str], str]) -> dict[str, set[str]]:
    """Which resources each check fails, derived from the table above (90-day limits)."""

    def failing(pred: Callable[[DemoUser], bool]) -> set[str]:
        return {arn(f"user/{u.name}") for u in users if pred(u)}

    return {
        "aws.iam.root_mfa": {arn("root")},
        "aws.iam.root_access_keys": set(),
        "aws.iam.password_policy": {arn("password-policy")},
        "aws.iam.console_user_without_mfa": failing(lambda u: u.console and not u.mfa),
        "aws.iam.access_key_rotation": failing(lambda u: (u.key_age or 0) > 90),
        "aws.iam.unused_credentials": failing(
            lambda u: (
                (u.console and _idle(u.pw_used, u.age) > 90)
                or (u.key_age is not None and _idle(u.key_used, u.key_age) > 90)
            )
        ),
        "aws.iam.user_admin_policy": failing(lambda u: bool({ADMIN, FULL_ACCESS} & set(u.direct))),
        "aws.iam.user_inline_policies": failing(lambda u: u.inline),
        "aws.iam.user_direct_policies": failing(lambda u: bool(u.direct)),
    }


def backdate(endpoint_url: str, at: datetime) -> None:
    """The seeded users' ages as they stand at `at`: the demo shows its past days with it."""
    _backdate(_backend(endpoint_url), DEMO_USERS, at)


def seed_demo_org(endpoint_url: str) -> DemoOrg:
    """Seed ~12 people and service users with planted weaknesses into an in-process moto server."""
    account_id, partition = _account(endpoint_url)
    iam = _iam(endpoint_url)
    local = {
        name: iam.create_policy(PolicyName=name, PolicyDocument=doc)["Policy"]["Arn"]
        for name, doc in CUSTOMER_POLICIES.items()
    }
    for group, attached in GROUPS.items():
        iam.create_group(GroupName=group)
        for name in attached:
            iam.attach_group_policy(GroupName=group, PolicyArn=_policy_arn(name, local))
    iam.update_account_password_policy(
        MinimumPasswordLength=8,
        RequireSymbols=False,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True,
    )
    for u in DEMO_USERS:
        _create_user(iam, u, local)
    _backdate(_backend(endpoint_url), DEMO_USERS, datetime.now(UTC))
    log.info("demo.seeded", account=account_id, users=len(DEMO_USERS))
    return DemoOrg(
        account_id=account_id,
        partition=partition,
        users=tuple(u.name for u in DEMO_USERS),
        expected_failures=_expected_failures(
            DEMO_USERS, lambda rest: f"arn:{partition}:iam::{account_id}:{rest}"
        ),
    )


def _bulk_plan(count: int, seed: int) -> list[DemoUser]:
    """A deterministic mix: most users in a group, some with console, MFA, keys or their own grants."""
    rnd = random.Random(seed)
    plan = []
    for i in range(count):
        console = rnd.random() < 0.6
        plan.append(
            DemoUser(
                name=f"user-{seed}-{i:05d}",
                group=rnd.choice(("engineering", "finance", "readonly", "")),
                age=0,
                console=console,
                mfa=console and rnd.random() < 0.75,
                key_age=0 if rnd.random() < 0.4 else None,
                direct=("ReadOnlyAccess",) if rnd.random() < 0.1 else (),
                inline=rnd.random() < 0.05,
            )
        )
    return plan


def _create_in_backend(backend: Any, u: DemoUser) -> None:
    """What `_create_user` does, through moto's backend methods: ~100x faster than its HTTP API."""
    backend.create_user(REGION, u.name)
    if u.group:
        backend.add_user_to_group(u.group, u.name)
    if u.console:
        backend.create_login_profile(u.name, secrets.token_urlsafe(18) + "aA1!")
    if u.mfa:
        device = backend.create_virtual_mfa_device(u.name, "/")
        backend.enable_mfa_device(u.name, device.serial_number, *MFA_CODES.values())
    if u.key_age is not None:
        backend.create_access_key(u.name)
    for name in u.direct:
        backend.attach_user_policy(_policy_arn(name, {}), u.name)
    if u.inline:
        backend.put_user_policy(u.name, "analytics-exports", INLINE_POLICY)


def seed_bulk_users(endpoint_url: str, count: int, *, seed: int = 0) -> BulkSeed:
    """Create `count` users in an in-process moto server (the HTTP API manages ~100 calls/s)."""
    backend = _backend(endpoint_url)
    for group in {"engineering", "finance", "readonly"} - set(backend.groups):
        backend.create_group(group)
    plan = _bulk_plan(count, seed)
    for u in plan:
        _create_in_backend(backend, u)
    log.info("demo.bulk_seeded", users=count, seed=seed)
    return BulkSeed(
        users=count,
        console=sum(u.console for u in plan),
        mfa=sum(u.mfa for u in plan),
        access_keys=sum(u.key_age is not None for u in plan),
        direct_policies=sum(bool(u.direct) for u in plan),
        inline_policies=sum(u.inline for u in plan),
    )
