"""Benchmark: the people reconciliation checks on 100,000 employees and 100,000 Entra ID users.

Prints, from one run:
  - the reconciliation checks' time: every check joining an identity system to HR
    (Entra leavers, sign-ins after leaving, accounts without an employee, AWS IAM leavers)
    over one Entra tenant and one AWS account                       (target <= 5 s)
  - the other people checks' time on the same evidence (MFA, roles, inactivity, HR facts)
  - peak RSS of the whole process, evidence included                 (target <= 600 MB)

Records are generated in exactly the shape the collectors emit and hashed as the store would,
then each check runs as the evaluator runs it: a pure function over an evidence view.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.plugin.evidence import Evidence
from agent.plugin.loader import load_plugins
from agent.plugin.model import Record, Status

REGISTRY = load_plugins(systems=())

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
RECONCILIATION = (
    "people.leaver.entra_account_enabled",
    "people.leaver.entra_sign_in_after_leaving",
    "people.entra.account_without_employee",
    "people.leaver.aws_iam_user",
)


def day(offset: int) -> str:
    return (NOW + timedelta(days=offset)).date().isoformat()


def stamp(offset: int) -> str:
    return (NOW + timedelta(days=offset)).isoformat()


def employees(n: int) -> Iterator[Record]:
    """One in twenty has left; one in fifty is a joiner; facts recorded for most."""
    for i in range(n):
        left = i % 20 == 0
        data: dict[str, Any] = {
            "employee_id": f"E{i}",
            "email": f"person{i}@acme.com",
            "name": f"Person {i}",
            "status": "terminated" if left else "active",
            "hire_date": day(10 if i % 50 == 1 else -400 - i % 1000),
            "termination_date": day(-(i % 90)) if left else None,
            "manager_email": f"person{i // 10}@acme.com",
            "department": f"Dept {i % 40}",
            "aliases": [f"adm-person{i}@acme.onmicrosoft.com"] if i % 500 == 0 else [],
            "screening_completed": day(-420 - i % 1000),
            "terms_signed": True,
            "nda_signed": i % 97 != 0,
            "training_completed": day(-(i % 400)),
        }
        yield Record(f"hr:E{i}", data)


def entra_users(n: int) -> Iterator[Record]:
    """Half linked by employee id, half by email only; 2% belong to nobody; leavers' state varies."""
    for i in range(n):
        ghost = i % 50 == 7
        upn = f"stranger{i}@acme.com" if ghost else f"person{i}@acme.com"
        last = stamp(-(i % 200))
        yield Record(
            f"u-{i}",
            {
                "id": f"u-{i}",
                "displayName": f"Person {i}",
                "userPrincipalName": upn,
                "mail": upn,
                "accountEnabled": i % 3 != 0,
                "userType": "Guest" if i % 100 == 99 else "Member",
                "employeeId": f"E{i}" if i % 2 == 0 and not ghost else None,
                "createdDateTime": stamp(-500),
                "externalUserState": None,
                "lastSignInDateTime": last,
                "lastNonInteractiveSignInDateTime": None,
                "lastSuccessfulSignInDateTime": last,
            },
        )


def registrations(n: int) -> Iterator[Record]:
    for i in range(n):
        mfa = i % 10 != 0
        yield Record(
            f"u-{i}",
            {
                "id": f"u-{i}",
                "userPrincipalName": f"person{i}@acme.com",
                "isMfaRegistered": mfa,
                "isMfaCapable": mfa,
                "isAdmin": False,
                "methodsRegistered": ["microsoftAuthenticatorPush"] if mfa else [],
                "userType": "member",
                "lastUpdatedDateTime": stamp(-3),
            },
        )


def iam_rows(n: int) -> Iterator[Record]:
    for i in range(0, n * 10, 10):
        arn = f"arn:aws:iam::123456789012:user/person{i}@acme.com"
        yield Record(
            arn,
            {
                "user": f"person{i}@acme.com",
                "arn": arn,
                "user_creation_time": stamp(-800),
                "password_enabled": "true",
                "password_last_used": stamp(-(i % 100)),
                "password_last_changed": "N/A",
                "password_next_rotation": "N/A",
                "mfa_active": "false",
                "access_key_1_active": "true",
                "access_key_1_last_rotated": stamp(-300),
                "access_key_1_last_used_date": stamp(-2),
                "access_key_2_active": "false",
                "access_key_2_last_rotated": "N/A",
                "access_key_2_last_used_date": "N/A",
            },
        )


def roles() -> Iterator[Record]:
    members = [{"id": f"u-{i}", "type": "user"} for i in range(0, 4000, 400)]
    yield Record(
        "r-ga",
        {
            "id": "r-ga",
            "displayName": "Global Administrator",
            "roleTemplateId": GLOBAL_ADMIN,
            "members": members,
        },
    )


def run(check_id: str, ev: Evidence) -> tuple[float, dict[Status, int]]:
    spec = REGISTRY.checks[check_id]
    view = Evidence(
        scope=ev.scope,
        now=ev.now,
        sources={n: ev.sources[n] for n in (*spec.needs, *spec.context) if n in ev.sources},
        params=spec.params,
        shared=ev.shared,  # one cache for every view, as the evaluator gives them
    )
    started = time.perf_counter()
    results = list(spec.func(view))
    elapsed = time.perf_counter() - started
    counts: dict[Status, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    return elapsed, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--iam-users", type=int, default=2_000)
    args = parser.parse_args()

    started = time.perf_counter()
    ev = Evidence.of(
        "entra:bench",
        {
            "hr.employees": employees(args.employees),
            "entra.users": entra_users(args.users),
            "entra.auth_methods": registrations(args.users),
            "entra.directory_roles": roles(),
            "aws.iam.credential_report": iam_rows(args.iam_users),
        },
        now=NOW,
    )
    print(
        f"generated and hashed {args.employees:,} employees, {args.users:,} Entra users (+ registrations), "
        f"{args.iam_users:,} IAM users in {time.perf_counter() - started:.1f} s"
    )

    totals = {"reconciliation": 0.0, "other": 0.0}
    others = sorted(c for c in REGISTRY.checks if c.startswith(("entra.", "hr.")))
    # Reconciliation first, so its time includes building the employee directory the others reuse.
    for check_id in [*RECONCILIATION, *others]:
        if check_id == "entra.mfa.conditional_access":
            continue  # reads conditional access policies only: nothing scales with people
        elapsed, counts = run(check_id, ev)
        kind = "reconciliation" if check_id in RECONCILIATION else "other"
        totals[kind] += elapsed
        shown = ", ".join(f"{s.value} {n:,}" for s, n in sorted(counts.items()))
        print(f"  {check_id:<46} {elapsed:6.2f} s  ({shown})")

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    recon = totals["reconciliation"]
    print(
        f"reconciliation checks (HR x Entra, HR x AWS): {recon:.2f} s   target <= 5 s   ratio {recon / 5:.2f}"
    )
    print(f"other people checks on the same evidence:     {totals['other']:.2f} s")
    print(
        f"peak RSS of this process:                     {rss_mb:.0f} MB   target <= 600 MB   "
        f"ratio {rss_mb / 600:.2f}"
    )


if __name__ == "__main__":
    main()
