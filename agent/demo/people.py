"""The demo's people: an HR export and in-process simulated Okta and Google Workspace, so a newcomer
sees a leaver found across systems in the first minute.

The cast is the demo's AWS IAM users (`organisation.DEMO_USERS`) as employees, plus Finn Berg, who
left a month ago and is still active in Okta (signing in since), suspended in Google Workspace and
still holds an AWS access key; and Jonas Weber, who left and was offboarded everywhere. The agent
signs in as it would in production: Okta through a service app's private key, Workspace through a
service account's key file, both written into the demo directory and read by reference.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from agent.private_files import create_private
from simulators.google_workspace import WorkspaceServer, WorkspaceWorld
from simulators.okta import CLIENT_ID, OktaServer, OktaWorld, User, default_policies, factor, role

DOMAIN = "acme.example"
ADMIN = f"alice.nguyen@{DOMAIN}"
# What the demo shows first, by check id: a leaver found across systems.
SPOTLIGHT = {"people.leaver.okta_account_active": "A leaver found across systems"}


@dataclass(frozen=True)
class Person:
    """One employee, and what each identity provider holds of them. Days are before the demo runs."""

    employee_id: str
    name: str
    department: str
    hired: int
    left: int | None = None
    okta: str = "ACTIVE"  # the Okta status, "" when the person has no Okta account
    okta_login: int | None = 1  # days since the last Okta login
    okta_mfa: bool = True
    workspace: str = "active"  # "active", "suspended" or ""
    two_sv: bool = True
    nda: bool = True  # HR holds the signed NDA
    terms: bool = True  # HR holds the signed terms of employment

    @property
    def login(self) -> str:
        return self.name.lower().replace(" ", ".")

    @property
    def email(self) -> str:
        return f"{self.login}@{DOMAIN}"


CAST = (
    Person("E001", "Alice Nguyen", "Platform", 720),
    Person("E002", "Ben Okafor", "Engineering", 540, okta_mfa=False),
    Person("E003", "Carla Mendes", "Engineering", 400, two_sv=False),
    Person("E004", "David Kim", "Finance", 365),
    Person("E005", "Emma Schulz", "Finance", 600, okta_login=140),
    Person("E006", "Farid Haddad", "Engineering", 300),
    Person("E007", "Grace Liu", "Engineering", 250, nda=False),
    Person("E008", "Hiro Tanaka", "Engineering", 200),
    Person("E009", "Isabel Rossi", "Finance", 20, okta_login=None),
    Person("E010", "Finn Berg", "Engineering", 500, left=30, okta_login=4, workspace="suspended"),
    Person("E011", "Jonas Weber", "Sales", 900, left=60, okta="DEPROVISIONED", okta_login=61, workspace="suspended"),
)  # fmt: skip
# An Okta account nobody in HR explains.
GHOST = f"contractor.temp@{DOMAIN}"


def _day(now: datetime, days: int) -> str:
    return (now - timedelta(days=days)).date().isoformat()


def _stamp(now: datetime, days: int | None) -> str | None:
    if days is None:
        return None
    return (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def write_hr_export(path: Path, now: datetime, cast: Sequence[Person] = CAST) -> None:
    """The HR system's export, as a CSV the `[hr] provider = "file"` collector reads."""
    fields = (
        "employee_id", "email", "name", "status", "hire_date", "termination_date", "department",
        "screening_completed", "terms_signed", "nda_signed", "training_completed",
    )  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for p in cast:
            writer.writerow({
                "employee_id": p.employee_id,
                "email": p.email,
                "name": p.name,
                "status": "terminated" if p.left else "active",
                "hire_date": _day(now, p.hired),
                "termination_date": _day(now, p.left) if p.left else "",
                "department": p.department,
                "screening_completed": _day(now, p.hired + 10),
                "terms_signed": str(p.terms).lower(),
                "nda_signed": str(p.nda).lower(),
                "training_completed": _day(now, 400 if p.employee_id == "E006" else 30),  # Farid's is overdue
            })  # fmt: skip


def okta_world(now: datetime, cast: Sequence[Person] = CAST) -> OktaWorld:
    world = OktaWorld(token="")  # the service app's tokens only
    for n, p in enumerate(cast, start=1):
        if not p.okta:
            continue
        factors = [factor("push", n)] if p.okta_mfa and p.okta != "DEPROVISIONED" else []
        changed = _stamp(now, p.left - 2) if p.okta == "DEPROVISIONED" and p.left else _stamp(now, p.hired)
        world.add_user(User(
            f"00u{n:017d}", p.email, p.okta, employee_number=p.employee_id,
            first_name=p.name.split()[0], last_name=p.name.split()[-1], created=_stamp(now, p.hired) or "",
            activated=_stamp(now, p.hired), status_changed=changed, last_login=_stamp(now, p.okta_login),
            factors=factors,
        ))  # fmt: skip
    world.add_user(
        User("00u99999999999999999", GHOST, last_login=_stamp(now, 3), factors=[factor("sms", 99)])
    )
    world.grant("00u00000000000000001", role("SUPER_ADMIN"))
    world.policies = default_policies()
    return world


def workspace_world(now: datetime, cast: Sequence[Person] = CAST) -> WorkspaceWorld:
    world = WorkspaceWorld()
    roles = world.add_system_roles()
    for p in cast:
        if not p.workspace:
            continue
        user = world.add_user(
            p.email,
            externalIds=[{"type": "organization", "value": p.employee_id}],
            suspended=p.workspace == "suspended",
            **({"suspensionReason": "ADMIN"} if p.workspace == "suspended" else {}),
            isAdmin=p.email == ADMIN,
            isEnrolledIn2Sv=p.two_sv,
            isEnforcedIn2Sv=p.two_sv,
            lastLoginTime=_stamp(now, p.left + 1 if p.left else 1),
            creationTime=_stamp(now, p.hired),
        )
        if p.email == ADMIN:
            world.assign(roles["_SEED_ADMIN_ROLE"], user["id"])
    world.add_user(GHOST, lastLoginTime=_stamp(now, 3), creationTime=_stamp(now, 40))
    return world


def _okta_key(path: Path) -> rsa.RSAPublicKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with create_private(path) as fh:
        fh.write(pem)
    return key.public_key()


def _write_json(path: Path, document: dict[str, Any]) -> None:
    with create_private(path) as fh:
        fh.write(json.dumps(document, indent=2).encode("utf-8"))


class PeopleSystems:
    """The demo's running Okta and Workspace and its HR export, shown as they stand on a given day."""

    def __init__(self, directory: Path, okta: OktaServer, workspace: WorkspaceServer, sections: str) -> None:
        self.hr_path = directory / "people.csv"
        self.okta = okta
        self.workspace = workspace
        self.sections = sections  # the configuration sections that point the agent at them
        self._okta_app = okta.world.apps[CLIENT_ID]

    def show(self, now: datetime, cast: Sequence[Person] = CAST) -> None:
        """Every system as `cast` stands at `now`: the days in the cast count back from it. The
        servers and the agent's credentials stay; only what the systems hold is replaced."""
        write_hr_export(self.hr_path, now, cast)
        okta = okta_world(now, cast)
        okta.apps[CLIENT_ID] = self._okta_app
        self.okta.world = okta
        workspace = workspace_world(now, cast)
        workspace.service_accounts = self.workspace.world.service_accounts
        workspace.tokens = self.workspace.world.tokens
        self.workspace.world = workspace


@contextmanager
def people_servers(directory: Path, now: datetime | None = None) -> Iterator[PeopleSystems]:
    """Serve the demo's Okta and Workspace, write their credentials and the HR export into
    `directory`, and yield them with the configuration sections that point the agent at them."""
    now = now or datetime.now(UTC)
    hr_path = directory / "people.csv"
    write_hr_export(hr_path, now)
    okta = okta_world(now)
    okta.add_app(CLIENT_ID, _okta_key(directory / "okta-service-app.pem"))
    with ExitStack() as stack:
        okta_server = stack.enter_context(OktaServer(okta))
        workspace = stack.enter_context(WorkspaceServer(workspace_world(now)))
        key_file = directory / "workspace-service-account.json"
        _write_json(key_file, workspace.new_service_account(f"annexa-reader@annexa-demo.iam.{DOMAIN}"))
        aliases = "\n".join(f'"{p.login}" = "{p.employee_id}"' for p in CAST)
        sections = (
            f'[hr]\nenabled = true\nprovider = "file"\npath = {json.dumps(str(hr_path.resolve()))}\n\n'
            f"[hr.aliases]  # the AWS IAM user names\n{aliases}\n\n"
            f"[okta]\nenabled = true\norg_url = {json.dumps(okta_server.url)}\nclient_id = {json.dumps(CLIENT_ID)}\n"
            f"private_key_file = {json.dumps(str((directory / 'okta-service-app.pem').resolve()))}\n\n"
            f"[google_workspace]\nenabled = true\napi_endpoint = {json.dumps(workspace.url)}\n"
            f"credentials_file = {json.dumps(str(key_file.resolve()))}\nadmin_email = {json.dumps(ADMIN)}\n\n"
        )
        yield PeopleSystems(directory, okta_server, workspace, sections)
