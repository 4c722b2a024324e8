"""Scenarios for the GitHub checks, with records shaped exactly as the GitHub collectors emit them."""

from __future__ import annotations

from typing import Any

from agent.plugin.model import Record, Status
from tests.scenarios import ERROR, FAIL, NA, PASS, Scenario
from tests.scenarios.entra import stamp
from tests.scenarios.hr import EMPLOYEES, employee

ORG = "acme"
SCOPE = f"github:{ORG}"
SETTINGS, MEMBERS, OUTSIDE = "github.org.settings", "github.org.members", "github.org.outside_collaborators"
PROTECTION, SECURITY, DEPENDABOT, CODE_ALERTS = (
    "github.repos.protection",
    "github.repos.security",
    "github.alerts.dependabot",
    "github.alerts.code_scanning",
)


def github(
    check_id: str, name: str, records: dict[str, list[Record]], expected: dict[str, Status], **params: Any
) -> Scenario:
    return Scenario(check_id, name, records, expected, params=params, scope=SCOPE)


def settings(*, two_factor: bool | None = True, base: str | None = "read") -> Record:
    return Record(
        resource_id=ORG,
        data={
            "login": ORG,
            "two_factor_requirement_enabled": two_factor,
            "default_repository_permission": base,
        },
    )


def member(login: str, *, role: str = "member", email: str | None = None) -> Record:
    return Record(resource_id=login, data={"login": login, "role": role, "email": email})


def collaborator(login: str, *grants: tuple[str, str]) -> Record:
    repositories = [{"repository": f"{ORG}/{repo}", "permission": perm} for repo, perm in grants]
    return Record(resource_id=login, data={"login": login, "repositories": repositories})


def protection(
    repo: str,
    *,
    protected: bool = True,
    reviews: int = 1,
    dismiss: bool = True,
    admins: bool = True,
    checks: tuple[str, ...] = ("ci",),
) -> Record:
    name = f"{ORG}/{repo}"
    return Record(
        resource_id=name,
        data={
            "repository": name,
            "default_branch": "main",
            "private": True,
            "protected": protected,
            "required_approving_review_count": reviews,
            "dismiss_stale_reviews": dismiss,
            "enforce_admins": admins,
            "required_status_checks": list(checks),
        },
    )


def security(
    repo: str,
    *,
    secrets: str | None = "enabled",
    push: str | None = "enabled",
    dependabot: bool | None = True,
    code: str = "enabled",
) -> Record:
    name = f"{ORG}/{repo}"
    return Record(
        resource_id=name,
        data={
            "repository": name,
            "private": True,
            "secret_scanning": secrets,
            "push_protection": push,
            "dependabot_alerts": dependabot,
            "code_scanning": code,
        },
    )


def alert(repo: str, number: int, severity: str, age: int | None, package: str = "lodash") -> Record:
    name = f"{ORG}/{repo}"
    return Record(
        resource_id=f"{name}#{number}",
        data={
            "repository": name,
            "number": number,
            "severity": severity,
            "package": package,
            "created_at": stamp(-age) if age is not None else None,
        },
    )


def code_alert(repo: str, number: int, severity: str | None, age: int | None) -> Record:
    name = f"{ORG}/{repo}"
    return Record(
        resource_id=f"{name}#{number}",
        data={
            "repository": name,
            "number": number,
            "severity": severity,
            "tool": "CodeQL",
            "created_at": stamp(-age) if age is not None else None,
        },
    )


def deploy_key(repo: str, key_id: int, title: str, *, read_only: bool | None) -> Record:
    return Record(
        resource_id=f"{ORG}/{repo}:{key_id}",
        data={
            "repository": f"{ORG}/{repo}",
            "title": title,
            "read_only": read_only,
            "created_at": stamp(-200),
        },
    )


def repo_ids(*repos: str) -> list[str]:
    return [f"{ORG}/{r}" for r in repos]


# People reused by the HR-joined scenarios.
ALICE = employee("E1", "alice@acme.com")
BOB = employee("E2", "bob@acme.com", status="terminated", left=-30, aliases=("bob-gh",))
CAROL = employee("E3", "carol@acme.com", status="terminated", left=-1)  # left yesterday: within grace
DAN = employee("E4", "dan@acme.com", left=-5)  # HR status not updated, the date has passed
ERIN = employee("E5", "erin@acme.com", left=20)  # leaving next month
TWINS = [employee("E7", "twin@acme.com"), employee("E8", "twin@acme.com", status="leave")]
STAFF = [ALICE, BOB, CAROL, DAN, ERIN, *TWINS]

TWO_FACTOR = "github.org.two_factor_required"
BASE = "github.org.base_permission"
BRANCHES = "github.repos.branch_protection"
SECRETS = "github.repos.secret_scanning"
OVERDUE = "github.alerts.dependabot_overdue"
CODE = "github.repos.code_scanning"
CODE_OVERDUE = "github.alerts.code_scanning_overdue"
COLLABORATORS = "github.org.outside_collaborators"
ADMINS = "github.org.admins"
UNLINKED = "github.org.members_unlinked"
LEAVERS = "github.org.leaver_members"

SCENARIOS: list[Scenario] = [
    github(
        "github.repos.deploy_keys_read_only",
        "keys that can push fail, read-only keys pass, an unknown access is an error",
        {
            "github.repos.deploy_keys": [
                deploy_key("api", 1, "ci read", read_only=True),
                deploy_key("api", 2, "release push", read_only=False),
                deploy_key("web", 3, "mystery", read_only=None),
            ]
        },
        {f"{ORG}/api:1": PASS, f"{ORG}/api:2": FAIL, f"{ORG}/web:3": ERROR},
    ),
    github(
        "github.repos.deploy_keys_read_only",
        "no deploy key: nothing to judge",
        {"github.repos.deploy_keys": []},
        {SCOPE: NA},
    ),
    github(TWO_FACTOR, "required passes", {SETTINGS: [settings(two_factor=True)]}, {ORG: PASS}),
    github(TWO_FACTOR, "not required fails", {SETTINGS: [settings(two_factor=False)]}, {ORG: FAIL}),
    github(
        TWO_FACTOR,
        "not visible to the token is an error",
        {SETTINGS: [settings(two_factor=None)]},
        {ORG: ERROR},
    ),
    github(TWO_FACTOR, "no settings record is an error", {SETTINGS: []}, {SCOPE: ERROR}),
    github(BASE, "read passes", {SETTINGS: [settings(base="read")]}, {ORG: PASS}),
    github(BASE, "no permission passes", {SETTINGS: [settings(base="none")]}, {ORG: PASS}),
    github(BASE, "write fails", {SETTINGS: [settings(base="write")]}, {ORG: FAIL}),
    github(BASE, "admin fails", {SETTINGS: [settings(base="admin")]}, {ORG: FAIL}),
    github(BASE, "not visible to the token is an error", {SETTINGS: [settings(base=None)]}, {ORG: ERROR}),
    github(BASE, "an unknown value is an error", {SETTINGS: [settings(base="triage")]}, {ORG: ERROR}),
    github(
        BRANCHES,
        "full protection passes; unprotected, too few reviews, stale approvals or admin bypass fail",
        {
            PROTECTION: [
                protection("api"),
                protection("web", protected=False, reviews=0, dismiss=False, admins=False, checks=()),
                protection("docs", reviews=0),
                protection("infra", dismiss=False),
                protection("tools", admins=False),
            ]
        },
        dict(
            zip(repo_ids("api", "web", "docs", "infra", "tools"), [PASS, FAIL, FAIL, FAIL, FAIL], strict=True)
        ),
    ),
    github(
        BRANCHES,
        "min_reviews raises the bar",
        {PROTECTION: [protection("api", reviews=1), protection("web", reviews=2)]},
        {f"{ORG}/api": FAIL, f"{ORG}/web": PASS},
        min_reviews=2,
    ),
    github(BRANCHES, "no repositories is not applicable", {PROTECTION: []}, {SCOPE: NA}),
    github(
        SECRETS,
        "both on passes; either off fails; what the token cannot see is an error unless something is off",
        {
            SECURITY: [
                security("api"),
                security("web", secrets="disabled", push="disabled"),
                security("docs", push="disabled"),
                security("infra", push=None),
                security("tools", secrets=None, push=None),
                security("ops", secrets="disabled", push=None),
            ]
        },
        dict(
            zip(
                repo_ids("api", "web", "docs", "infra", "tools", "ops"),
                [PASS, FAIL, FAIL, ERROR, ERROR, FAIL],
                strict=True,
            )
        ),
    ),
    github(
        OVERDUE,
        "old critical and high alerts fail, young or lower ones pass; alerts off fail, unseen is an error",
        {
            DEPENDABOT: [
                alert("api", 1, "critical", 40),
                alert("api", 2, "high", 10),
                alert("api", 3, "medium", 200),
                alert("api", 4, "high", None),
                alert("api", 5, "low", 400),
                alert("api", 6, "moderate", 1),
                alert("api", 7, "high", 30),
            ],
            SECURITY: [security("api"), security("web", dependabot=False), security("docs", dependabot=None)],
        },
        {
            f"{ORG}/api": PASS,
            f"{ORG}/web": FAIL,
            f"{ORG}/docs": ERROR,
            f"{ORG}/api#1": FAIL,
            f"{ORG}/api#2": PASS,
            f"{ORG}/api#3": PASS,
            f"{ORG}/api#4": FAIL,
            f"{ORG}/api#5": PASS,
            f"{ORG}/api#6": ERROR,
            f"{ORG}/api#7": PASS,
        },
    ),
    github(
        OVERDUE,
        "max_age_days moves the deadline",
        {
            DEPENDABOT: [alert("api", 1, "critical", 40), alert("api", 2, "high", 61)],
            SECURITY: [security("api")],
        },
        {f"{ORG}/api": PASS, f"{ORG}/api#1": PASS, f"{ORG}/api#2": FAIL},
        max_age_days=60,
    ),
    github(
        OVERDUE,
        "no repositories and no alerts is not applicable",
        {DEPENDABOT: [], SECURITY: []},
        {SCOPE: NA},
    ),
    github(
        CODE_OVERDUE,
        "old critical and high alerts fail; young, lower or unrated ones pass; an unknown severity is an error",
        {
            CODE_ALERTS: [
                code_alert("api", 1, "critical", 31),
                code_alert("api", 2, "high", 30),
                code_alert("api", 3, "high", None),
                code_alert("web", 4, "medium", 400),
                code_alert("web", 5, "low", 90),
                code_alert("web", 6, None, 365),
                code_alert("web", 7, "warning", 1),
                code_alert("docs", 8, "critical", 2),
            ]
        },
        {
            f"{ORG}/api#1": FAIL,
            f"{ORG}/api#2": PASS,
            f"{ORG}/api#3": FAIL,
            f"{ORG}/web#4": PASS,
            f"{ORG}/web#5": PASS,
            f"{ORG}/web#6": PASS,
            f"{ORG}/web#7": ERROR,
            f"{ORG}/docs#8": PASS,
        },
    ),
    github(
        CODE_OVERDUE,
        "max_age_days moves the deadline",
        {CODE_ALERTS: [code_alert("api", 1, "critical", 6), code_alert("api", 2, "high", 8)]},
        {f"{ORG}/api#1": PASS, f"{ORG}/api#2": FAIL},
        max_age_days=7,
    ),
    github(CODE_OVERDUE, "no open alerts is not applicable", {CODE_ALERTS: []}, {SCOPE: NA}),
    github(
        CODE,
        "enabled passes, disabled fails, unavailable on the plan is not applicable, unknown is an error",
        {
            SECURITY: [
                security("api"),
                security("web", code="disabled"),
                security("docs", code="unavailable"),
                security("ops", code="mystery"),
            ]
        },
        dict(zip(repo_ids("api", "web", "docs", "ops"), [PASS, FAIL, NA, ERROR], strict=True)),
    ),
    github(
        COLLABORATORS,
        "read and triage pass; write, maintain or admin anywhere fails; an unknown permission is an error",
        {
            OUTSIDE: [
                collaborator("reader", ("api", "read"), ("web", "triage")),
                collaborator("writer", ("api", "read"), ("web", "write")),
                collaborator("maintainer", ("docs", "maintain")),
                collaborator("owner", ("api", "admin"), ("web", "admin")),
                collaborator("nothing"),
                collaborator("odd", ("api", "pull")),
            ]
        },
        {"reader": PASS, "writer": FAIL, "maintainer": FAIL, "owner": FAIL, "nothing": PASS, "odd": ERROR},
    ),
    github(COLLABORATORS, "no outside collaborators is not applicable", {OUTSIDE: []}, {SCOPE: NA}),
    github(
        ADMINS,
        "four owners over a limit of three all fail; members are not judged",
        {MEMBERS: [*(member(f"own{n}", role="admin") for n in range(4)), member("dev")]},
        {f"own{n}": FAIL for n in range(4)},
    ),
    github(
        ADMINS,
        "max_admins raises the limit",
        {MEMBERS: [member(f"own{n}", role="admin") for n in range(4)]},
        {f"own{n}": PASS for n in range(4)},
        max_admins=4,
    ),
    github(
        ADMINS,
        "two owners pass",
        {MEMBERS: [member("own0", role="admin"), member("own1", role="admin"), member("dev")]},
        {"own0": PASS, "own1": PASS},
    ),
    github(
        UNLINKED,
        "linked by SAML email or login alias pass; unknown fail; bots exempt; ambiguous is an error",
        {
            MEMBERS: [
                member("alice-c", email="Alice@Acme.com"),
                member("bob-gh"),
                member("ghost", email="ghost@acme.com"),  # ends in "t": "*[bot]" must not exempt it
                member("nobody"),
                member("dependabot[bot]"),
                member("twin", email="twin@acme.com"),
            ],
            EMPLOYEES: STAFF,
        },
        {
            "alice-c": PASS,
            "bob-gh": PASS,
            "ghost": FAIL,
            "nobody": FAIL,
            "dependabot[bot]": NA,
            "twin": ERROR,
        },
    ),
    github(
        UNLINKED,
        "exempt globs are a parameter; emptying them judges bots too",
        {
            MEMBERS: [
                member("contractor-ci"),
                member("renovate[bot]"),
                member("alice-c", email="alice@acme.com"),
            ],
            EMPLOYEES: STAFF,
        },
        {"contractor-ci": NA, "renovate[bot]": FAIL, "alice-c": PASS},
        exempt=["Contractor-*"],
    ),
    github(
        UNLINKED,
        "an SAML email and a login alias naming two people is ambiguous",
        {MEMBERS: [member("bob-gh", email="alice@acme.com")], EMPLOYEES: STAFF},
        {"bob-gh": ERROR},
    ),
    github(
        LEAVERS,
        "leavers past grace fail, within grace pass, current staff pass, unlinked and ambiguous are left out",
        {
            MEMBERS: [
                member("alice-c", email="alice@acme.com"),
                member("bob-gh"),
                member("carol", email="carol@acme.com"),
                member("dan", email="dan@acme.com"),
                member("erin", email="erin@acme.com"),
                member("ghost", email="ghost@acme.com"),
                member("twin", email="twin@acme.com"),
            ],
            EMPLOYEES: STAFF,
        },
        {"alice-c": PASS, "bob-gh": FAIL, "carol": PASS, "dan": FAIL, "erin": PASS},
    ),
    github(
        LEAVERS,
        "a zero-day grace makes yesterday's leaver fail",
        {MEMBERS: [member("carol", email="carol@acme.com")], EMPLOYEES: STAFF},
        {"carol": FAIL},
        grace_days=0,
    ),
    github(
        LEAVERS,
        "terminated without a date is due at once",
        {
            MEMBERS: [member("x", email="x@acme.com")],
            EMPLOYEES: [employee("E9", "x@acme.com", status="terminated")],
        },
        {"x": FAIL},
    ),
    github(
        LEAVERS,
        "no member linked to anyone is not applicable",
        {MEMBERS: [member("ghost")], EMPLOYEES: STAFF},
        {SCOPE: NA},
    ),
]
