"""AWS IAM checks: the root user, IAM users' credentials, the password policy and user permissions."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._dates import age_days, days_ago
from checks._judging import Aged, judge_ages
from checks.aws._common import CREDENTIAL_REPORT, report_users
from checks.aws._policy import allows_everything

ACCOUNT_SUMMARY = "aws.iam.account_summary"
PASSWORD_POLICY = "aws.iam.password_policy"
USERS = "aws.iam.users"
POLICIES = "aws.iam.policies"

KEY_SLOTS = (1, 2)
AWS_MANAGED_POLICY = re.compile(r"^arn:[\w-]+:iam::aws:policy/")
AWS_ADMIN_POLICY = re.compile(r"^arn:[\w-]+:iam::aws:policy/AdministratorAccess$")
CHARACTER_CLASSES = {
    "RequireUppercaseCharacters": "uppercase letters",
    "RequireLowercaseCharacters": "lowercase letters",
    "RequireNumbers": "numbers",
    "RequireSymbols": "symbols",
}


# --- shared helpers -------------------------------------------------------------------------------


def _account_id(arn: str) -> str:
    return arn.split(":")[4] if arn.count(":") >= 5 else arn


def _active_keys(row: Mapping[str, Any]) -> list[int]:
    return [n for n in KEY_SLOTS if row.get(f"access_key_{n}_active") == "true"]


def _days_since(ev: Evidence, row: Mapping[str, Any], *fields: str) -> int | None:
    """Days since the first of `fields` that holds a date, or None when none does."""
    for name in fields:
        days = age_days(row.get(name), ev.now)
        if days is not None:
            return days
    return None


def _credential_ages(
    ev: Evidence,
    param: str,
    limit_name: str,
    ages_of: Callable[[Evidence, Mapping[str, Any]], list[Aged]],
    nothing: str,
) -> Iterator[Result]:
    """Judge each IAM user's credentials by the ages `ages_of` finds, against the limit in `param`;
    a user with none of them is not applicable, `nothing` saying why."""
    limit = int(ev.param(param))
    for user in report_users(ev):
        ages = ages_of(ev, user.data)
        if ages:
            yield judge_ages(user, user.data["user"], ages, limit, limit_name)
        else:
            yield Result.not_applicable(user, f"{user.data['user']} {nothing}")


def _root_user(ev: Evidence, key: str, wanted: int, good: str, bad: str) -> Iterator[Result]:
    """Judge one flag of the account summary about the root user; a missing summary or flag never passes."""
    summary = ev.one(ACCOUNT_SUMMARY)
    if summary is None:
        yield Result.error(ev.scope, "no IAM account summary was collected for this account")
        return
    account = _account_id(summary.resource_id)
    value = summary.data.get(key)
    if value is None:
        yield Result.of(summary, passed=False, reason=f"the account summary of {account} has no {key}")
        return
    passed = value == wanted
    reason = f"the root user of account {account} {good if passed else bad}"
    yield Result.of(summary, passed=passed, reason=reason)


def _no_user_grants(ev: Evidence, field: str, kind: str) -> Iterator[Result]:
    """Fail each user holding policies of one kind, naming them."""
    for user in ev.records(USERS):
        names = [p.get("PolicyName", "?") for p in user.data.get(field) or []]
        name = user.data.get("UserName", user.resource_id)
        reason = f"{name} has {kind}: {', '.join(names)}" if names else f"{name} has no {kind}"
        yield Result.of(user, passed=not names, reason=reason)


# --- root user ------------------------------------------------------------------------------------


@check(
    "aws.iam.root_mfa",
    title="The AWS root user has MFA enabled",
    controls={
        "A.8.2": "The root user holds unrestricted, unrevocable privileges over the whole account.",
        "A.8.5": "MFA is the secure authentication expected for the most privileged identity.",
    },
    severity="major",
    needs=[ACCOUNT_SUMMARY],
    rationale="Anyone holding the root password alone can take over the account and every resource in it.",
    remediation="Sign in as root and assign a hardware or virtual MFA device (IAM > Security credentials).",
)
def root_mfa(ev: Evidence) -> Iterator[Result]:
    """Root sign-in must require a second factor."""
    yield from _root_user(ev, "AccountMFAEnabled", 1, "has MFA enabled", "signs in without MFA")


@check(
    "aws.iam.root_access_keys",
    title="The AWS root user has no access keys",
    controls={
        "A.8.2": "Long-lived keys for the root user give unrestricted programmatic access to the account.",
        "A.5.17": "Root keys are authentication information that cannot be scoped, so should not exist.",
    },
    severity="major",
    needs=[ACCOUNT_SUMMARY],
    rationale="A leaked root access key grants full control of the account without MFA.",
    remediation="Delete the root user's access keys; use IAM roles or users with scoped policies instead.",
)
def root_access_keys(ev: Evidence) -> Iterator[Result]:
    """The root user must have no programmatic credentials at all."""
    yield from _root_user(ev, "AccountAccessKeysPresent", 0, "has no access keys", "has access keys")


# --- IAM users' credentials -----------------------------------------------------------------------


@check(
    "aws.iam.console_user_without_mfa",
    title="IAM users with a console password have MFA",
    controls={
        "A.8.5": "A password alone is not secure authentication for interactive access.",
        "A.5.17": "MFA protects the user's password, should it be disclosed or guessed.",
    },
    severity="minor",
    needs=[CREDENTIAL_REPORT],
    rationale="Console access protected only by a password is exposed to phishing and credential stuffing.",
    remediation="Enable an MFA device for the user, or remove the console password if it is not needed.",
)
def console_user_without_mfa(ev: Evidence) -> Iterator[Result]:
    """Every user who can sign in to the console must use MFA."""
    for user in report_users(ev):
        name = user.data["user"]
        if user.data.get("password_enabled") != "true":
            yield Result.not_applicable(user, f"{name} has no console password")
            continue
        has_mfa = user.data.get("mfa_active") == "true"
        reason = f"{name} signs in to the console with {'MFA' if has_mfa else 'a password only, no MFA'}"
        yield Result.of(user, passed=has_mfa, reason=reason)


def _rotation_ages(ev: Evidence, row: Mapping[str, Any]) -> list[Aged]:
    """How long ago each active access key was last rotated."""
    ages: list[Aged] = []
    for n in _active_keys(row):
        days = _days_since(ev, row, f"access_key_{n}_last_rotated")
        text = f"access key {n} has no rotation date"
        ages.append((days, text if days is None else f"access key {n} last rotated {days_ago(days)}"))
    return ages


@check(
    "aws.iam.access_key_rotation",
    title="Active IAM access keys are rotated",
    controls={
        "A.5.17": "Rotating keys limits how long a disclosed secret stays usable.",
    },
    severity="minor",
    needs=[CREDENTIAL_REPORT],
    rationale="Long-lived keys spread to scripts, laptops and logs; the older a key, the likelier it leaked.",
    remediation="Create a new key, move its consumers over, then deactivate and delete the old key.",
    params={"max_age_days": 90},
)
def access_key_rotation(ev: Evidence) -> Iterator[Result]:
    """Each active key must have been rotated within the last `max_age_days`."""
    yield from _credential_ages(
        ev, "max_age_days", "rotation limit", _rotation_ages, "has no active access key"
    )


def _idle(ev: Evidence, row: Mapping[str, Any], label: str, used: str, issued: str) -> Aged:
    """How long a credential has gone unused: since last use, else since it was issued."""
    days = _days_since(ev, row, used)
    if days is not None:
        return days, f"{label} last used {days_ago(days)}"
    days = _days_since(ev, row, issued, "user_creation_time")
    if days is None:
        return None, f"{label} never used and has no issue date"
    return days, f"{label} never used since issued {days_ago(days)}"


def _idle_ages(ev: Evidence, row: Mapping[str, Any]) -> list[Aged]:
    """How long the console password and each active access key have gone unused."""
    ages: list[Aged] = []
    if row.get("password_enabled") == "true":
        ages.append(_idle(ev, row, "console password", "password_last_used", "password_last_changed"))
    for n in _active_keys(row):
        key = f"access_key_{n}"
        ages.append(_idle(ev, row, f"access key {n}", f"{key}_last_used_date", f"{key}_last_rotated"))
    return ages


@check(
    "aws.iam.unused_credentials",
    title="IAM users' passwords and access keys are in use",
    controls={
        "A.5.18": "Access that nobody exercises is no longer needed and should have been revoked.",
        "A.5.16": "Dormant credentials point to identities that outlived their purpose.",
        "A.5.17": "An unused secret is a risk with no benefit and should be removed.",
    },
    severity="minor",
    needs=[CREDENTIAL_REPORT],
    rationale="Dormant credentials are rarely watched, so their misuse goes unnoticed.",
    remediation="Remove the console password or deactivate the key; delete the user if no longer needed.",
    params={"max_unused_days": 90},
)
def unused_credentials(ev: Evidence) -> Iterator[Result]:
    """A console password or active key idle for more than `max_unused_days` fails."""
    nothing = "has no console password and no active access key"
    yield from _credential_ages(ev, "max_unused_days", "inactivity limit", _idle_ages, nothing)


# --- password policy ------------------------------------------------------------------------------


def _password_shortfalls(policy: Mapping[str, Any], ev: Evidence) -> list[str]:
    """Every way the policy falls short of the configured rules, so one run shows all the fixes."""
    wanted_length = int(ev.param("min_length"))
    wanted_reuse = int(ev.param("reuse_prevention"))
    out: list[str] = []
    length = int(policy.get("MinimumPasswordLength") or 0)
    if length < wanted_length:
        out.append(f"minimum length is {length}, below {wanted_length}")
    reuse = int(policy.get("PasswordReusePrevention") or 0)
    if reuse < wanted_reuse:
        out.append(
            f"reuse prevention remembers {reuse} passwords, below {wanted_reuse}"
            if reuse
            else f"password reuse is not prevented (want the last {wanted_reuse} remembered)"
        )
    if not policy.get("AllowUsersToChangePassword"):
        out.append("users cannot change their own password")
    if ev.param("require_character_classes"):
        missing = [label for key, label in CHARACTER_CLASSES.items() if not policy.get(key)]
        if missing:
            out.append(f"does not require {', '.join(missing)}")
    return out


@check(
    "aws.iam.password_policy",
    title="The IAM password policy enforces length and prevents reuse",
    controls={
        "A.5.17": "The password policy is how the account enforces rules for choosing passwords.",
        "A.8.5": "Password strength is part of secure authentication for console users.",
    },
    severity="minor",
    needs=[PASSWORD_POLICY],
    rationale="Short or recycled passwords are guessed or replayed from earlier breaches.",
    remediation="Set an account password policy meeting the minimum length and reuse prevention (IAM > "
    "Account settings), and let users change their own passwords.",
    params={"min_length": 14, "reuse_prevention": 24, "require_character_classes": False},
)
def password_policy(ev: Evidence) -> Iterator[Result]:
    """The account password policy must meet the configured length and reuse rules."""
    policy = ev.one(PASSWORD_POLICY)
    if policy is None:
        yield Result.error(ev.scope, "no IAM password policy observation was collected for this account")
        return
    account = _account_id(policy.resource_id)
    if not policy.data.get("present"):
        reason = f"account {account} has no password policy: AWS defaults apply (8 characters, reuse allowed)"
        yield Result.of(policy, passed=False, reason=reason)
        return
    shortfalls = _password_shortfalls(policy.data, ev)
    if shortfalls:
        yield Result.of(policy, passed=False, reason=f"password policy of {account}: {'; '.join(shortfalls)}")
        return
    reason = (
        f"password policy of {account} requires {policy.data.get('MinimumPasswordLength')}+ characters, "
        f"remembers {policy.data.get('PasswordReusePrevention') or 0} passwords and lets users change theirs"
    )
    yield Result.of(policy, passed=True, reason=reason)


# --- user permissions -----------------------------------------------------------------------------


@dataclass
class _AdminGrants:
    """What gives one user full administrator access, and the policy records consulted to tell."""

    names: list[str] = field(default_factory=list)
    cited: list[Record] = field(default_factory=list)
    uncollected: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, user: Mapping[str, Any], customer: Mapping[Hashable, Record]) -> _AdminGrants:
        out = cls()
        for attached in user.get("AttachedManagedPolicies") or []:
            arn = attached.get("PolicyArn", "")
            if AWS_ADMIN_POLICY.match(arn):
                out.names.append("AWS managed policy AdministratorAccess")
            elif (policy := customer.get(arn)) is not None:
                out.cited.append(policy)
                if allows_everything(policy.data.get("DefaultVersionDocument")):
                    out.names.append(f"customer managed policy '{policy.data.get('PolicyName', arn)}'")
            elif not AWS_MANAGED_POLICY.match(arn):
                out.uncollected.append(arn)
        out.names += [
            f"inline policy '{inline.get('PolicyName', '?')}'"
            for inline in user.get("UserPolicyList") or []
            if allows_everything(inline.get("PolicyDocument"))
        ]
        return out


@check(
    "aws.iam.user_admin_policy",
    title="No IAM user holds a full-administrator policy directly",
    controls={
        "A.8.2": "Full administrator rights are privileged access and must not sit on an individual user.",
        "A.5.15": "Allowing every action on every resource contradicts least privilege.",
        "A.5.18": "Administrator grants outside groups and roles escape the review of access rights.",
    },
    severity="major",
    needs=[USERS, POLICIES],
    rationale="A user with '*' on '*' can disable logging, create backdoor identities and delete everything.",
    remediation="Detach the policy; grant administration through a role assumed with MFA, for limited time.",
)
def user_admin_policy(ev: Evidence) -> Iterator[Result]:
    """Users must not have AdministratorAccess or a policy allowing '*' on '*', managed or inline."""
    customer = ev.index(POLICIES, lambda p: p.resource_id)
    for user in ev.records(USERS):
        name = user.data.get("UserName", user.resource_id)
        grants = _AdminGrants.of(user.data, customer)
        if grants.names:
            reason = f"{name} has full administrator access through {', '.join(grants.names)}"
            yield Result.of(user, *grants.cited, passed=False, reason=reason)
        elif grants.uncollected:
            reason = f"{name} has customer managed policies that were not collected: "
            yield Result.error(user.resource_id, reason + ", ".join(grants.uncollected))
        else:
            reason = f"{name} has no direct or inline policy allowing every action on every resource"
            yield Result.of(user, *grants.cited, passed=True, reason=reason)


@check(
    "aws.iam.user_inline_policies",
    title="IAM users have no inline policies",
    controls={
        "A.5.18": "Inline policies are invisible in the policy inventory, so access reviews miss them.",
        "A.5.15": "Access rules should be defined once, per role, not improvised per user.",
    },
    severity="minor",
    needs=[USERS],
    rationale="Inline policies are unversioned, unshared and easily overlooked when access is reviewed.",
    remediation="Replace the inline policy with a managed policy on a group or role, then delete it.",
)
def user_inline_policies(ev: Evidence) -> Iterator[Result]:
    """Users must not carry inline policies."""
    yield from _no_user_grants(ev, "UserPolicyList", "inline policies")


@check(
    "aws.iam.user_direct_policies",
    title="IAM users receive permissions through groups or roles",
    controls={
        "A.5.15": "Role-based access control assigns rights to job functions, not to individuals.",
        "A.5.18": "Rights granted through groups are provisioned and reviewed consistently.",
    },
    severity="ofi",
    needs=[USERS],
    rationale="Per-user grants drift apart over time and make joiner-mover-leaver changes error-prone.",
    remediation="Attach the policy to a group matching the user's role and add the user to that group.",
)
def user_direct_policies(ev: Evidence) -> Iterator[Result]:
    """Users must not have managed policies attached directly."""
    yield from _no_user_grants(ev, "AttachedManagedPolicies", "managed policies attached directly")
