"""GCP IAM checks across the organisation hierarchy, service-account keys and bucket IAM.

Every policy is judged on its own, so a grant set on a folder is one finding on that folder
(saying how many projects inherit it), not one per project below.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._dates import age_days, days_ago, parse_timestamp
from checks._gcp_iam import (
    BASIC_ROLES,
    BUCKETS,
    KEYS,
    POLICIES,
    PUBLIC_MEMBERS,
    Grant,
    domain_of,
    each_readable,
    email_of,
    grants,
    judge,
    judge_inventory,
    judge_policies,
    undeleted,
    where,
    within,
)
from checks._identity import AMBIGUOUS, EMPLOYEES, Directory, Match, directory
from checks._judging import Aged, as_list, judge_ages

BASIC_ROLES_WITH_VIEWER = [*BASIC_ROLES, "roles/viewer"]


def _is(kind: str, grant: Grant) -> bool:
    return undeleted(grant.member).startswith(kind + ":")


def _basic_roles_of(ev: Evidence, kind: str, what: str) -> Iterator[Result]:
    """Members of one kind (`user`, `serviceAccount`) must not hold the configured basic roles."""
    roles = set(as_list(ev.param("roles"), "roles"))
    yield from judge_policies(ev.records(POLICIES), what, lambda g: g.role in roles and _is(kind, g))


@check(
    "gcp.iam.public_members",
    title="No IAM policy grants a role to allUsers or allAuthenticatedUsers",
    controls={
        "A.8.3": "A public member opens the resource to anyone on the internet, or any Google account.",
        "A.5.15": "Access control rules must say who may access; 'everyone' is not such a rule.",
    },
    severity="major",
    needs=[POLICIES],
    rationale="allUsers needs no sign-in at all; allAuthenticatedUsers is any of billions of Google accounts.",
    remediation="Remove the allUsers / allAuthenticatedUsers members; grant the role to named groups instead.",
)
def public_members(ev: Evidence) -> Iterator[Result]:
    """Organisation, folder and project policies must not name public members."""
    yield from judge_policies(ev.records(POLICIES), "public members", lambda g: g.member in PUBLIC_MEMBERS)


@check(
    "gcp.iam.basic_roles_to_users",
    title="Basic roles (owner, editor) are not granted to user accounts",
    controls={
        "A.8.2": "Owner and editor are privileged access rights over every service of the resource.",
        "A.5.15": "Access should follow least privilege: predefined roles scoped to the job, not basic roles.",
    },
    severity="minor",
    needs=[POLICIES],
    rationale="Basic roles carry thousands of permissions; held by a person's account they make any "
    "phished session a takeover of the whole project, folder or organisation.",
    remediation="Replace the basic role with predefined roles for the user's tasks, granted to a group.",
    params={"roles": list(BASIC_ROLES)},
)
def basic_roles_to_users(ev: Evidence) -> Iterator[Result]:
    """User members must not hold the configured basic roles, directly or through inheritance."""
    yield from _basic_roles_of(ev, "user", "basic roles granted to users")


@check(
    "gcp.iam.external_members",
    title="IAM members belong to the company's domains",
    controls={
        "A.5.15": "Access is granted to the organisation's own identities, which it can control and revoke.",
        "A.5.19": "Access by outside parties must go through an agreed supplier relationship.",
    },
    severity="minor",
    needs=[POLICIES],
    rationale="Personal or third-party accounts sit outside the company's joiner-mover-leaver process "
    "and its authentication policies.",
    remediation="Remove the member, or add the domain of an approved supplier to the check's "
    "company_domains parameter.",
    params={"company_domains": []},
)
def external_members(ev: Evidence) -> Iterator[Result]:
    """User, group and domain members must be in `company_domains` (or a subdomain of one)."""
    domains = as_list(ev.param("company_domains"), "company_domains")

    def judge_policy(policy: Record) -> Result:
        if not domains:
            return Result.error(
                policy.resource_id,
                'no company domains configured: set company_domains in [checks.params."gcp.iam.external_members"]',
            )
        outside = [
            g for g in grants(policy) if (d := domain_of(g.member)) is not None and not within(d, domains)
        ]
        return judge(policy, outside, "members outside " + ", ".join(domains))

    yield from each_readable(ev.records(POLICIES), judge_policy)


@check(
    "gcp.iam.service_account_basic_roles",
    title="Service accounts do not hold basic roles (owner, editor)",
    controls={
        "A.8.2": "A workload identity with owner or editor is an unreviewed privileged account.",
        "A.5.15": "A service account should hold only the roles its workload needs.",
    },
    severity="minor",
    needs=[POLICIES],
    rationale="Whoever runs code as the service account, or holds one of its keys, gets the basic role; "
    "default compute and App Engine accounts get editor unless the organisation policy prevents it.",
    remediation="Grant the service account the predefined roles its workload needs, then remove the basic role.",
    params={"roles": list(BASIC_ROLES)},
)
def service_account_basic_roles(ev: Evidence) -> Iterator[Result]:
    """Service-account members must not hold the configured basic roles."""
    yield from _basic_roles_of(ev, "serviceAccount", "basic roles granted to service accounts")


@check(
    "gcp.iam.inherited_basic_roles",
    title="Basic roles are not granted at organisation or folder level",
    controls={
        "A.8.2": "A grant on the organisation or a folder is privileged access to every project below it.",
        "A.5.15": "Access rights should be granted where they are needed, not inherited everywhere.",
    },
    severity="minor",
    needs=[POLICIES],
    rationale="Inherited grants cannot be removed at the project, and are easily overlooked when a "
    "project's own policy is reviewed.",
    remediation="Move the grant down to the projects that need it, with a predefined role.",
    params={"roles": BASIC_ROLES_WITH_VIEWER},
)
def inherited_basic_roles(ev: Evidence) -> Iterator[Result]:
    """Organisation and folder policies must not grant basic roles; they reach every project below."""
    roles = set(as_list(ev.param("roles"), "roles"))

    def judge_policy(policy: Record) -> Result:
        if policy.data.get("kind") == "project":
            return Result.not_applicable(
                policy, f"{policy.resource_id}: a project's grants are not inherited"
            )
        return judge(policy, [g for g in grants(policy) if g.role in roles], "basic roles set here")

    yield from each_readable(ev.records(POLICIES), judge_policy)


def _key_age(ev: Evidence, key: dict[str, Any]) -> Aged:
    days = age_days(key.get("created"), ev.now)
    if days is None:
        return None, f"key {key['id']} has no creation time"
    return days, f"key {key['id']} created {days_ago(days)}"


def _usable(ev: Evidence, key: dict[str, Any]) -> bool:
    expires = parse_timestamp(key.get("expires"))
    return not key.get("disabled") and (expires is None or expires > ev.now)


@check(
    "gcp.iam.service_account_key_age",
    title="User-managed service-account keys are rotated",
    controls={
        "A.5.17": "A key is authentication information; rotating it limits how long a leaked copy works.",
    },
    severity="minor",
    needs=[KEYS],
    rationale="Downloaded keys are long-lived secrets that spread to laptops, CI systems and repositories.",
    remediation="Create a new key (or better, move to workload identity), switch consumers, delete the old key.",
    params={"max_age_days": 90},
)
def service_account_key_age(ev: Evidence) -> Iterator[Result]:
    """Every enabled, unexpired user-managed key must be younger than `max_age_days`."""
    limit = int(ev.param("max_age_days"))

    def judge_account(sa: Record) -> Result:
        email = sa.data["email"]
        usable = [k for k in sa.data.get("keys") or () if _usable(ev, k)]
        if sa.data.get("disabled") or not usable:
            state = "is disabled" if sa.data.get("disabled") else "has no usable user-managed key"
            return Result.not_applicable(sa, f"{email} {state}")
        return judge_ages(sa, email, [_key_age(ev, k) for k in usable], limit, "rotation limit")

    yield from judge_inventory(ev, KEYS, "service accounts", judge_account)


@check(
    "gcp.storage.public_buckets",
    title="No Cloud Storage bucket is readable or writable by the public",
    controls={
        "A.8.3": "Bucket contents must be restricted to the people entitled to them.",
        "A.5.15": "Access control rules must name who may access; 'everyone' is not such a rule.",
    },
    severity="major",
    needs=[BUCKETS],
    rationale="A public bucket is how most cloud data leaks happen: anyone who guesses its name can read it.",
    remediation="Remove allUsers / allAuthenticatedUsers from the bucket policy and enforce public access "
    "prevention on the project or organisation.",
)
def public_buckets(ev: Evidence) -> Iterator[Result]:
    """Bucket policies must not name public members, unless public access prevention blocks them."""

    def judge_bucket(bucket: Record) -> Result:
        public = [g for g in grants(bucket) if g.member in PUBLIC_MEMBERS]
        subject = f"bucket {bucket.data['bucket']} (project {bucket.data['project']})"
        if public and bucket.data.get("public_access_prevention") == "enforced":
            reason = f"{subject}: public members are blocked by enforced public access prevention"
            return Result.of(bucket, passed=True, reason=reason)
        return judge(bucket, public, "public members", subject)

    yield from judge_inventory(ev, BUCKETS, "buckets", judge_bucket)


Linked = list[tuple[Grant, Match]]


def _leavers(
    policy: Record, resolve: dict[str, Match], people: Directory, ev: Evidence
) -> tuple[Linked, Linked]:
    """(grant, match) pairs of user members whose person has left, and those that are ambiguous."""
    today = ev.now.date()
    left: Linked = []
    unsure: Linked = []
    for g in grants(policy):
        email = email_of(g.member) if _is("user", g) else None
        if email is None:
            continue
        if email not in resolve:
            resolve[email] = people.resolve(emails=[email])
        match = resolve[email]
        if match.person is not None and match.person.has_left(today):
            left.append((g, match))
        elif match.status == AMBIGUOUS:
            unsure.append((g, match))
    return left, unsure


@check(
    "gcp.iam.leaver_bindings",
    title="People who have left hold no GCP IAM bindings",
    controls={
        "A.5.18": "Access rights must be removed when employment ends.",
        "A.6.5": "Responsibilities after termination include that access ends with employment.",
    },
    severity="major",
    needs=[POLICIES, EMPLOYEES],
    rationale="A leaver's Google account, or a recreated account with the same address, keeps every "
    "role still bound to it.",
    remediation="Remove the member from every policy, then confirm the account is suspended in the identity provider.",
)
def leaver_bindings(ev: Evidence) -> Iterator[Result]:
    """User members linked (through the shared identity resolution) to a leaver fail their policy."""
    people = directory(ev)
    resolved: dict[str, Match] = {}

    def judge_policy(policy: Record) -> Result:
        left, unsure = _leavers(policy, resolved, people, ev)
        if left:
            shown = "; ".join(f"{g.describe()} ({m.describe()}, left)" for g, m in left)
            return Result.of(policy, passed=False, reason=f"{where(policy)}: leavers hold roles: {shown}")
        if unsure:
            shown = "; ".join(f"{g.member}: {m.describe()}" for g, m in unsure)
            return Result.error(policy.resource_id, f"{where(policy)}: cannot tell who holds roles: {shown}")
        return Result.of(policy, passed=True, reason=f"{where(policy)}: no leaver holds a role")

    yield from each_readable(ev.records(POLICIES), judge_policy)
