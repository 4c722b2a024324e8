"""Populations and samples (issue 16, point 3): the size rule, the reproducible selection, the
built-in populations, `annexa sample`, and the `samples/` part of bundles that `annexa verify`
re-derives from the bundle's own evidence.

Stores are built run by run with the clock injected (every `utcnow()` reads a frozen instant): HR
and Okta listings collected once a day, so each person's story sits at known instants.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.audit.samples import CHAIN_HEAD, GIVEN, draw, ncs_closed
from agent.audit.sampling import SizeRule, digest, rank_key, select
from agent.bundle.export import export_bundle
from agent.bundle.samples import sample_path
from agent.bundle.signing import create_key_pair, seal_keys
from agent.bundle.verify import verify_bundle
from agent.canonical import content_hash
from agent.config.settings import Settings, build_settings
from agent.errors import ConfigError, PluginError, UsageError
from agent.plugin import population
from agent.plugin.declare import DECLARED
from agent.plugin.loader import load_plugins
from agent.plugin.model import Record, RunStatus
from agent.plugin.period_view import Listing, Period
from agent.plugin.registry import Registry
from agent.store import Store
from agent.store import types as store_types
from agent.store.hashing import tree_hash
from agent.store.observations import EvidenceBuffer, write_observation
from agent.store.runs import finish_run, start_run
from tests.bundles import forge, members
from tests.cli import annexa, annexa_json

DAY1 = date(2025, 6, 2)
HR, OKTA = "hr.employees", "okta.users"
HR_SCOPE, OKTA_SCOPE = "hr:file:employees", "okta:acme.okta.com"


def day(n: int, clock: time = time(6, 0)) -> datetime:
    return datetime.combine(DAY1 + timedelta(days=n - 1), clock, tzinfo=UTC)


# --- the world: HR and Okta as a collector would list them ------------------------------------------


def employee(
    eid: str, name: str, *, hired: str = "2024-01-01", left: str | None = None, **facts: Any
) -> Record:
    data = {
        "employee_id": eid,
        "email": f"{name.lower()}@acme.example",
        "name": name,
        "status": "terminated" if left else "active",
        "hire_date": hired,
        "termination_date": left,
        "screening_completed": None,
        "terms_signed": None,
        "nda_signed": None,
        **facts,
    }
    return Record(f"hr:{eid}", data)


def okta_user(uid: str, login: str, eid: str, status: str = "ACTIVE", changed: str | None = None) -> Record:
    data = {"id": uid, "login": login, "email": login, "employeeNumber": eid, "status": status}
    return Record(uid, {**data, "statusChanged": changed} if changed else data)


def hr_on(n: int) -> list[Record]:
    """Ann stays; Finn leaves on day 3; Cleo starts on day 4 (screened a week before, terms late)."""
    staff = [
        employee("E001", "Ann"),
        employee("E010", "Finn", left=(DAY1 + timedelta(days=2)).isoformat() if n >= 3 else None),
    ]
    if n >= 2:  # HR records Cleo before she starts
        start = DAY1 + timedelta(days=3)
        staff.append(
            employee(
                "E003",
                "Cleo",
                hired=start.isoformat(),
                screening_completed=(start - timedelta(days=7)).isoformat(),
                terms_signed=(start + timedelta(days=2)).isoformat(),
            )
        )
    return staff


def okta_on(n: int) -> list[Record]:
    """Finn's Okta account is deprovisioned on day 5; Cleo's appears on day 4; Bob's (no
    employee) is deleted on day 6."""
    users = [okta_user("00u1", "ann@acme.example", "E001")]
    users.append(
        okta_user("00u10", "finn@acme.example", "E010", "DEPROVISIONED", day(5).isoformat())
        if n >= 5
        else okta_user("00u10", "finn@acme.example", "E010")
    )
    if n >= 4:
        users.append(okta_user("00u3", "cleo@acme.example", "E003"))
    if n < 6:
        users.append(okta_user("00u9", "bob@acme.example", "X999"))
    return users


class Frozen(datetime):
    """What `agent.store.types.utcnow` reads the time from: every product `utcnow()` is `instant`."""

    instant = day(1)

    @classmethod
    def now(cls, tz: Any = None) -> Frozen:  # type: ignore[override]
        return cls.instant if tz is None else cls.instant.astimezone(tz)  # type: ignore[return-value]


@pytest.fixture
def clock(monkeypatch) -> type[Frozen]:
    monkeypatch.setattr(store_types, "datetime", Frozen)
    return Frozen


def collect(
    store: Store, clock: type[Frozen], at: datetime, listings: dict[tuple[str, str], list[Record]]
) -> str:
    """One sealed collection run at `at`; returns its root."""
    clock.instant = at
    run = start_run(store, "collect", [])
    for (source, scope), records in listings.items():
        buffer = EvidenceBuffer(source)
        for record in records:
            buffer.add(record)
        write_observation(store, run, source, scope, at, buffer)
    assert run.id is not None
    return finish_run(store, run.id, RunStatus.COMPLETE).root_hash or ""


def build_world(store: Store, clock: type[Frozen], days: int = 7) -> list[str]:
    return [
        collect(store, clock, day(n), {(HR, HR_SCOPE): hr_on(n), (OKTA, OKTA_SCOPE): okta_on(n)})
        for n in range(1, days + 1)
    ]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_plugins(Registry(), systems=())


def settings_for(url: str, registry: Registry, **sections: Any) -> Settings:
    return build_settings({"store": {"url": url}, **sections}, registry.systems)


# --- the size rule and the selection ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("population_size", "size", "clause"),
    [
        (0, 0, "0-5 members: all"),
        (5, 5, "0-5 members: all"),
        (6, 5, "6-50 members: 5"),
        (50, 5, "6-50 members: 5"),
        (51, 6, "51-250 members: 10% rounded up"),  # 5.1 rounds up
        (250, 25, "51-250 members: 10% rounded up"),
        (251, 25, "over 250 members: 25"),
        (1000, 25, "over 250 members: 25"),
    ],
)
def test_the_default_size_rule_at_its_boundaries(population_size, size, clause):
    rule = SizeRule()
    assert rule.size(population_size) == size
    assert rule.applied(population_size) == clause


def test_size_overrides_the_rule_and_never_exceeds_the_population():
    assert SizeRule(override=3).size(1000) == 3 and SizeRule(override=30).size(7) == 7
    assert SizeRule(override=3).applied(1000) == "--size 3"
    rule = SizeRule(((10, 2), (100, "50%")), beyond=7)
    assert [rule.size(n) for n in (1, 10, 11, 100, 101)] == [1, 2, 6, 50, 7]


def test_a_recorded_rule_reads_back_and_a_forged_one_is_refused():
    for rule in (SizeRule(), SizeRule(((10, 2), (100, "50%")), beyond=7), SizeRule(override=4)):
        assert SizeRule.of(json.loads(json.dumps(rule.document()))) == rule
    for bad in (
        None,
        {"sizes": [{"up_to": 5, "take": "all"}]},
        {"sizes": [{"up_to": 50, "take": 5}, {"up_to": 5, "take": "all"}], "beyond": 25},
        {"sizes": [{"up_to": 5, "take": "0%"}], "beyond": 25},
        {"sizes": [{"up_to": 5, "take": True}], "beyond": 25},
        {"sizes": [], "beyond": 0},
        {"override": -1},
    ):
        with pytest.raises(ValueError):
            SizeRule.of(bad)


def test_the_selection_is_the_documented_ranking_whatever_the_order():
    ids = [f"E{n:04d}" for n in range(40)]
    chosen = select(ids, "seed-1", 5)
    assert chosen == select(list(reversed(ids)), "seed-1", 5)
    # by hand, as an auditor would from the sample document's `selection` text
    pop = hashlib.sha256(json.dumps(sorted(ids), separators=(",", ":")).encode()).hexdigest()
    assert pop == digest(ids)
    by_hand = sorted(
        (hashlib.sha256(json.dumps(["seed-1", pop, i], separators=(",", ":")).encode()).hexdigest(), i)
        for i in ids
    )[:5]
    assert chosen == by_hand and all(k == rank_key("seed-1", pop, i) for k, i in chosen)
    assert [i for _, i in select(ids, "seed-2", 5)] != [i for _, i in chosen]
    assert [i for _, i in select([*ids, "E9999"], "seed-1", 5)] != [i for _, i in chosen]  # new digest


def test_the_samples_section_is_validated(registry):
    s = settings_for("sqlite://", registry, samples={"sizes": [{"up_to": 10, "take": "all"}], "beyond": 3})
    assert [(t.up_to, t.take) for t in s.samples.sizes] == [(10, "all")] and s.samples.beyond == 3
    for bad in (
        {"sizes": [{"up_to": 10, "take": "most"}]},
        {"sizes": [{"up_to": 10, "take": 0}]},
        {"sizes": [{"up_to": 50, "take": 5}, {"up_to": 50, "take": "all"}]},
        {"beyond": 0},
        {"sample_size": 5},
    ):
        with pytest.raises(ConfigError, match="samples"):
            settings_for("sqlite://", registry, samples=bad)


# --- declaring populations ---------------------------------------------------------------------------


def test_populations_are_declared_checked_and_loaded(registry):
    assert {
        "joiners",
        "leavers",
        "accounts-created:okta",
        "accounts-removed:aws",
        "privileged-grants:entra",
    } <= set(registry.populations)
    bound = registry.population("resources:aws.iam.users")
    assert bound is not None and bound.needs == ("aws.iam.users",) and "aws.iam.users" in bound.title
    assert registry.population("resources") is None  # a family is only ever bound to a source
    assert registry.population("resources:not a source") is None
    assert registry.population("joiners:hr.employees") is None
    for name, kwargs in (
        ("Joiners", {"needs": [HR]}),
        ("joiners/x", {"needs": [HR]}),
        ("nothing", {}),
        ("family", {"needs": [HR], "family": True}),
        ("bad-source", {"needs": ["hr"]}),
    ):
        with pytest.raises(PluginError):
            population(name, title="t", question="q", **kwargs)
    population("joiners", title="t", question="q", needs=[HR])  # declaring is lazy: nothing clashes yet

    with pytest.raises(PluginError, match="registered twice"):
        population("joiners", title="t", question="q", needs=[HR])(lambda period: iter(()))
    assert DECLARED.populations["joiners"].func is registry.populations["joiners"].func


# --- the built-in populations over a hand-built period -----------------------------------------------


def listing(source: str, scope: str, at: datetime, records: list[Record]) -> Listing:
    filled = tuple(
        sorted(
            (Record(r.resource_id, r.data, source, scope, content_hash(r.data)) for r in records),
            key=lambda r: r.resource_id,
        )
    )
    tree = tree_hash((r.resource_id, r.hash) for r in filled)
    return Listing.of(source, scope, at, content_hash([source, scope, at.isoformat()]), tree, filled)


def world_period(days: int = 7, first: int = 1, last: int = 7) -> Period:
    return Period(
        DAY1 + timedelta(days=first - 1),
        DAY1 + timedelta(days=last - 1),
        {
            HR: tuple(listing(HR, HR_SCOPE, day(n), hr_on(n)) for n in range(1, days + 1)),
            OKTA: tuple(listing(OKTA, OKTA_SCOPE, day(n), okta_on(n)) for n in range(1, days + 1)),
        },
    )


def derive(registry: Registry, name: str, period: Period) -> dict[str, Any]:
    spec = registry.population(name)
    assert spec is not None
    return {m.id: m for m in spec.func(period.only(spec.sources))}


def test_a_leaver_comes_with_when_each_account_was_first_seen_disabled(registry):
    found = derive(registry, "leavers", world_period())
    assert list(found) == ["E010"]
    finn = found["E010"]
    assert finn.label == "Finn (E010)"
    assert finn.answer["termination_date"] == "2025-06-04" and finn.answer["systems_read"] == [OKTA]
    [okta] = finn.answer["accounts"]
    assert okta == {
        "system": "Okta",
        "account": "finn@acme.example",
        "scope": OKTA_SCOPE,
        "disabled_at": day(5).isoformat(),
        "state": "DEPROVISIONED 2025-06-06",
        "days_after_termination": 2,
        "already_at_period_start": False,
    }
    hr_cite, okta_cite = finn.evidence
    assert hr_cite["source"] == HR and hr_cite["resource_id"] == "hr:E010" and len(hr_cite["record"]) == 64
    assert okta_cite["collected_at"] == day(5).isoformat() and okta_cite["resource_id"] == "00u10"
    # before Okta deprovisioned it, the account is reported still active at the period's last listing
    early = derive(registry, "leavers", world_period(days=4, last=4))["E010"].answer["accounts"][0]
    assert early["disabled_at"] is None and early["still_active_at"] == day(4).isoformat()


def test_a_joiner_comes_with_screening_and_terms_against_the_start_date(registry):
    cleo = derive(registry, "joiners", world_period())["E003"]
    assert cleo.answer["start_date"] == "2025-06-05"
    assert cleo.answer["screening"] == {"recorded": "2025-05-29", "days_before_start": 7, "in_time": True}
    assert cleo.answer["terms"] == {"recorded": "2025-06-07", "days_before_start": -2, "in_time": False}
    assert cleo.answer["nda"] == {"recorded": None, "days_before_start": None, "in_time": False}
    assert list(derive(registry, "joiners", world_period(first=6, last=7))) == []


def test_accounts_created_and_removed_against_the_period_s_first_listing(registry):
    created = derive(registry, "accounts-created:okta", world_period())
    assert list(created) == [f"{OKTA_SCOPE} cleo@acme.example"]
    assert created[f"{OKTA_SCOPE} cleo@acme.example"].answer["first_seen"] == day(4).isoformat()
    removed = derive(registry, "accounts-removed:okta", world_period())
    assert {k: (m.answer["removed_at"], m.answer["state"]) for k, m in removed.items()} == {
        f"{OKTA_SCOPE} bob@acme.example": (day(6).isoformat(), "no longer listed"),
        f"{OKTA_SCOPE} finn@acme.example": (day(5).isoformat(), "DEPROVISIONED 2025-06-06"),
    }
    # from day 5 on, Finn's account was already off when the period's evidence starts: not removed in it
    tail = Period(day(5).date(), day(7).date(), {OKTA: world_period().listings[OKTA][4:]})
    assert list(derive(registry, "accounts-removed:okta", tail)) == [f"{OKTA_SCOPE} bob@acme.example"]


def test_privileged_grants_and_resources(registry):
    holder = Record("00u1", {"userId": "00u1", "roles": [{"type": "SUPER_ADMIN"}]})
    later = Record("00u3", {"userId": "00u3", "roles": [{"type": "ORG_ADMIN"}]})
    roles = (
        listing("okta.admin_roles", OKTA_SCOPE, day(1), [holder]),
        listing("okta.admin_roles", OKTA_SCOPE, day(2), [holder, later]),
    )
    period = Period(
        DAY1, DAY1 + timedelta(days=1), {"okta.admin_roles": roles, OKTA: world_period().listings[OKTA][3:5]}
    )
    grants = derive(registry, "privileged-grants:okta", period)
    assert list(grants) == [f"{OKTA_SCOPE} 00u3 ORG_ADMIN"]
    grant = grants[f"{OKTA_SCOPE} 00u3 ORG_ADMIN"]
    assert grant.label == "cleo@acme.example: ORG_ADMIN" and grant.answer["first_seen"] == day(2).isoformat()
    assert [c["source"] for c in grant.evidence] == ["okta.admin_roles", OKTA]
    resources = derive(registry, f"resources:{OKTA}", world_period())
    assert len(resources) == 4
    bob = resources[f"{OKTA_SCOPE} 00u9"].answer
    assert bob["gone_since"] == day(6).isoformat() and bob["still_listed_at"] is None
    assert resources[f"{OKTA_SCOPE} 00u1"].answer["still_listed_at"] == day(7).isoformat()


def test_a_population_reading_what_it_did_not_declare_is_an_error(registry):
    from agent.audit.sampling import SampleError, members_of
    from agent.plugin.registry import PopulationSpec

    sneaky = PopulationSpec("sneaky", "t", "q", (HR,), lambda period: iter(period.of(OKTA) and ()))
    with pytest.raises(SampleError, match="not among the population's needs"):
        members_of(sneaky, world_period())
    with pytest.raises(SampleError, match=r"no sealed listing of hr\.employees"):
        members_of(sneaky, Period(DAY1, DAY1, {}))


def nc_doc(ref: int, *steps: tuple[str, datetime, str]) -> dict[str, Any]:
    history = [
        {
            "id": n,
            "at": at.isoformat(),
            "to_state": to,
            "actor": who,
            "reason": "r",
            "hash": f"{n:064x}",
            "run_id": n,
        }
        for n, (to, at, who) in enumerate(steps, start=1)
    ]
    return {
        "id": f"NC-{ref:04d}",
        "title": f"NC {ref}",
        "check_id": "c.x.y",
        "scope": "s",
        "severity": "minor",
        "state": history[-1]["to_state"],
        "history": history,
        "sealed": {"version": 3, "hash": "a" * 64, "document": {"effectiveness_review": "passes again"}},
    }


def test_ncs_closed_in_the_period_with_days_to_close():
    ncs = (
        nc_doc(
            1, ("draft", day(1), "annexa"), ("open", day(2), "dana"), ("closed", day(4, time(10)), "dana")
        ),
        nc_doc(2, ("draft", day(1), "annexa"), ("closed", day(9), "annexa")),  # after the period
        nc_doc(3, ("draft", day(1), "annexa")),
    )
    period = Period(DAY1, DAY1 + timedelta(days=6), {}, ncs)
    [closed] = list(ncs_closed(period))
    assert closed.id == "NC-0001" and closed.answer["days_to_close"] == 3
    assert closed.answer["closed_by"] == "dana" and closed.answer["effectiveness_review"] == "passes again"
    assert closed.evidence[0] == {"nonconformity": "NC-0001", "step": f"{3:064x}", "entry": 3}


# --- samples drawn from a store ----------------------------------------------------------------------


def test_same_seed_same_members_on_sqlite_and_postgresql(registry, clock, pg_url, tmp_path):
    drawn = []
    for url in (f"sqlite:///{tmp_path / 'a.db'}", pg_url):
        store = Store(url)
        try:
            build_world(store, clock)
            settings = settings_for(url, registry, samples={"sizes": [{"up_to": 2, "take": 1}], "beyond": 2})
            docs = {
                name: draw(store, registry, settings, name, DAY1, day(7).date(), seed="audit-2025")
                for name in ("resources:okta.users", "leavers", "accounts-removed:okta")
            }
        finally:
            store.close()
        drawn.append(docs)
    for name, doc in drawn[0].items():
        other = drawn[1][name]
        assert doc["seed"] == "audit-2025" and doc["seed_from"] == GIVEN
        for key in ("population_size", "digest", "members", "size", "size_applied"):
            assert doc[key] == other[key], (name, key)
        assert [(m["id"], m["answer"]) for m in doc["sample"]] == [
            (m["id"], m["answer"]) for m in other["sample"]
        ]
    resources = drawn[0]["resources:okta.users"]
    assert (
        resources["population_size"] == 4
        and resources["size"] == 2
        and resources["size_applied"] == "over 2 members: 2"
    )


def test_the_default_seed_is_the_chain_head_at_the_period_s_end(registry, clock, tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    store = Store(url)
    roots = build_world(store, clock, days=7)
    settings = settings_for(url, registry)
    doc = draw(store, registry, settings, "resources:okta.users", DAY1, day(5).date())
    assert doc["seed"] == roots[4] and doc["seed_from"] == CHAIN_HEAD
    assert doc["read"][OKTA] == {"listings": 5, "first": day(1).isoformat(), "last": day(5).isoformat()}
    again = draw(store, registry, settings, "resources:okta.users", DAY1, day(5).date())
    assert again == doc  # reproducible: runs after the period change nothing
    assert draw(store, registry, settings, "resources:okta.users", DAY1, day(7).date())["seed"] == roots[6]
    with pytest.raises(UsageError, match=r"unknown population 'nobody'.*joiners"):
        draw(store, registry, settings, "nobody", DAY1, day(5).date())
    with pytest.raises(UsageError, match=r"no sealed listing of github\.org\.members"):
        draw(store, registry, settings, "accounts-created:github", DAY1, day(5).date())
    store.close()


def test_a_thousand_leavers_give_25_samples(registry, clock, tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    store = Store(url)
    staff = [employee(f"E{n:04d}", f"P{n}", left=day(1 + n % 5).date().isoformat()) for n in range(1000)]
    collect(store, clock, day(6), {(HR, HR_SCOPE): staff})
    settings = settings_for(url, registry)
    doc = draw(store, registry, settings, "leavers", DAY1, day(6).date())
    assert doc["population_size"] == 1000 and doc["size"] == 25 and len(doc["sample"]) == 25
    assert doc["size_applied"] == "over 250 members: 25"
    assert len({m["id"] for m in doc["sample"]}) == 25 and [m["rank"] for m in doc["sample"]] == list(
        range(1, 26)
    )
    assert draw(store, registry, settings, "leavers", DAY1, day(6).date(), size=40)["size"] == 40
    store.close()


# --- samples in bundles, re-derived by verify ---------------------------------------------------------


@dataclass
class Bundled:
    bundle: Path
    key: Path
    config: Path
    head: str


ONE_OF_MANY = {"sizes": [{"up_to": 1, "take": "all"}], "beyond": 1}  # so a drawn member has spares


@pytest.fixture(scope="module")
def bundled(registry, tmp_path_factory) -> Iterator[Bundled]:
    """A signed store of seven daily runs and its bundle for days 1-7."""
    tmp = tmp_path_factory.mktemp("samples")
    key = tmp / "signing.key"
    create_key_pair(key)
    url = f"sqlite:///{tmp / 'store.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store_types, "datetime", Frozen)
        store = Store(url, keys=seal_keys(str(key)))
        roots = build_world(store, Frozen)
        settings = settings_for(url, registry, export={"signing_key": str(key)}, samples=ONE_OF_MANY)
        Frozen.instant = day(8)
        export_bundle(store, settings, registry, tmp / "audit.zip", start=DAY1, end=day(7).date())
        store.close()
    config = tmp / "annexa.toml"
    config.write_text(
        f'[store]\nurl = "{url}"\n[export]\nsigning_key = "{key}"\n'
        '[samples]\nsizes = [{ up_to = 1, take = "all" }]\nbeyond = 1\n'
    )
    yield Bundled(tmp / "audit.zip", key, config, roots[-1])


def sample_of(bundle: Path, name: str) -> dict[str, Any]:
    return json.loads(members(bundle)[sample_path(name)])


def test_every_bundle_carries_samples_its_verifier_re_derives(bundled):
    files = members(bundled.bundle)
    names = sorted(n for n in files if n.startswith("samples/"))
    assert {"samples/leavers.json", "samples/joiners.json", "samples/ncs-closed.json"} <= set(names)
    assert (
        "samples/accounts-created.okta.json" in names and "samples/privileged-grants.okta.json" not in names
    )
    assert not any("github" in n or "resources" in n for n in names)  # not listed / a family
    leavers = sample_of(bundled.bundle, "leavers")
    assert leavers["seed"] == bundled.head == json.loads(files["manifest.json"])["chain"]["head"]
    assert [m["id"] for m in leavers["sample"]] == ["E010"]
    for cited in leavers["sample"][0]["evidence"]:
        assert cited["file"] in files  # each citation names the bundle file that holds the record
    report = verify_bundle(bundled.bundle, bundled.key.with_suffix(".pub"))
    assert report.ok, report.problems


def edit_sample(name: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Callable[[bytes], bytes]]:
    def rewrite(body: bytes) -> bytes:
        doc = json.loads(body)
        change(doc)
        return json.dumps(doc, indent=1).encode()

    return {sample_path(name): rewrite}


def _swap_drawn_member(doc: dict[str, Any]) -> None:
    """The auditee replaces a drawn member with one they prefer from the population."""
    drawn = {m["id"] for m in doc["sample"]}
    spare = next(i for i in doc["members"] if i not in drawn)
    doc["sample"][0]["id"] = spare


def _drop_from_population(doc: dict[str, Any]) -> None:
    doc["members"] = [i for i in doc["members"] if i != doc["sample"][0]["id"]]
    doc["digest"] = digest(doc["members"])
    doc["population_size"] -= 1


def _earlier_disabling(doc: dict[str, Any]) -> None:
    doc["sample"][0]["answer"]["accounts"][0]["disabled_at"] = day(3).isoformat()


def _own_seed(doc: dict[str, Any]) -> None:
    doc["seed"] = "chosen-by-the-auditee"


@pytest.mark.parametrize(
    ("name", "change", "named"),
    [
        (
            "accounts-removed:okta",
            _swap_drawn_member,
            "are not those the seed's ranking and the size rule give",
        ),
        ("accounts-removed:okta", _drop_from_population, "its population differs"),
        ("leavers", _earlier_disabling, "the evidence of its members differs"),
        ("leavers", _own_seed, "its seed is not the bundle's chain head"),
    ],
)
def test_verify_names_an_edited_sample_even_re_signed(bundled, tmp_path, name, change, named):
    edits = edit_sample(name, change)
    forged = forge(bundled.bundle, tmp_path / "forged.zip", bundled.key, edits)
    report = verify_bundle(forged, bundled.key.with_suffix(".pub"))
    problems = [p for p in report.problems if p.startswith(sample_path(name))]
    assert problems and named in problems[0], report.problems
    assert len(report.problems) == 1, report.problems  # only the sample is off


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (lambda doc: [doc], "does not name the population its file is named for"),
        (lambda doc: {**doc, "population": "joiners"}, "does not name the population its file is named for"),
        (lambda doc: {**doc, "size_rule": {"override": 1}}, "follows a size rule, not an override"),
        (lambda doc: {**doc, "size_rule": {"sizes": "all", "beyond": 1}}, "neither sizes and beyond"),
        (lambda doc: {**doc, "seed_from": "given"}, "differs from the sample re-derived"),
    ],
)
def test_a_malformed_sample_is_named_not_trusted(bundled, tmp_path, body, named):
    edits = {sample_path("leavers"): lambda raw: json.dumps(body(json.loads(raw))).encode()}
    forged = forge(bundled.bundle, tmp_path / "forged.zip", bundled.key, edits)
    report = verify_bundle(forged, bundled.key.with_suffix(".pub"))
    assert len(report.problems) == 1 and report.problems[0].startswith("samples/leavers.json: ")
    assert named in report.problems[0]


def test_a_bundle_samples_only_what_its_evidence_holds(bundled, registry, tmp_path):
    """Exported for A.8.9 alone, the bundle holds no HR or Okta evidence: no joiners, no leavers."""
    url = f"sqlite:///{bundled.config.parent / 'store.db'}"
    settings = settings_for(url, registry, export={"signing_key": str(bundled.key)})
    store = Store(url, keys=seal_keys(str(bundled.key)))
    try:
        export_bundle(
            store, settings, registry, tmp_path / "a.zip", start=DAY1, end=day(7).date(), controls=["A.8.9"]
        )
    finally:
        store.close()
    names = {n for n in members(tmp_path / "a.zip") if n.startswith("samples/")}
    assert names == {"samples/ncs-closed.json"}
    assert verify_bundle(tmp_path / "a.zip", bundled.key.with_suffix(".pub")).ok


def test_verify_names_a_sample_edited_without_re_signing(bundled, tmp_path):
    from tests.bundles import write

    items = members(bundled.bundle)
    items["samples/leavers.json"] = items["samples/leavers.json"].replace(b'"E010"', b'"E001"')
    report = verify_bundle(write(tmp_path / "edited.zip", items), bundled.key.with_suffix(".pub"))
    assert "modified file samples/leavers.json" in report.problems
    assert any(p.startswith("samples/leavers.json: ") for p in report.problems)


# --- the command ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_annexa_sample_prints_one_document_and_refuses_an_unknown_population(bundled):
    config = str(bundled.config)
    period = ("--from", DAY1.isoformat(), "--to", day(7).date().isoformat(), "--config", config)
    doc = annexa_json("sample", "--population", "leavers", *period)
    assert doc == sample_of(bundled.bundle, "leavers")  # the bundle's sample is the store's
    sized = annexa_json(
        "sample", "--population", "resources:okta.users", "--size", "2", "--seed", "s", *period
    )
    assert sized["size"] == 2 and sized["size_rule"] == {"override": 2} and sized["seed_from"] == GIVEN
    human = annexa("sample", "--population", "leavers", *period)
    assert human.returncode == 0 and "1. Finn (E010) [E010]" in human.stdout and "disabled_at" in human.stdout
    unknown = annexa("sample", "--population", "contractors", *period)
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr.count("\n") == 1 and "unknown population 'contractors'" in unknown.stderr
    backwards = annexa(
        "sample", "--population", "leavers", "--from", "2025-06-09", "--to", "2025-06-01", "--config", config
    )
    assert backwards.returncode == 2 and "--from is after --to" in backwards.stderr
