"""Scenarios for the GCP checks, with records shaped exactly as the GCP and HR collectors emit them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from agent.plugin.model import Record, Status
from tests.scenarios import ERROR, FAIL, NA, NOW, PASS, Scenario

POLICIES = "gcp.iam.policies"
KEYS = "gcp.iam.service_account_keys"
BUCKETS = "gcp.storage.bucket_policies"
EMPLOYEES = "hr.employees"

ORG = "organizations/123"
FOLDER = "folders/456"
PROJECT = "projects/acme-prod"


def bind(role: str, *members: str, condition: str | None = None) -> dict[str, Any]:
    cond = {"title": condition, "expression": "request.time < timestamp('2027-01-01T00:00:00Z')"}
    return {"role": role, "members": sorted(members), "condition": cond if condition else None}


def policy(name: str, *bindings: dict[str, Any], below: int = 12) -> Record:
    kind = {"organizations": "organization", "folders": "folder", "projects": "project"}[
        name.split("/", 1)[0]
    ]
    ancestors = {"organization": [], "folder": [ORG], "project": [FOLDER, ORG]}[kind]
    data: dict[str, Any] = {
        "resource": name,
        "kind": kind,
        "display_name": {"organization": "acme.com", "folder": "Engineering"}.get(kind, name.split("/")[1]),
        "ancestors": ancestors,
        "bindings": sorted(bindings, key=lambda b: b["role"]),
    }
    if kind != "project":
        data["projects_below"] = below
    return Record(name, data)


def on_policies(check_id: str, name: str, records: list[Record], expected: dict[str, Status], **params: Any):
    return Scenario(check_id, name, {POLICIES: records}, expected, params=params, scope=f"gcp:{ORG}")


def unreadable(name: str) -> Record:
    """A policy the collector could not read: its place in the tree and the error."""
    data = {k: v for k, v in policy(name).data.items() if k != "bindings"}
    return Record(name, data | {"error": f"access denied: resourcemanager.projects.getIamPolicy {name}"})


def project_error(project_id: str) -> Record:
    """A project whose deep inventory could not be listed."""
    return Record(
        f"projects/{project_id}",
        {"project": project_id, "error": "HTTP 429: Quota exceeded (after 6 attempts)"},
    )


def ago(days: int) -> str:
    return (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def sa(email: str, *keys: dict[str, Any], disabled: bool = False) -> Record:
    name = f"{PROJECT}/serviceAccounts/{email}"
    return Record(name, {"email": email, "project": "acme-prod", "disabled": disabled, "keys": list(keys)})


def key(key_id: str, created: str | None, *, expires: str = "9999-12-31T23:59:59Z", disabled: bool = False):
    return {"id": key_id, "created": created, "expires": expires, "disabled": disabled}


def bucket(name: str, *bindings: dict[str, Any], prevention: str = "inherited") -> Record:
    data = {
        "bucket": name,
        "project": "acme-prod",
        "public_access_prevention": prevention,
        "uniform_access": True,
        "bindings": list(bindings),
    }
    return Record(f"projects/_/buckets/{name}", data)


def employee(eid: str, email: str, status: str = "active", terminated: str | None = None) -> Record:
    data = {
        "employee_id": eid,
        "email": email,
        "name": f"Person {eid}",
        "status": status,
        "hire_date": "2020-01-01",
        "termination_date": terminated,
        "manager_email": None,
        "department": "Engineering",
        "aliases": [],
    }
    return Record(f"hr:{eid}", data)


CI = "ci@acme-prod.iam.gserviceaccount.com"
COMPUTE = "123456789-compute@developer.gserviceaccount.com"

SCENARIOS: list[Scenario] = [
    # --- public members -----------------------------------------------------------------------------
    on_policies(
        "gcp.iam.public_members",
        "public members anywhere in the hierarchy fail the policy that sets them",
        [
            policy(ORG, bind("roles/viewer", "group:staff@acme.com")),
            policy(FOLDER, bind("roles/browser", "allAuthenticatedUsers", condition="until 2027")),
            policy(PROJECT, bind("roles/run.invoker", "allUsers"), bind("roles/owner", "user:a@acme.com")),
            policy("projects/acme-dev"),
            unreadable("projects/acme-locked"),
        ],
        {ORG: PASS, FOLDER: FAIL, PROJECT: FAIL, "projects/acme-dev": PASS, "projects/acme-locked": ERROR},
    ),
    # --- basic roles to users -------------------------------------------------------------------------
    on_policies(
        "gcp.iam.basic_roles_to_users",
        "owner or editor held by a user fails; groups, service accounts and viewer do not",
        [
            policy(ORG, bind("roles/owner", "group:admins@acme.com")),
            policy(FOLDER, bind("roles/editor", "deleted:user:old@acme.com?uid=123")),
            policy(PROJECT, bind("roles/owner", "user:a@acme.com"), bind("roles/viewer", "user:b@acme.com")),
            policy("projects/acme-dev", bind("roles/editor", f"serviceAccount:{CI}")),
        ],
        {ORG: PASS, FOLDER: FAIL, PROJECT: FAIL, "projects/acme-dev": PASS},
    ),
    on_policies(
        "gcp.iam.basic_roles_to_users",
        "the roles parameter widens what counts",
        [policy(PROJECT, bind("roles/viewer", "user:b@acme.com"))],
        {PROJECT: FAIL},
        roles=["roles/owner", "roles/editor", "roles/viewer"],
    ),
    # --- external members ---------------------------------------------------------------------------
    on_policies(
        "gcp.iam.external_members",
        "personal, look-alike and partner domains fail; subdomains and service accounts pass",
        [
            policy(ORG, bind("roles/viewer", "group:staff@acme.com", "user:x@eu.acme.com")),
            policy(FOLDER, bind("roles/viewer", "domain:partner.example")),
            policy(PROJECT, bind("roles/viewer", "user:eve@gmail.com", "user:a@acme.com")),
            policy("projects/acme-dev", bind("roles/viewer", "user:mallory@notacme.com")),
            policy(
                "projects/acme-ci",
                bind("roles/editor", "serviceAccount:x@other-proj.iam.gserviceaccount.com"),
            ),
        ],
        {ORG: PASS, FOLDER: FAIL, PROJECT: FAIL, "projects/acme-dev": FAIL, "projects/acme-ci": PASS},
        company_domains=["acme.com", "ACME.co.uk"],
    ),
    on_policies(
        "gcp.iam.external_members",
        "an approved supplier domain passes",
        [policy(FOLDER, bind("roles/viewer", "domain:partner.example"))],
        {FOLDER: PASS},
        company_domains=["acme.com", "partner.example"],
    ),
    on_policies(
        "gcp.iam.external_members",
        "without company domains the check cannot judge",
        [policy(PROJECT, bind("roles/viewer", "user:a@acme.com")), unreadable("projects/acme-locked")],
        {PROJECT: ERROR, "projects/acme-locked": ERROR},
    ),
    # --- service accounts with basic roles ---------------------------------------------------------
    on_policies(
        "gcp.iam.service_account_basic_roles",
        "the default compute account as editor fails; predefined roles pass",
        [
            policy(PROJECT, bind("roles/editor", f"serviceAccount:{COMPUTE}")),
            unreadable("projects/acme-locked"),
            policy("projects/acme-dev", bind("roles/storage.admin", f"serviceAccount:{CI}")),
            policy(FOLDER, bind("roles/owner", "user:a@acme.com")),
        ],
        {PROJECT: FAIL, "projects/acme-dev": PASS, FOLDER: PASS, "projects/acme-locked": ERROR},
    ),
    # --- inherited basic roles ------------------------------------------------------------------------
    on_policies(
        "gcp.iam.inherited_basic_roles",
        "basic roles on the organisation or a folder fail there; projects are not judged",
        [
            policy(ORG, bind("roles/viewer", "group:staff@acme.com")),
            policy(FOLDER, bind("roles/resourcemanager.folderViewer", "group:eng@acme.com")),
            policy(PROJECT, bind("roles/owner", "user:a@acme.com")),
            unreadable("folders/999"),
        ],
        {ORG: FAIL, FOLDER: PASS, PROJECT: NA, "folders/999": ERROR},
    ),
    # --- service-account key age ---------------------------------------------------------------------
    Scenario(
        "gcp.iam.service_account_key_age",
        "old or undated usable keys fail; disabled, expired and absent keys are not judged",
        {
            KEYS: [
                sa("old@acme-prod.iam.gserviceaccount.com", key("k1", ago(200)), key("k2", ago(10))),
                sa("fresh@acme-prod.iam.gserviceaccount.com", key("k3", ago(89))),
                sa("undated@acme-prod.iam.gserviceaccount.com", key("k4", None)),
                sa("off@acme-prod.iam.gserviceaccount.com", key("k5", ago(400), disabled=True)),
                sa("expired@acme-prod.iam.gserviceaccount.com", key("k6", ago(400), expires=ago(1))),
                sa("disabled@acme-prod.iam.gserviceaccount.com", key("k7", ago(400)), disabled=True),
                sa(CI),
                project_error("acme-locked"),
            ]
        },
        {
            f"{PROJECT}/serviceAccounts/old@acme-prod.iam.gserviceaccount.com": FAIL,
            f"{PROJECT}/serviceAccounts/fresh@acme-prod.iam.gserviceaccount.com": PASS,
            f"{PROJECT}/serviceAccounts/undated@acme-prod.iam.gserviceaccount.com": FAIL,
            f"{PROJECT}/serviceAccounts/off@acme-prod.iam.gserviceaccount.com": NA,
            f"{PROJECT}/serviceAccounts/expired@acme-prod.iam.gserviceaccount.com": NA,
            f"{PROJECT}/serviceAccounts/disabled@acme-prod.iam.gserviceaccount.com": NA,
            f"{PROJECT}/serviceAccounts/{CI}": NA,
            "projects/acme-locked": ERROR,
        },
        scope=f"gcp:{ORG}",
    ),
    Scenario(
        "gcp.iam.service_account_key_age",
        "a stricter limit fails a younger key",
        {KEYS: [sa(CI, key("k1", ago(40)))]},
        {f"{PROJECT}/serviceAccounts/{CI}": FAIL},
        params={"max_age_days": 30},
        scope=f"gcp:{ORG}",
    ),
    Scenario(
        "gcp.iam.service_account_key_age",
        "a project without service accounts says so",
        {KEYS: []},
        {ORG: NA},
        scope=f"gcp:{ORG}",
    ),
    # --- public buckets -------------------------------------------------------------------------------
    Scenario(
        "gcp.storage.public_buckets",
        "public members fail unless public access prevention is enforced",
        {
            BUCKETS: [
                bucket("acme-web", bind("roles/storage.objectViewer", "allUsers")),
                bucket("acme-shared", bind("roles/storage.objectViewer", "allAuthenticatedUsers")),
                bucket("acme-blocked", bind("roles/storage.objectViewer", "allUsers"), prevention="enforced"),
                bucket("acme-data", bind("roles/storage.objectAdmin", f"serviceAccount:{CI}")),
                project_error("acme-locked"),
            ]
        },
        {
            "projects/_/buckets/acme-web": FAIL,
            "projects/_/buckets/acme-shared": FAIL,
            "projects/_/buckets/acme-blocked": PASS,
            "projects/_/buckets/acme-data": PASS,
            "projects/acme-locked": ERROR,
        },
        scope=f"gcp:{ORG}",
    ),
    Scenario(
        "gcp.storage.public_buckets",
        "a project without buckets says so",
        {BUCKETS: []},
        {ORG: NA},
        scope=f"gcp:{ORG}",
    ),
    # --- leavers ----------------------------------------------------------------------------------
    Scenario(
        "gcp.iam.leaver_bindings",
        "leavers by status or past termination date fail; current staff and strangers pass",
        {
            POLICIES: [
                policy(ORG, bind("roles/viewer", "user:Dan@acme.com")),
                policy(FOLDER, bind("roles/editor", "user:late@acme.com")),
                policy(PROJECT, bind("roles/owner", "user:a@acme.com", "user:contractor@gmail.com")),
                policy("projects/acme-dev", bind("roles/viewer", "group:dan@acme.com")),
                policy("projects/acme-rehire", bind("roles/viewer", "user:back@acme.com")),
                unreadable("projects/acme-locked"),
            ],
            EMPLOYEES: [
                employee("E1", "a@acme.com"),
                employee("E2", "dan@acme.com", "terminated", "2026-09-30"),
                employee("E3", "late@acme.com", "active", "2026-10-15"),
                employee("E4", "back@acme.com", "terminated", "2024-01-31"),
                employee("E5", "back@acme.com"),
            ],
        },
        {
            ORG: FAIL,
            FOLDER: FAIL,
            PROJECT: PASS,
            "projects/acme-dev": PASS,
            "projects/acme-rehire": PASS,
            "projects/acme-locked": ERROR,
        },
        scope=f"gcp:{ORG}",
    ),
    Scenario(
        "gcp.iam.leaver_bindings",
        "an address shared by two current employees cannot be judged",
        {
            POLICIES: [policy(PROJECT, bind("roles/viewer", "user:team@acme.com"))],
            EMPLOYEES: [employee("E1", "team@acme.com"), employee("E2", "team@acme.com")],
        },
        {PROJECT: ERROR},
        scope=f"gcp:{ORG}",
    ),
]
