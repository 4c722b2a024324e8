"""The real `annexa` console script against a simulated Okta org and Google Workspace, a local Graph,
moto and an HR export: one small company across every identity system (issue 13).

A joiner, a mover, leavers, a ghost account, ambiguous links and administrators without a second
factor are planted in HR, Entra ID, Okta, Google Workspace and AWS IAM; one `annexa collect` must
find exactly the planted weaknesses, each leaver finding telling the person's timeline across every
system. Then Okta's user listing fails on its second page: every check that needs it errors (its
NCs stay open), and the other systems' leaver findings name what could not be read while keeping
their own verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from sqlalchemy import select

from agent.store import Store
from agent.store.results import results_of
from agent.store.schema import CheckRun
from simulators.google_workspace import WorkspaceServer, WorkspaceWorld
from simulators.okta import Fault, OktaServer, OktaWorld, Policy, Rule, User, factor, role, user_id
from tests.cli import annexa_json
from tests.e2e import TODAY, at, day, judged_on
from tests.graph_server import USER, GraphServer, directory, mfa_policy, user

pytestmark = pytest.mark.slow

TENANT_ID = "0f0e0d0c-0b0a-4909-8807-060504030201"
ENV = {
    "E2E_GRAPH_TOKEN": "eyJ0eXAiOiJKV1QifQ.e2e-identity-graph-token",
    "E2E_OKTA_TOKEN": "00e2eIdentityOktaApiToken-notARealSecret00000",
    "E2E_WORKSPACE_TOKEN": "ya29.e2e-identity-workspace-token",
}
OKTA = "okta:127.0.0.1"  # the org's scope: the host of its URL, without the port
WORKSPACE = "google_workspace:my_customer"
ENTRA = f"entra:{TENANT_ID}"


# --- the company, in HR and in each system --------------------------------------------------------
PEOPLE = [  # employee id, name, work email, status, hired, left (days from today), department
    ("1", "Ada Admin", "ada@acme.com", "active", -800, None, "IT"),
    ("2", "Ben Builder", "ben@acme.com", "active", -700, None, "Engineering"),
    ("3", "Cleo Current", "cleo@acme.com", "active", -600, None, "Engineering"),
    ("4", "Lou Leaver", "lou@acme.com", "terminated", -500, -20, "Engineering"),
    ("5", "Dora Done", "dora@acme.com", "terminated", -900, -60, "Finance"),
    ("6", "Sam Signin", "sam@acme.com", "terminated", -400, -30, "Sales"),
    ("7", "Max Mover", "max.sales@acme.com", "active", -300, None, "Sales"),  # accounts keep max@
    ("8", "Jo Joiner", "jo@acme.com", "active", 7, None, "Engineering"),
    ("9", "Ivy Idle", "ivy@acme.com", "active", -1000, None, "Finance"),
    ("10", "Rae Ramos", "rae@acme.com", "active", -200, None, "Support"),
    ("11", "Ray Reyes", "ray@acme.com", "active", -150, None, "Support"),
    ("12", "Lee Leave", "lee@acme.com", "leave", -365, None, "Finance"),
]


def hr_export(path: Path) -> Path:
    rows = ["employee_id,name,email,status,hire_date,termination_date,department"]
    for eid, name, email, status, hired, left, department in PEOPLE:
        left_on = day(left) if left is not None else ""
        rows.append(f"{eid},{name},{email},{status},{day(hired)},{left_on},{department}")
    path.write_text("\n".join(rows) + "\n")
    return path


OKTA_USERS: list[tuple[str, dict[str, Any]]] = [  # login, User fields; ids user_id(1), user_id(2) ...
    ("ada@acme.com", {"employee_number": "1", "factors": [factor("webauthn", 1)], "last_login": at(-1),
                      "roles": [role("SUPER_ADMIN")]}),
    ("ben@acme.com", {"factors": [factor("email", 2)], "last_login": at(-2),
                      "roles": [role("ORG_ADMIN", number=2)]}),
    ("cleo@acme.com", {"factors": [factor("push", 3)], "last_login": at(-1)}),
    ("lou@acme.com", {"employee_number": "4", "factors": [factor("push", 4)], "last_login": at(-5)}),
    ("dora@acme.com", {"status": "DEPROVISIONED", "status_changed": at(-60), "last_login": at(-61)}),
    ("sam@acme.com", {"status": "DEPROVISIONED", "status_changed": at(-2), "last_login": at(-10)}),
    ("max@acme.com", {"employee_number": "7", "factors": [factor("push", 7)], "last_login": at(-1)}),
    ("jo@acme.com", {"status": "PROVISIONED", "created": at(-1), "activated": None,
                     "status_changed": at(-1)}),
    ("ivy@acme.com", {"factors": [factor("push", 9)], "last_login": at(-200)}),
    ("ray@acme.com", {"email": "rae@acme.com", "factors": [factor("push", 10)], "last_login": at(-3)}),
    ("ghost@acme.com", {"factors": [factor("push", 11)], "last_login": at(-3)}),
    ("svc-backup@acme.com", {"factors": [factor("signed_nonce", 12)], "last_login": at(-1)}),
    ("lee@acme.com", {"status": "SUSPENDED", "status_changed": at(-30), "last_login": at(-31)}),
]  # fmt: skip


def okta_world() -> OktaWorld:
    """Thirteen users, five to a page (three pages); a global session rule not requiring a factor, and
    an authentication policy that does not require 2FA either."""
    world = OktaWorld(token=ENV["E2E_OKTA_TOKEN"], max_limit=5)
    for n, (login, fields) in enumerate(OKTA_USERS, start=1):
        world.add_user(User(user_id(n), login, **fields))
    world.policies = [
        Policy("00pGlobalSession", "Default Policy", "OKTA_SIGN_ON", system=True,
               groups_include=["00gEveryone"],
               rules=[Rule("0prOffice", "Office network", require_factor=False),
                      Rule("0prDefault", "Default Rule", priority=2, system=True, require_factor=True)]),
        Policy("rstDefaultAccess", "Default Policy", "ACCESS_POLICY", system=True,
               rules=[Rule("rulCatchAll", "Catch-all Rule", priority=99, system=True, factor_mode="1FA")]),
    ]  # fmt: skip
    return world


def workspace_world() -> WorkspaceWorld:
    """Twelve users, four to a page; the /Sales organisational unit does not enforce 2SV."""
    w = WorkspaceWorld(customer_id="C01acme00", max_page=4)
    on = {"isEnrolledIn2Sv": True, "isEnforcedIn2Sv": True}
    off = {"suspended": True, "suspensionReason": "ADMIN"}

    def hr(eid: str) -> dict[str, Any]:
        return {"externalIds": [{"type": "organization", "value": eid}]}

    ada = w.add_user("ada@acme.com", isAdmin=True, **on, lastLoginTime=at(-1), **hr("1"))
    ben = w.add_user("ben@acme.com", isDelegatedAdmin=True, isEnforcedIn2Sv=True, lastLoginTime=at(-2))
    w.add_user("cleo@acme.com", **on, lastLoginTime=at(-1))
    w.add_user("lou@acme.com", **on, **off, lastLoginTime=at(-21), **hr("4"))
    w.add_user("dora@acme.com", **on, **off, lastLoginTime=at(-61))
    w.add_user("sam@acme.com", **on, **off, lastLoginTime=at(-10))
    w.add_user("max@acme.com", isEnrolledIn2Sv=True, orgUnitPath="/Sales", lastLoginTime=at(-1), **hr("7"))
    w.add_user("jo@acme.com", isEnforcedIn2Sv=True, creationTime=at(-1))
    w.add_user("ivy@acme.com", **on, lastLoginTime=at(-150))
    w.add_user("team@acme.com", **on, aliases=["rae@acme.com", "ray@acme.com"], lastLoginTime=at(-3))
    w.add_user("ghost@acme.com", isEnrolledIn2Sv=True, orgUnitPath="/Sales", lastLoginTime=at(-3))
    w.add_user("lee@acme.com", **on, lastLoginTime=at(-40))
    roles = w.add_system_roles()
    w.assign(roles["_SEED_ADMIN_ROLE"], ada["id"])
    w.assign(roles["_USER_MANAGEMENT_ADMIN_ROLE"], ben["id"])
    w.grant(ENV["E2E_WORKSPACE_TOKEN"])
    return w


ENTRA_USERS = [  # id, upn, kwargs, MFA registered: the people whose Entra accounts are judged
    ("u-ada", "ada@acme.com", {"employee_id": "1", "last_sign_in": at(-1)}, True),
    ("u-ben", "ben@acme.com", {"last_sign_in": at(-2)}, False),
    ("u-lou", "lou@acme.com", {"employee_id": "4", "last_sign_in": at(-22)}, True),
    ("u-dora", "dora@acme.com", {"enabled": False, "last_sign_in": at(-61)}, True),
    ("u-sam", "sam@acme.com", {"enabled": False, "last_sign_in": at(-31)}, True),
    ("u-max", "max@acme.com", {"employee_id": "7", "last_sign_in": at(-1)}, True),
]


def graph_server() -> GraphServer:
    data = directory(
        [user(uid, upn, **kw) for uid, upn, kw, _ in ENTRA_USERS],
        mfa={uid: mfa for uid, _, _, mfa in ENTRA_USERS},
        policy=mfa_policy("ca-1"),
        admin_role="r-ga",
        admins=[(USER, "u-ada"), (USER, "u-ben")],
    )
    return GraphServer(data, token=ENV["E2E_GRAPH_TOKEN"])


def seed_iam(account_id: str) -> dict[str, str]:
    iam = boto3.client("iam")
    for name in ("lou@acme.com", "dora@acme.com", "cleo@acme.com", "deploy-bot"):
        iam.create_user(UserName=name)
    for name in ("lou@acme.com", "cleo@acme.com", "deploy-bot"):
        iam.create_access_key(UserName=name)
    return {n: f"arn:aws:iam::{account_id}:user/{n}" for n in ("lou@acme.com", "dora@acme.com")}


# --- what must come out ---------------------------------------------------------------------------
OKTA_USERS_CHECKS = (  # every check that needs okta.users
    "okta.admins.count",
    "okta.admins.without_mfa",
    "okta.mfa.user_not_enrolled",
    "okta.users.inactive",
    "people.leaver.okta_account_active",
    "people.leaver.okta_sign_in_after_leaving",
    "people.okta.account_without_employee",
)
OKTA_IDS = {login.partition("@")[0]: user_id(n) for n, (login, _) in enumerate(OKTA_USERS, start=1)}


def expected(ws: dict[str, str], iam: dict[str, str]) -> dict[str, set[str]]:
    """Every Okta, Workspace and people check, with the resources failing it (none: it passes)."""
    okta = OKTA_IDS
    return {
        "okta.admins.count": set(),
        "okta.admins.without_mfa": {okta["ben"]},
        "okta.mfa.policy_enforced": {f"{OKTA}:mfa-enforcement"},
        "okta.mfa.user_not_enrolled": {okta["ben"]},  # Jo, not activated yet, enrolls at activation
        "okta.users.inactive": {okta["ivy"]},
        "google_workspace.admins.count": set(),
        "google_workspace.admins.without_mfa": {ws["ben"]},
        "google_workspace.mfa.enforced": {f"{WORKSPACE}:2sv-enforcement"},
        "google_workspace.mfa.user_not_enrolled": {ws["ben"], ws["jo"]},
        "google_workspace.users.inactive": {ws["ivy"]},
        "people.leaver.okta_account_active": {okta["lou"]},
        "people.leaver.okta_sign_in_after_leaving": {okta["lou"], okta["sam"]},
        "people.okta.account_without_employee": {okta["ray"], okta["ghost"]},
        "people.leaver.google_workspace_account_active": set(),
        "people.leaver.google_workspace_sign_in_after_leaving": {ws["sam"]},
        "people.google_workspace.account_without_employee": {ws["team"], ws["ghost"]},
        "people.leaver.entra_account_enabled": {"u-lou"},
        "people.leaver.entra_sign_in_after_leaving": set(),
        "people.entra.account_without_employee": set(),
        "people.leaver.aws_iam_user": {iam["lou@acme.com"]},
    }


@dataclass(frozen=True)
class Told:
    """Leavers' timelines as findings tell them, ages counted from the day the product judged on."""

    shift: int  # days from TODAY to the day judged on
    account_id: str
    unknown: str = ""  # what could not be read (Okta): its entries give way to this

    def ago(self, offset: int) -> str:
        return f"{day(offset)} ({-offset + self.shift} days ago)"

    def _told(self, left: str, entries: dict[str, str], first: str, late: str = "") -> str:
        """`left`, then the `first` system's entry and every other system's, in the product's order."""
        order = [first, *(s for s in entries if s != first)]
        shown = [entries[s] for s in order if not (self.unknown and s == "okta")]
        return "; ".join([left, *shown, *filter(None, [self.unknown, late])])

    def lou(self, first: str, *, late: bool = True) -> str:
        entries = {
            "okta": f"Okta lou@acme.com ACTIVE, last login {self.ago(-5)}, 15 days after termination",
            "google_workspace": "Google Workspace lou@acme.com suspended (ADMIN), "
            f"last login {self.ago(-21)}",
            "entra": f"Entra ID lou@acme.com enabled, last sign-in {self.ago(-22)}",
            "aws_iam": f"AWS IAM user lou@acme.com ({self.account_id}) still has access key 1, never used",
        }
        overdue = f"{19 + self.shift} day(s) past the 1-day grace period" if late else ""
        return self._told(f"Lou Leaver (4): terminated {self.ago(-20)}", entries, first, overdue)

    def sam(self) -> str:
        entries = {
            "okta": f"Okta sam@acme.com DEPROVISIONED {day(-2)}, last login {self.ago(-10)}, "
            "20 days after termination",
            "google_workspace": "Google Workspace sam@acme.com suspended (ADMIN), "
            f"last login {self.ago(-10)}, 20 days after termination",
            "entra": f"Entra ID sam@acme.com disabled, last sign-in {self.ago(-31)}",
        }
        return self._told(f"Sam Signin (6): terminated {self.ago(-30)}", entries, "google_workspace")


AMBIGUOUS = (
    "{} links to several employees (ambiguous: Rae Ramos (10), Ray Reyes (11)): "
    "fix the HR emails or add an alias"
)
NO_EMPLOYEE = "{} is active but belongs to no employee in HR (no matching employee id, email or alias)"
MOVER = "max@acme.com belongs to Max Mover (7), linked by employee id"
Finding = tuple[str, str]  # (check id, resource id)


def leaver_findings(told: Told, ws: dict[str, str], iam: dict[str, str]) -> dict[Finding, tuple[str, str]]:
    """Lou's finding in each system but Okta (and Sam's sign-in to Workspace): status and timeline."""
    leaver = "people.leaver."
    return {
        (f"{leaver}google_workspace_account_active", ws["lou"]): (
            "pass", told.lou("google_workspace", late=False)),
        (f"{leaver}google_workspace_sign_in_after_leaving", ws["sam"]): ("fail", told.sam()),
        (f"{leaver}entra_account_enabled", "u-lou"): ("fail", told.lou("entra")),
        (f"{leaver}aws_iam_user", iam["lou@acme.com"]): ("fail", told.lou("aws_iam")),
    }  # fmt: skip


def first_findings(told: Told, ws: dict[str, str], iam: dict[str, str]) -> dict[Finding, tuple[str, str]]:
    """The leaver findings, Okta's too; who links to whom; the sign-in policies' verdicts."""
    okta, orphan_okta = OKTA_IDS, "people.okta.account_without_employee"
    orphan_ws = "people.google_workspace.account_without_employee"
    return leaver_findings(told, ws, iam) | {
        ("people.leaver.okta_account_active", okta["lou"]): ("fail", told.lou("okta")),
        ("people.leaver.okta_sign_in_after_leaving", okta["lou"]): ("fail", told.lou("okta", late=False)),
        (orphan_okta, okta["ray"]): ("fail", AMBIGUOUS.format("ray@acme.com")),
        (orphan_okta, okta["ghost"]): ("fail", NO_EMPLOYEE.format("ghost@acme.com")),
        (orphan_okta, okta["max"]): ("pass", MOVER),
        (orphan_okta, okta["svc-backup"]): (
            "not_applicable", "svc-backup@acme.com is exempted by exempt_accounts"),
        (orphan_ws, ws["team"]): ("fail", AMBIGUOUS.format("team@acme.com")),
        (orphan_ws, ws["ghost"]): ("fail", NO_EMPLOYEE.format("ghost@acme.com")),
        (orphan_ws, ws["max"]): ("pass", MOVER),
        ("people.entra.account_without_employee", "u-max"): ("pass", MOVER),
        ("okta.mfa.policy_enforced", f"{OKTA}:mfa-enforcement"): ("fail",
            "MFA not enforced: sign-on rules allowing sign-in without a factor: 'Default Policy' rule "
            "'Office network'; authentication policy rules allowing access without 2FA: 'Default Policy' "
            "rule 'Catch-all Rule' (1FA)"),
        ("google_workspace.mfa.enforced", f"{WORKSPACE}:2sv-enforcement"): ("fail",
            "2-step verification is not enforced for 2 of 9 active user(s): /Sales (2)"),
    }  # fmt: skip


# --- running it -------------------------------------------------------------------------------------
SOURCES = ("okta.*", "google_workspace.*", "entra.*", "hr.*", "aws.iam.credential_report")
PREFIXES = ("okta.", "google_workspace.", "people.")


def write_config(path: Path, store: Path, *, graph: str, okta: str, workspace: str, hr: Path) -> None:
    path.write_text(f"""
[store]
url = "sqlite:///{store}"

[aws]
enabled = true
max_attempts = 1

[entra]
enabled = true
tenant_id = "{TENANT_ID}"
access_token_env = "E2E_GRAPH_TOKEN"
graph_url = "{graph}"

[okta]
enabled = true
org_url = "{okta}"
api_token_env = "E2E_OKTA_TOKEN"
max_attempts = 2
max_retry_wait = 1

[google_workspace]
enabled = true
access_token_env = "E2E_WORKSPACE_TOKEN"
api_endpoint = "{workspace}"

[hr]
enabled = true
provider = "file"
path = "{hr}"

[checks]
# The HR people controls need columns this export does not carry: test_people_e2e judges them.
disabled = ["hr.people.screening_before_start", "hr.people.terms_signed", "hr.people.nda_signed",
            "hr.people.training_overdue"]

[checks.params."people.okta.account_without_employee"]
exempt_accounts = ["svc-*"]
""")


def collect(config: Path) -> Any:
    return annexa_json("collect", "--config", str(config), *(f"--source={source}" for source in SOURCES))


def outcomes(doc: dict[str, Any]) -> dict[str, str]:
    return {c["check_id"]: c["outcome"] for c in doc["checks"] if c["check_id"].startswith(PREFIXES)}


def open_ncs(config: Path) -> dict[str, dict[str, Any]]:
    ncs = annexa_json("nc", "list", "--config", str(config))
    return {nc["check_id"]: nc for nc in ncs if nc["check_id"].startswith(PREFIXES)}


def failing(ncs: dict[str, dict[str, Any]]) -> dict[str, tuple[str, set[str]]]:
    return {c: (nc["state"], set(nc["failing_resources"])) for c, nc in ncs.items()}


def results(store: Store, check_id: str) -> dict[str, tuple[str, str]]:
    """Each resource's status and reason in the check's latest evaluation, read from the store."""
    with store.read() as s:
        latest = s.execute(
            select(CheckRun).where(CheckRun.check_id == check_id).order_by(CheckRun.id.desc()).limit(1)
        ).scalar_one()
    return {r.resource_id: (r.status, r.reason) for r in results_of(store, latest.result_set)}


def findings(store: Store, wanted: dict[Finding, Any]) -> dict[Finding, tuple[str, str] | None]:
    """The status and reason the store holds for each (check, resource) of `wanted`."""
    latest = {check_id: results(store, check_id) for check_id, _ in wanted}
    return {(c, r): latest[c].get(r) for c, r in wanted}


def test_one_company_across_every_identity_system(aws, tmp_path, monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    account_id = boto3.client("sts").get_caller_identity()["Account"]
    iam = seed_iam(account_id)
    config, store = tmp_path / "annexa.toml", Store(f"sqlite:///{tmp_path / 'store.db'}")
    org, customer = okta_world(), workspace_world()
    ws = {email.partition("@")[0]: str(u["id"]) for email, u in customer.by_email.items()}
    want = expected(ws, iam)
    verdicts = {check_id: "fail" if resources else "pass" for check_id, resources in want.items()}
    with graph_server() as graph, OktaServer(org) as okta, WorkspaceServer(customer) as workspace:
        write_config(config, tmp_path / "store.db", graph=graph.url, okta=okta.url, workspace=workspace.url,
                     hr=hr_export(tmp_path / "people.csv"))  # fmt: skip
        doc = collect(config)
        assert doc["run"]["status"] == "complete" and doc["observations"] == {"ok": 11, "error": 0}
        assert okta.hits["GET /api/v1/users"] == 3  # every status, five to a page
        assert okta.hits["GET /api/v1/users/{id}/factors"] == 11  # not the two deprovisioned users'
        assert workspace.hits["GET /admin/directory/v1/users"] == 3

        assert outcomes(doc) == verdicts
        ncs = open_ncs(config)
        assert failing(ncs) == {c: ("draft", resources) for c, resources in want.items() if resources}
        leaver_ncs = (
            "people.leaver.okta_account_active",
            "people.leaver.google_workspace_sign_in_after_leaving",
            "people.leaver.entra_account_enabled",
            "people.leaver.aws_iam_user",
        )
        assert [ncs[c]["scope"] for c in leaver_ncs] == [OKTA, WORKSPACE, ENTRA, f"aws:{account_id}"]

        told = Told((judged_on(store) - TODAY).days, account_id)
        shown = annexa_json("nc", "show", ncs[leaver_ncs[0]]["id"], "--config", str(config))
        assert shown["reasons"] == {OKTA_IDS["lou"]: told.lou("okta")}
        first = first_findings(told, ws, iam)
        assert findings(store, first) == first

        # Okta's user listing now fails on its second page (retried once): the checks that need it
        # error, their NCs stay open, and the other systems' findings say what could not be read.
        org.faults[r"^GET /api/v1/users\?.*after="] = Fault(503, "Service Unavailable")
        again = collect(config)
        assert again["run"]["status"] == "partial" and again["observations"] == {"ok": 10, "error": 1}
        assert okta.hits["GET /api/v1/users"] == 3 + 3  # the first page, then the second one twice
        assert outcomes(again) == verdicts | dict.fromkeys(OKTA_USERS_CHECKS, "error")
        assert failing(open_ncs(config)) == failing(ncs)

        failure = (
            f"okta.users at {OKTA} could not be collected: "
            "GET /api/v1/users: HTTP 503 E0000009: Service Unavailable after 2 attempts"
        )
        assert results(store, "people.leaver.okta_account_active") == {
            OKTA_IDS[who]: ("error", failure) for who in ("lou", "dora", "sam")
        }
        told = Told((judged_on(store) - TODAY).days, account_id, unknown=f"not known: {failure}")
        second = leaver_findings(told, ws, iam)
        assert findings(store, second) == second
