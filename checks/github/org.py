"""Checks of the GitHub organisation itself: how members sign in, what they may do by default, who
owns it, who from outside can change the code, and whether every member is an employee (and no leaver)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result
from checks._accounts import ACCOUNT_SOURCES
from checks._directory import Timelines, linked
from checks._github import (
    MEMBERS,
    OUTSIDE_COLLABORATORS,
    SETTINGS,
    login,
    org_setting,
)
from checks._identity import AMBIGUOUS, EMPLOYEES, exempt, in_grace
from checks._judging import or_nothing_to_judge

# --- organisation settings ------------------------------------------------------------------------


@check(
    "github.org.two_factor_required",
    title="The GitHub organisation requires two-factor authentication",
    controls={
        "A.8.5": "Access to the source code is authenticated with more than a password.",
        "A.5.17": "The organisation, not each member, decides that a second factor is part of every login.",
    },
    severity="major",
    needs=[SETTINGS],
    rationale="One phished password of any member exposes every repository that member can read or push to.",
    remediation="Organisation settings → Authentication security: require two-factor authentication (members "
    "without it are removed, so warn them first), or enforce it through SAML SSO with an MFA-enforcing IdP.",
)
def two_factor_required(ev: Evidence) -> Iterator[Result]:
    """One verdict per organisation from its two-factor requirement setting."""

    def judge(rec: Record, required: Any) -> Result:
        state = "requires" if required is True else "does not require"
        return Result.of(
            rec, passed=required is True, reason=f"{login(rec)} {state} two-factor authentication"
        )

    yield from org_setting(ev, "two_factor_requirement_enabled", "the two-factor requirement", judge)


PERMISSIONS_TOO_WIDE = frozenset({"write", "admin"})


@check(
    "github.org.base_permission",
    title="Members' base permission on the organisation's repositories is at most read",
    controls={
        "A.8.3": "Write access to each repository is granted per team or person, not to every member at once.",
        "A.5.15": "Access follows least privilege: a default grant must not exceed what every member needs.",
    },
    severity="minor",
    needs=[SETTINGS],
    rationale="A write or admin base permission lets every member push to, or reconfigure, every repository.",
    remediation="Organisation settings → Member privileges: set the base permission to Read (or No permission) "
    "and grant write through teams for the repositories each team owns.",
)
def base_permission(ev: Evidence) -> Iterator[Result]:
    """Read or none pass; write or admin fail; a value we do not know is an error."""

    def judge(rec: Record, permission: Any) -> Result:
        if permission not in PERMISSIONS_TOO_WIDE | {"read", "none"}:
            return Result.error(rec.resource_id, f"{login(rec)}: unknown base permission {permission!r}")
        reason = f"{login(rec)}: members' base permission on every repository is {permission}"
        return Result.of(rec, passed=permission not in PERMISSIONS_TOO_WIDE, reason=reason)

    yield from org_setting(ev, "default_repository_permission", "the base permission", judge)


# --- who can reach the code -----------------------------------------------------------------------

ELEVATED = ("admin", "maintain", "write")
PERMISSIONS = frozenset({*ELEVATED, "triage", "read"})


@check(
    "github.org.outside_collaborators",
    title="Outside collaborators cannot change the organisation's repositories",
    controls={
        "A.5.19": "People of suppliers and partners get no more than read access to the code.",
        "A.5.15": "Write access to code is kept for the people accountable to the organisation.",
        "A.8.30": "Outsourced development goes through reviewed contributions, not direct pushes.",
    },
    severity="minor",
    needs=[OUTSIDE_COLLABORATORS],
    rationale="Outside collaborators are not members: no SSO, no 2FA policy, no offboarding when the contract ends. "
    "Write access lets them change the code directly.",
    remediation="Lower the collaborator to read (or triage) and have changes come through pull requests from a "
    "fork, or make the person a member under the organisation's policies.",
)
@or_nothing_to_judge("outside collaborators")
def outside_collaborators(ev: Evidence) -> Iterator[Result]:
    """Fail each collaborator holding write, maintain or admin anywhere, naming every such repository."""
    for rec in ev.records(OUTSIDE_COLLABORATORS):
        grants = [(g.get("repository"), g.get("permission")) for g in rec.data.get("repositories") or []]
        unknown = [f"{perm!r} on {repo}" for repo, perm in grants if perm not in PERMISSIONS]
        if unknown:
            yield Result.error(rec.resource_id, f"{login(rec)}: unknown permission {', '.join(unknown)}")
            continue
        elevated = [f"{perm} on {repo}" for repo, perm in grants if perm in ELEVATED]
        shown = ", ".join(elevated or [f"{perm} on {repo}" for repo, perm in grants]) or "no repository"
        reason = f"outside collaborator {login(rec)}: {shown}"
        yield Result.of(rec, passed=not elevated, reason=reason)


@check(
    "github.org.admins",
    title="The GitHub organisation has few owners",
    controls={
        "A.8.2": "Owner rights over every repository and setting are allocated to as few people as needed."
    },
    severity="minor",
    needs=[MEMBERS],
    rationale="An owner can delete repositories, change protection and invite anyone; each one more is one more "
    "account whose compromise gives all of that away.",
    remediation="Demote owners to members and give them the repository or team roles their work needs, until "
    "the count is within the limit.",
    params={"max_admins": 3},
)
@or_nothing_to_judge("organisation owners")
def admins(ev: Evidence) -> Iterator[Result]:
    """One result per owner: all fail, naming the count, when there are more than `max_admins`."""
    limit = int(ev.param("max_admins"))
    owners = [m for m in ev.records(MEMBERS) if m.data.get("role") == "admin"]
    for rec in owners:
        reason = f"{login(rec)} is one of {len(owners)} organisation owner(s) (limit {limit})"
        yield Result.of(rec, passed=len(owners) <= limit, reason=reason)


@check(
    "github.org.members_unlinked",
    title="Every GitHub organisation member belongs to an employee",
    controls={"A.5.16": "Each identity with access to the code is linked to the person accountable for it."},
    severity="minor",
    needs=[MEMBERS, EMPLOYEES],
    rationale="A personal GitHub account nobody in HR owns is never reviewed and never offboarded.",
    remediation="Link the member to their employee (SAML SSO with the work email, or an [hr] alias for the login), "
    "exempt it as a documented machine account, or remove it from the organisation.",
    params={"exempt": ["*[bot]"]},
)
@or_nothing_to_judge("organisation members")
def members_unlinked(ev: Evidence) -> Iterator[Result]:
    """Each member must link to exactly one employee; an ambiguous link is an error, never a guess."""
    patterns = list(ev.param("exempt"))
    for account, match in linked(ev, MEMBERS):
        member, name = account.record, account.name
        if exempt(name, patterns):
            yield Result.not_applicable(member, f"{name} is exempted by exempt")
        elif match.status == AMBIGUOUS:
            reason = f"{name} links to several employees ({match.describe()}): fix the HR emails or aliases"
            yield Result.error(member.resource_id, reason)
        elif match.person is None:
            reason = f"{name} belongs to no employee in HR (no matching SAML email or alias)"
            yield Result.of(member, passed=False, reason=reason)
        else:
            yield Result.of(
                member, match.person.record, passed=True, reason=f"{name} belongs to {match.describe()}"
            )


@check(
    "github.org.leaver_members",
    title="Leavers are removed from the GitHub organisation",
    controls={
        "A.5.18": "Access to the code is removed when employment ends.",
        "A.6.5": "A former employee's personal GitHub account keeps working after they leave.",
    },
    severity="major",
    needs=[MEMBERS, EMPLOYEES],
    context=[s for s in ACCOUNT_SOURCES if s != MEMBERS],
    rationale="A GitHub account is the person's own: disabling them in the identity provider does not remove it "
    "from the organisation unless SSO is enforced, so it keeps its access to the code.",
    remediation="Remove the member from the organisation (and revoke their tokens, SSH keys and deploy keys "
    "they created), then fix the offboarding step that missed it.",
    params={"grace_days": 1},
)
@or_nothing_to_judge("members linked to employees")
def leaver_members(ev: Evidence) -> Iterator[Result]:
    """Members linked to a leaver past grace fail; linked current employees pass; unlinked are left out."""
    days = int(ev.param("grace_days"))
    today = ev.now.date()
    timelines = Timelines(ev)
    for account, match in linked(ev, MEMBERS):
        person, member = match.person, account.record
        if person is None:
            continue
        if not person.has_left(today):
            reason = f"{account.name} ({person.label}): current employee"
            yield Result.of(member, person.record, passed=True, reason=reason)
            continue
        told = timelines.of(person, account)
        within, clause = in_grace(person, today, days)
        yield Result.of(member, *told.records, passed=within, reason=f"{told.text}; {clause}")
