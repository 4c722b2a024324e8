"""People across every identity system: leavers' accounts, sign-ins after leaving, accounts nobody owns.

The same three judgements hold for every identity provider (Entra ID, Okta, Google Workspace), and
the leaver judgement for AWS IAM users too, so each is written once and declared per system from
the table below. Each system's accounts get their own verdict and nonconformity in their own
scope; every leaver finding tells the person's whole timeline across the systems the agent
collects (`checks._directory`), read as context: a system that could not be read is named in the
reason, never silently left out, and never changes the verdict of another system's account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from agent.plugin import check
from agent.plugin.evidence import Evidence
from agent.plugin.model import Result
from checks import _entra, _google_workspace, _okta
from checks._accounts import ACCOUNT_SOURCES, Account
from checks._directory import Timelines, after_leaving, linked
from checks._identity import AMBIGUOUS, EMPLOYEES, Match, Person, exempt, in_grace
from checks._judging import or_nothing_to_judge
from checks.aws._common import CREDENTIAL_REPORT

Judge = Callable[[Evidence], Iterator[Result]]


@dataclass(frozen=True)
class System:
    """What the people checks say of one system's accounts; the judging is shared."""

    key: str  # the system part of the check ids
    source: str
    label: str  # "Okta"
    off: str  # what an account that gives no access is: "deactivated or suspended"
    remove: str  # the remediation's first step for a leaver's account
    severity: str = "minor"  # of a leaver's account still active

    def context(self) -> list[str]:
        return [s for s in ACCOUNT_SOURCES if s != self.source]


ENTRA = System("entra", _entra.USERS, "Entra ID", "disabled", "Disable the account (and revoke its sessions)")
OKTA = System(
    "okta",
    _okta.USERS,
    "Okta",
    "deactivated or suspended",
    "Deactivate the user in Okta (ending its sessions and app assignments)",
)
WORKSPACE = System(
    "google_workspace",
    _google_workspace.USERS,
    "Google Workspace",
    "suspended",
    "Suspend the user (and sign it out of every session), or delete it once its data is transferred",
)
AWS_IAM = System(
    "aws_iam",
    CREDENTIAL_REPORT,
    "AWS IAM",
    "without credentials",
    "Delete the IAM user's login profile and access keys (or the user); move people to federated access",
    severity="major",
)


def leavers(ev: Evidence, source: str) -> Iterator[tuple[Account, Person]]:
    """The source's accounts linked to someone who has left, whatever their state today."""
    today = ev.now.date()
    for account, match in linked(ev, source):
        person = match.person
        if person is not None and person.has_left(today):
            yield account, person


# --- the shared judgements -------------------------------------------------------------------------


def _judge_leaver_active(system: System) -> Judge:
    @or_nothing_to_judge(f"leavers' {system.label} accounts")
    def judge(ev: Evidence) -> Iterator[Result]:
        days = int(ev.param("grace_days"))
        today = ev.now.date()
        timelines = Timelines(ev)
        for account, person in leavers(ev, system.source):
            told = timelines.of(person, account)
            if not account.active:
                yield Result.of(account.record, *told.records, passed=True, reason=told.text)
                continue
            within, clause = in_grace(person, today, days)
            yield Result.of(account.record, *told.records, passed=within, reason=f"{told.text}; {clause}")

    return judge


def _judge_sign_in_after_leaving(system: System) -> Judge:
    @or_nothing_to_judge(f"leavers' {system.label} accounts")
    def judge(ev: Evidence) -> Iterator[Result]:
        grace = int(ev.param("grace_days"))
        timelines = Timelines(ev)
        for account, person in leavers(ev, system.source):
            after = after_leaving(person, account.last_used)
            told = timelines.of(person, account)
            signed_in = after is not None and after > grace
            yield Result.of(account.record, *told.records, passed=not signed_in, reason=told.text)

    return judge


def _without_employee(account: Account, match: Match) -> Result:
    cited = [match.person.record] if match.person else [p.record for p in match.candidates]
    if match.status == AMBIGUOUS:
        reason = f"{account.name} links to several employees ({match.describe()}): fix the HR emails or add an alias"
    elif match.person is None:
        reason = f"{account.name} is active but belongs to no employee in HR (no matching employee id, email or alias)"
    else:
        reason = f"{account.name} belongs to {match.describe()}"
    return Result.of(account.record, *cited, passed=match.person is not None, reason=reason)


def _judge_without_employee(system: System) -> Judge:
    @or_nothing_to_judge(f"active {system.label} member accounts")
    def judge(ev: Evidence) -> Iterator[Result]:
        patterns = list(ev.param("exempt_accounts"))
        for account, match in linked(ev, system.source):
            if not (account.active and account.owned):
                continue
            if exempt(account.name, patterns):
                yield Result.not_applicable(account.record, f"{account.name} is exempted by exempt_accounts")
            else:
                yield _without_employee(account, match)

    return judge


# --- declared per system ---------------------------------------------------------------------------


def declare_leaver_active(system: System, check_id: str) -> None:
    check(
        check_id,
        title=f"Leavers' {system.label} accounts are {system.off} within the grace period",
        controls={
            "A.5.18": "Access rights are removed when employment ends.",
            "A.6.5": "Responsibilities after termination start with access ending on the leaving date.",
            "A.5.16": "An identity's lifecycle ends with its owner's employment.",
        },
        severity=system.severity,
        needs=[system.source, EMPLOYEES],
        context=system.context(),
        rationale=f"A {system.label} account of someone who left can still be used, by them or by whoever "
        "has their credentials.",
        remediation=f"{system.remove}, then fix the offboarding step that missed it; the finding lists the "
        "person's other accounts to close at the same time.",
        params={"grace_days": 1},
    )(_judge_leaver_active(system))


def declare_identity_provider(system: System, leaver_id: str) -> None:
    """The three people checks of an identity provider."""
    declare_leaver_active(system, leaver_id)
    check(
        f"people.leaver.{system.key}_sign_in_after_leaving",
        title=f"Nobody signs in to {system.label} after leaving",
        controls={
            "A.5.18": "Access that outlived employment was actually used.",
            "A.6.5": "A former employee exercised access after termination.",
            "A.8.5": "Authentication succeeded for an identity that should no longer authenticate.",
        },
        severity="major",
        needs=[system.source, EMPLOYEES],
        context=system.context(),
        rationale="A sign-in after the termination date is access by someone no longer entitled to it: a "
        "possible incident.",
        remediation=f"{system.remove}, review the sign-in and audit logs since the termination date and handle "
        "it as a security incident if the use was not authorised.",
        params={"grace_days": 0},
    )(_judge_sign_in_after_leaving(system))
    check(
        f"people.{system.key}.account_without_employee",
        title=f"Every active {system.label} member account belongs to a current employee",
        controls={
            "A.5.16": "Each identity is linked to the person accountable for it.",
            "A.5.18": "Accounts nobody owns are never reviewed or removed.",
        },
        severity="minor",
        needs=[system.source, EMPLOYEES],
        rationale="An account that no HR record explains is either a missed leaver, a shared account or an "
        "intruder's.",
        remediation="Link the account to its employee (employee id or an [hr] alias), exempt it as a documented "
        f"service or break-glass account, or remove it from {system.label}.",
        params={"exempt_accounts": []},
    )(_judge_without_employee(system))


declare_identity_provider(ENTRA, "people.leaver.entra_account_enabled")
declare_identity_provider(OKTA, "people.leaver.okta_account_active")
declare_identity_provider(WORKSPACE, "people.leaver.google_workspace_account_active")
declare_leaver_active(AWS_IAM, "people.leaver.aws_iam_user")
