"""The audit-period acceptance store: 30 daily runs through the real Runner and Evaluator, clock injected.

Two systems, as an agent would have them: HR from an export file (the real `hr.employees`
collector reading a CSV rewritten each day) and a GitHub organisation whose one collected source
(`github.org.settings`) is a stand-in function, the real collector's record shape without a
network. Everything else (targets, leases, sealing, checks, NCs, person actions, attestations) is
the product's own code. The story, each event at a known instant (see the constants):

- day 1..30, a collection at 06:00 UTC (`PeriodStore.day(n)`);
- `hr.people.terms_signed` (A.6.2) fails on days 8-12: Cleo starts on day 8 without signed terms,
  which HR records on day 13. Its NC is opened as a draft by the day-8 run, accepted by dana on
  day 9 at 10:00, passes again on day 13, and is resolved and closed by dana on day 14 (10:00, 10:30);
- `github.org.settings` is not collected on days 20-22 (those runs collect HR only);
- A.5.1 is attested by the ciso on day 1 at 07:00, valid 14 days: it expires on day 15 at 07:00;
- Eve leaves on day 18 (termination date, status terminated from then on).

The config file written next to the store serves the console script too (`--config`), so the CLI
reads the same store, checks and settings; only the build registry's GitHub pieces are stand-ins.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from agent.audit.attestations import attest
from agent.audit.nc_actions import Change, apply
from agent.bundle.signing import create_key_pair
from agent.config.settings import Settings, load_settings
from agent.plugin.loader import load_plugins
from agent.plugin.model import Record
from agent.plugin.registry import Registry
from agent.run.runner import Runner
from agent.store import Store
from agent.store import types as store_types

DAYS = 30
FIRST_DAY = date(2025, 3, 3)  # a Monday; well in the past, so every `--as-of` day is a valid one
RUN_AT = time(6, 0)

FAILING_CHECK = "hr.people.terms_signed"
FAILING_CONTROL = "A.6.2"
FAILING_DAYS = range(8, 13)  # days 8..12 fail; day 13 passes again
FAILING_EMPLOYEE = "E003"  # Cleo
FAILING_RESOURCE = f"hr:{FAILING_EMPLOYEE}"  # the resource id of her hr.employees record
NC_REF = "NC-0001"
NC_ACCEPTED = (9, time(10, 0))  # (day, time) dana accepts the draft
NC_RESOLVED = (14, time(10, 0))
NC_CLOSED = (14, time(10, 30))
ACTOR = "dana"

MISSING_SOURCE = "github.org.settings"
MISSING_DAYS = range(20, 23)  # days 20..22: not collected
GITHUB_ORG = "acme"
GITHUB_SCOPE = f"github:{GITHUB_ORG}"
GITHUB_CHECK = "github.org.two_factor_required"  # A.8.5, A.5.17: passes whenever collected

ATTESTED_CONTROL = "A.5.1"
ATTESTED = (1, time(7, 0))
ATTESTATION_DAYS = 14  # so it expires on day 15 at 07:00
ATTESTER = "ciso"

LEAVER = "E005"  # Eve
LEAVER_DAY = 18

# The checks this store's config keeps on; every other check is disabled, so each control's status
# comes from evidence this store holds (an active check never evaluated would read `error`).
CHECKS = (
    "hr.people.screening_before_start",
    "hr.people.terms_signed",
    "hr.people.nda_signed",
    "hr.people.training_overdue",
    GITHUB_CHECK,
    "github.org.base_permission",
)
HR_SCOPE = "hr:file:employees"


def at(day: int, clock: time = RUN_AT) -> datetime:
    """Day `day` (1-based) of the period at `clock`, UTC."""
    return datetime.combine(FIRST_DAY + timedelta(days=day - 1), clock, tzinfo=UTC)


class _FrozenDatetime(datetime):
    """What `agent.store.types.utcnow` reads the time from while a `frozen` block runs."""

    instant: datetime = datetime.min.replace(tzinfo=UTC)

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        return cls.instant if tz is None else cls.instant.astimezone(tz)


@contextmanager
def frozen(moment: datetime) -> Iterator[None]:
    """Every `utcnow()` in the product returns `moment` inside the block (they all read
    `agent.store.types.datetime`); the real class is put back afterwards."""
    real = store_types.datetime  # type: ignore[attr-defined]
    _FrozenDatetime.instant = moment
    store_types.datetime = _FrozenDatetime  # type: ignore[attr-defined]
    try:
        yield
    finally:
        store_types.datetime = real  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PeriodStore:
    """The built store and what a test needs to read it, in-process or through the console script."""

    root: Path
    config: Path  # annexa.toml: `annexa ... --config` reads this store with these settings
    settings: Settings
    store: Store
    registry: Registry  # the build registry (GitHub's target and collector are stand-ins)
    runs: tuple[datetime, ...]  # the 06:00 collection of each day, runs[0] is day 1

    def day(self, n: int, clock: time = RUN_AT) -> datetime:
        return at(n, clock)

    def as_of(self, n: int, clock: time = time(23, 59, 59)) -> str:
        """An `--as-of` value inside day `n` (its end by default)."""
        return at(n, clock).isoformat()


def _iso(day: int) -> str:
    return (FIRST_DAY + timedelta(days=day - 1)).isoformat()


def hr_rows(day: int) -> list[dict[str, str]]:
    """The HR export as it reads on day `day`."""
    before = (FIRST_DAY - timedelta(days=400)).isoformat()
    trained = (FIRST_DAY - timedelta(days=60)).isoformat()
    left = day >= LEAVER_DAY

    def person(eid: str, name: str, **facts: str) -> dict[str, str]:
        row = {
            "employee_id": eid,
            "email": f"{name.lower()}@acme.example",
            "name": name,
            "status": "active",
            "hire_date": before,
            "termination_date": "",
            "manager_email": "ada@acme.example" if eid != "E001" else "",
            "department": "Engineering",
            "screening_completed": before,
            "terms_signed": before,
            "nda_signed": before,
            "training_completed": trained,
        }
        return {**row, **facts}

    return [
        person("E001", "Ada"),
        person("E002", "Ben"),
        # Cleo joins on day 8; HR records her signed terms on day 13.
        person(
            FAILING_EMPLOYEE,
            "Cleo",
            hire_date=_iso(8),
            screening_completed=_iso(1),
            terms_signed=_iso(13) if day >= 13 else "",
            nda_signed=_iso(2),
            training_completed="",
        ),
        person("E004", "Dev"),
        person(
            LEAVER,
            "Eve",
            status="terminated" if left else "active",
            termination_date=_iso(LEAVER_DAY) if left else "",
        ),
    ]


def write_hr_export(path: Path, day: int) -> None:
    rows = hr_rows(day)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@dataclass(frozen=True)
class _Org:
    """Stand-in for the `github_org` target: its scope, no API client."""

    login: str

    @property
    def scope(self) -> str:
        return f"github:{self.login}"


def _org_settings(org: _Org) -> Iterator[Record]:
    """What the real `github.org.settings` collector yields for an org with 2FA required, read base."""
    yield Record(
        org.login,
        {"login": org.login, "two_factor_requirement_enabled": True, "default_repository_permission": "read"},
    )


def _config_text(root: Path, url: str, disabled: list[str]) -> str:
    listed = ", ".join(f'"{c}"' for c in disabled)
    return (
        f'[store]\nurl = "{url}"\n\n'
        '[export]\nsigning_key = "signing.key"\n\n'
        f'[hr]\nenabled = true\nprovider = "file"\npath = "{root / "employees.csv"}"\n\n'
        f'[github]\nenabled = true\norganizations = ["{GITHUB_ORG}"]\napi_url = "http://127.0.0.1:9"\n'
        f'app_id = "1"\ninstallation_id = "2"\nprivate_key_file = "{root / "github-app.pem"}"\n\n'
        f"[checks]\ndisabled = [{listed}]\n\n"
        '[controls.excluded]\n"A.7.4" = "No premises of our own."\n'
    )


def _build_registry(settings: Settings) -> Registry:
    registry = load_plugins(systems=settings.enabled_systems())
    kind = registry.scope_kinds["github_org"]
    registry.scope_kinds["github_org"] = dataclasses.replace(
        kind, resolve=lambda s: [_Org(login) for login in s.organizations]
    )
    spec = registry.collectors[MISSING_SOURCE]
    registry.collectors[MISSING_SOURCE] = dataclasses.replace(spec, func=_org_settings)
    return registry


def build_period_store(root: Path, url: str | None = None) -> PeriodStore:
    """Build the store under `root` (SQLite there unless `url`, e.g. a PostgreSQL one, is given)."""
    root.mkdir(parents=True, exist_ok=True)
    url = url or f"sqlite:///{root / 'store.db'}"
    create_key_pair(root / "signing.key")
    (root / "github-app.pem").write_text("never read: GitHub is a stand-in here\n")
    write_hr_export(root / "employees.csv", 1)
    everything = load_plugins(Registry(), systems=())  # every check, no collector's SDK
    disabled = sorted(set(everything.checks) - set(CHECKS))
    config = root / "annexa.toml"
    config.write_text(_config_text(root, url, disabled))
    settings, _ = load_settings(config, everything.systems)
    registry = _build_registry(settings)
    from agent.bundle.signing import seal_keys

    store = Store(settings.store.url, keys=seal_keys(settings.export.signing_key))
    policy = root / "policy.pdf"
    policy.write_bytes(b"%PDF-1.4 information security policy v4, approved by the board")
    runs = []
    for day in range(1, DAYS + 1):
        write_hr_export(root / "employees.csv", day)
        with frozen(at(day)):
            sources = ["hr.*"] if day in MISSING_DAYS else ["hr.*", MISSING_SOURCE]
            Runner(store, settings, registry).collect(sources)
        runs.append(at(day))
        if day == ATTESTED[0]:
            with frozen(at(*ATTESTED)):
                attest(
                    store,
                    ATTESTED_CONTROL,
                    policy,
                    actor=ATTESTER,
                    note="policy set reviewed",
                    valid_for_days=ATTESTATION_DAYS,
                )
        if day == NC_ACCEPTED[0]:
            with frozen(at(*NC_ACCEPTED)):
                apply(store, NC_REF, "accept", ACTOR, Change(reason="joiner started without signed terms"))
        if day == NC_RESOLVED[0]:
            with frozen(at(*NC_RESOLVED)):
                apply(store, NC_REF, "resolve", ACTOR, Change(reason="terms signed and recorded in HR"))
            with frozen(at(*NC_CLOSED)):
                apply(
                    store,
                    NC_REF,
                    "close",
                    ACTOR,
                    Change(effectiveness_review="passes since day 13; onboarding now waits for terms"),
                )
    return PeriodStore(root, config, settings, store, registry, tuple(runs))
