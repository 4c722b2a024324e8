"""The company bench/identity.py collects from: one person per index, seeded the same way in HR (a
CSV export), Okta, Google Workspace and Entra ID, each system served by its simulator in a child
process of its own. Run on its own, it serves one system's share in the foreground, to look at.

Every system's account of person `i` is a pure function of `i` and the day the bench runs, so the
four seeds agree without sharing state across processes. Leavers (one in twenty) keep an active
account somewhere and some sign in after leaving; each system has a few accounts nobody in HR owns
(ghosts), some accounts linked by email only, a few admins, and users without MFA, so the checks
fail as a real company's do.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import multiprocessing.connection
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.measure import served_in_child

if TYPE_CHECKING:  # the simulators are imported where used: `--help` stays quick
    from simulators.google_workspace import WorkspaceWorld
    from simulators.localserver import LocalServer
    from simulators.okta import OktaWorld, User
    from tests.graph_server import GraphServer

GRAPH_TOKEN = "eyJ0eXAiOiJKV1QifQ.bench-graph-token"
USER_ADMIN_TEMPLATE = "fe930be7-5e62-47db-91af-98c3a49a38b1"
HR_COLUMNS = (
    "employee_id", "email", "name", "status", "hire_date", "termination_date", "manager_email",
    "department", "screening_completed", "terms_signed", "nda_signed", "training_completed",
)  # fmt: skip


# --- who person i is, in HR -------------------------------------------------------------------------
def leaver(i: int) -> bool:
    return i % 20 == 0


def joiner(i: int) -> bool:
    return i % 50 == 1  # starts in ten days; accounts already exist


def left_on(i: int, today: date) -> date:
    return today - timedelta(days=3 + i % 90)


def signed_in_after_leaving(i: int) -> bool:
    return i % 60 == 0


def email(i: int) -> str:
    return f"person{i}@acme.com"


def last_seen(i: int, today: date) -> date | None:
    """When person i last signed in anywhere: None for a joiner, after leaving for a few leavers."""
    if joiner(i):
        return None
    if leaver(i):
        return today - timedelta(days=1) if signed_in_after_leaving(i) else left_on(i, today) - timedelta(2)
    return today - timedelta(days=i % 45)


def hr_row(i: int, today: date) -> dict[str, str]:
    hired = today + timedelta(days=10) if joiner(i) else today - timedelta(days=400 + i % 1000)
    status = "terminated" if leaver(i) else "leave" if i % 97 == 5 else "active"
    return {
        "employee_id": f"E{i}",
        "email": email(i),
        "name": f"Person {i}",
        "status": status,
        "hire_date": hired.isoformat(),
        "termination_date": left_on(i, today).isoformat() if leaver(i) else "",
        "manager_email": email(i // 10),
        "department": f"Dept {i % 40}",
        "screening_completed": (hired - timedelta(days=20)).isoformat(),
        "terms_signed": "yes",
        "nda_signed": "no" if i % 97 == 0 else "yes",
        "training_completed": (today - timedelta(days=i % 400)).isoformat(),
    }


def write_hr_export(path: Path, people: int, today: date) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, HR_COLUMNS)
        writer.writeheader()
        writer.writerows(hr_row(i, today) for i in range(people))


# --- Okta ---------------------------------------------------------------------------------------------
def okta_time(day: date | None) -> str | None:
    return None if day is None else f"{day.isoformat()}T08:00:00.000Z"


def okta_status(i: int) -> str:
    if leaver(i):
        return "ACTIVE" if i % 40 == 0 else "SUSPENDED" if i % 80 == 20 else "DEPROVISIONED"
    if joiner(i):
        return "STAGED"
    if i % 1000 == 999:
        return "DEPROVISIONED"
    if i % 250 == 99:
        return "SUSPENDED"
    return "PASSWORD_EXPIRED" if i % 300 == 7 else "LOCKED_OUT" if i % 400 == 9 else "ACTIVE"


def okta_user(i: int, today: date) -> User:
    from simulators.okta import User, factor, role, user_id

    ghost = i % 200 == 11
    status = okta_status(i)
    types = (
        []
        if i % 33 == 1
        else ["email"]
        if i % 70 == 2
        else ["push", "token:software:totp"][: 1 + (i % 10 == 0)]
    )
    roles = []
    if i % 2500 == 1:
        roles.append(role("SUPER_ADMIN", number=i))
    if i % 1000 == 501:
        roles.append(role("ORG_ADMIN", number=i))
    if i % 5000 == 2502:
        roles.append(role("READ_ONLY_ADMIN", assignment_type="GROUP", number=i))
    changed = left_on(i, today) + timedelta(days=1) if leaver(i) and status != "ACTIVE" else None
    return User(
        user_id(i + 1),
        f"contractor{i}@acme.com" if ghost else email(i),
        status,
        employee_number=None if ghost or i % 10 == 3 else f"E{i}",
        activated=None if status == "STAGED" else "2024-01-10T09:00:00.000Z",
        status_changed=okta_time(changed) or "2024-01-10T09:00:00.000Z",
        last_login=okta_time(None if status == "STAGED" else last_seen(i, today)),
        factors=[] if status == "DEPROVISIONED" else [factor(t, i) for t in types],
        roles=roles,
    )


def okta_world(people: int, today: date) -> OktaWorld:
    from simulators.okta import OktaWorld, default_policies

    world = OktaWorld(policies=default_policies())
    for i in range(people):
        world.add_user(okta_user(i, today))
    return world


# --- Google Workspace ---------------------------------------------------------------------------------
def workspace_fields(i: int, today: date) -> dict[str, Any]:
    from simulators.google_workspace import NEVER

    suspended = (leaver(i) and i % 60 != 40) or i % 500 == 77
    seen = last_seen(i, today)
    if leaver(i) and i % 120 == 40:
        seen = today - timedelta(days=2)  # active, and used, after leaving
    return {
        "externalIds": [] if i % 200 == 71 or i % 10 == 7 else [{"type": "organization", "value": f"E{i}"}],
        "suspended": suspended,
        **({"suspensionReason": "ADMIN"} if suspended else {}),
        "archived": i % 1000 == 333,
        "isAdmin": i % 2000 == 3,
        "isDelegatedAdmin": i % 1000 == 503,
        "isEnrolledIn2Sv": i % 25 != 4,
        "isEnforcedIn2Sv": i % 3 != 0,
        "lastLoginTime": NEVER if seen is None or i % 150 == 13 else okta_time(seen),
        "creationTime": f"{(today - timedelta(days=400 + i % 1000)).isoformat()}T09:00:00.000Z",
        "orgUnitPath": "/Staff",
    }


def workspace_world(people: int, today: date) -> WorkspaceWorld:
    from simulators.google_workspace import STATIC_TOKEN, WorkspaceWorld

    world = WorkspaceWorld()
    roles = world.add_system_roles()
    for i in range(people):
        address = f"shared-mailbox{i}@acme.com" if i % 200 == 71 else email(i)
        added = world.add_user(address, **workspace_fields(i, today))
        if added["isAdmin"]:
            world.assign(roles["_SEED_ADMIN_ROLE"], added["id"])
        if added["isDelegatedAdmin"]:
            world.assign(roles["_HELP_DESK_ADMIN_ROLE"], added["id"], org_unit_id="03ph8a2z1staff")
    world.assign(roles["_GROUPS_ADMIN_ROLE"], "04f1mdlm0ki64aw", group=True)
    world.grant(STATIC_TOKEN)
    return world


# --- Entra ID -----------------------------------------------------------------------------------------
def entra_user(i: int, today: date) -> dict[str, Any]:
    from tests.graph_server import user

    ghost, guest = i % 200 == 131, i % 500 == 499
    upn = f"stranger{i}@acme.com" if ghost else email(i)
    if guest:
        upn = f"partner{i}_ext.com#EXT#@acme.onmicrosoft.com"
    seen = last_seen(i, today)
    return user(
        f"u-{i}",
        upn,
        name=f"Person {i}",
        enabled=i % 100 == 0 if leaver(i) else i % 400 != 17,
        user_type="Guest" if guest else "Member",
        employee_id=f"E{i}" if i % 2 == 0 and not (ghost or guest) else None,
        created=f"{(today - timedelta(days=500)).isoformat()}T09:00:00Z",
        last_sign_in=None if seen is None else f"{seen.isoformat()}T08:00:00Z",
    )


def entra_tenant(people: int, today: date) -> GraphServer:
    from tests.graph_server import USER, GraphServer, directory, mfa_policy
    from tests.graph_server import role as graph_role

    users = [entra_user(i, today) for i in range(people)]
    data = directory(
        users,
        mfa={u["id"]: n % 10 != 1 for n, u in enumerate(users)},
        policy=mfa_policy("ca-mfa-all"),
        admin_role="r-global-admin",
        admins=[(USER, f"u-{i}") for i in range(0, people, 5000)],
        roles=[
            graph_role(
                "r-user-admin",
                "User Administrator",
                USER_ADMIN_TEMPLATE,
                [(USER, f"u-{i}") for i in range(7, people, 2500)],
            )
        ],
    )
    return GraphServer(data, token=GRAPH_TOKEN, page_size=999)  # Graph's largest page of users


# --- serving ------------------------------------------------------------------------------------------
SYSTEMS = ("okta", "google_workspace", "entra")


@dataclass(frozen=True)
class Spec:
    """What one child process serves, and the pipe end it answers `hits` requests on."""

    system: str  # okta, google_workspace, entra
    people: int
    today: date
    latency: float
    control: Connection


def build(spec: Spec) -> LocalServer:
    from simulators.google_workspace import WorkspaceServer
    from simulators.localserver import Pacing
    from simulators.okta import OktaServer

    pace = Pacing(latency=spec.latency)
    if spec.system == "okta":
        return OktaServer(okta_world(spec.people, spec.today), pace=pace)
    if spec.system == "google_workspace":
        return WorkspaceServer(workspace_world(spec.people, spec.today), pace=pace)
    server = entra_tenant(spec.people, spec.today)
    server.pace = pace
    return server


def serve(spec: Spec, conn: Connection) -> None:
    """Child process: seed and serve one system; answer each request on `spec.control` with the
    server's `hits` so far, until the parent says stop (or goes away)."""
    with build(spec) as server:
        conn.send(server.url)
        while True:
            ready = multiprocessing.connection.wait([conn, spec.control])
            if conn in ready:
                return
            spec.control.recv()
            spec.control.send(dict(server.hits))


@dataclass(frozen=True)
class Served:
    """One system served in its child process: its URL, and the pipe that asks it for its `hits`."""

    url: str
    control: Connection

    def hits(self) -> Counter[str]:
        """Requests the server answered so far, by its hit key (`GET /api/v1/users/{id}/factors`)."""
        self.control.send("hits")
        found: dict[str, int] = self.control.recv()
        return Counter(found)


def serve_all(
    stack: ExitStack, systems: tuple[str, ...], people: int, today: date, latency: float
) -> Iterator[Served]:
    """Start one child process per system (seeding each takes seconds), in `stack`."""
    for system in systems:
        ours, theirs = multiprocessing.Pipe()
        url = stack.enter_context(served_in_child(serve, Spec(system, people, today, latency, theirs)))
        yield Served(url, ours)


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Serve one system of bench/identity.py's company, to look at."
    )
    parser.add_argument("system", choices=SYSTEMS)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per API response")
    args = parser.parse_args()
    _, unused = multiprocessing.Pipe()
    spec = Spec(args.system, args.people, datetime.now(UTC).date(), args.latency, unused)
    with build(spec) as server:
        print(f"{args.system} at {server.url} ({args.people:,} people); Ctrl-C stops it")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
