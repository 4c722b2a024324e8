"""The Okta collectors end to end: the real okta SDK against the simulated Okta (paging, rate limits,
errors, SSWS and private_key_jwt auth), through the registry's resolver as the runner drives them."""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from agent.config.settings import build_settings
from agent.errors import CollectorError, ConfigError, InputDataError
from agent.plugin.loader import load_plugins
from agent.plugin.permissions import declared, main, render
from collectors.okta import executor
from collectors.okta.scopes import SCOPES
from collectors.okta.targets import OktaOrg
from simulators.okta import (
    CLIENT_ID,
    POLICIES_READ,
    USERS_READ,
    Fault,
    OktaServer,
    OktaWorld,
    Policy,
    Rule,
    User,
    factor,
    role,
)
from tests.clock import FakeTime

TOKEN = "00oktaLocalTestTokenThatMustNeverBeShown0000"
REGISTRY = load_plugins()
SOURCES = ["okta.admin_roles", "okta.policies", "okta.users"]
DEPLOY = Path(__file__).parents[1] / "deploy" / "okta" / "oauth-scopes.json"
FROZEN = 1_800_000_017  # a server clock far from this machine's: rate-limit waits must use its Date
STATUSES = [
    "STAGED",
    "PROVISIONED",
    "ACTIVE",
    "RECOVERY",
    "PASSWORD_EXPIRED",
    "LOCKED_OUT",
    "SUSPENDED",
    "DEPROVISIONED",
]
T0, T1, T2 = "2025-02-03T08:00:00.000Z", "2025-02-04T09:30:00.000Z", "2026-11-26T09:12:00.000Z"


def uid(n: int) -> str:
    return f"00u{n:017d}"


def seeded(**world: Any) -> OktaWorld:
    """Nine users, one of each status (and an admin with roles of her own and through a group), two
    to a page; an org's two kinds of sign-on policies with their rules, and a password policy."""
    w = OktaWorld(token=TOKEN, max_limit=2, **world)
    for n, status in enumerate(STATUSES, start=1):
        enrolled = [] if status == "DEPROVISIONED" else [factor("push", n)]
        w.add_user(User(uid(n), f"u{n}@acme.test", status, employee_number=f"E{n}", factors=enrolled))
    w.add_user(
        User(
            uid(9),
            "admin@acme.test",
            email="admin.alt@acme.test",
            created=T0,
            activated=T1,
            status_changed=T1,
            last_login=T2,
            factors=[factor("webauthn", 9), factor("sms", 9, status="PENDING_ACTIVATION")],
            roles=[role("SUPER_ADMIN")],
        )
    )
    w.grant(uid(9), role("APP_ADMIN", assignment_type="GROUP", number=2))
    w.grant(uid(3), role("CUSTOM", label="Helpdesk (custom)", number=3))
    w.grant(uid(5), role("READ_ONLY_ADMIN", number=4))
    w.policies = [
        Policy(
            "00pSignOnDefault",
            "Default Policy",
            "OKTA_SIGN_ON",
            priority=2,
            system=True,
            groups_include=["00gEveryone"],
            rules=[Rule("0prDefault", "Default Rule", system=True, require_factor=False)],
        ),
        Policy(
            "00pSignOnAdmins",
            "Admins",
            "OKTA_SIGN_ON",
            groups_include=["00gAdmins", "00gOps"],
            rules=[
                Rule("0prMfa", "MFA", require_factor=True, users_exclude=["00uBreakGlass"]),
                Rule("0prOffsite", "Deny offsite", priority=2, access="DENY", groups_exclude=["00gVpn"]),
                Rule("0prLegacy", "Legacy", priority=3, status="INACTIVE", require_factor=False),
            ],
        ),
        Policy("00pPassword", "Password", "PASSWORD"),
        Policy(
            "rstApps",
            "Apps",
            "ACCESS_POLICY",
            rules=[
                Rule("rul1fa", "Password only", factor_mode="1FA", groups_include=["00gContractors"]),
                Rule("rulCatchAll", "Catch-all Rule", priority=99, system=True, factor_mode="2FA"),
            ],
        ),
    ]
    return w


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OktaServer]:
    monkeypatch.setenv("OKTA_TEST_TOKEN", TOKEN)
    with OktaServer(seeded()) as srv:
        yield srv


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """Rate-limit and back-off waits, recorded instead of slept."""
    fake = FakeTime()
    monkeypatch.setattr(executor, "time", fake)
    return fake


def section(server: OktaServer, **okta: Any) -> dict[str, Any]:
    base = {
        "enabled": True,
        "org_url": server.url,
        "api_token_env": "OKTA_TEST_TOKEN",
        "max_attempts": 3,
        "max_retry_wait": 60,
    }
    return base | okta


def org(server: OktaServer, **okta: Any) -> OktaOrg:
    """The one target the registry's resolver gives for `[okta]`."""
    settings = build_settings({"okta": section(server, **okta)})
    [target] = REGISTRY.targets(REGISTRY.scope_kinds["okta_org"], settings)
    assert isinstance(target, OktaOrg)
    return target


def collect(source: str, target: OktaOrg) -> dict[str, dict[str, Any]]:
    return {r.resource_id: r.data for r in REGISTRY.collectors[source].func(target)}


def user_record(n: int, status: str, factors: list[dict[str, Any]] | None) -> dict[str, Any]:
    times = "2024-01-10T09:00:00.000Z"
    return {
        "id": uid(n),
        "status": status,
        "login": f"u{n}@acme.test",
        "email": f"u{n}@acme.test",
        "employeeNumber": f"E{n}",
        "created": times,
        "activated": times,
        "statusChanged": times,
        "lastLogin": None,
        "factors": factors,
    }


def test_every_source_is_an_okta_org_collector_asking_for_read_scopes():
    assert sorted(s for s in REGISTRY.collectors if s.startswith("okta.")) == SOURCES
    specs = [REGISTRY.collectors[s] for s in SOURCES]
    assert {s.scope_kind for s in specs} == {"okta_org"}
    assert {s.freshness.total_seconds() for s in specs} == {24 * 3600}
    assert sorted(p for s in specs for p in s.permissions) == sorted(SCOPES)


def test_users_of_every_status_with_their_factors(server):
    target = org(server)
    assert target.scope == "okta:127.0.0.1"
    server.world.faults[rf"^GET /api/v1/users/{uid(8)}/factors\?"] = Fault(403)  # never asked
    records = collect("okta.users", target)
    expected = {
        uid(n): user_record(
            n, status, [{"id": f"pus{n:017d}", "factorType": "push", "provider": "OKTA", "status": "ACTIVE"}]
        )
        for n, status in enumerate(STATUSES, start=1)
    }
    expected[uid(8)]["factors"] = None  # DEPROVISIONED: not listed
    expected[uid(9)] = {
        "id": uid(9),
        "status": "ACTIVE",
        "login": "admin@acme.test",
        "email": "admin.alt@acme.test",
        "employeeNumber": None,
        "created": T0,
        "activated": T1,
        "statusChanged": T1,
        "lastLogin": T2,
        "factors": [
            {"id": f"web{9:017d}", "factorType": "webauthn", "provider": "FIDO", "status": "ACTIVE"},
            {"id": f"sms{9:017d}", "factorType": "sms", "provider": "OKTA", "status": "PENDING_ACTIVATION"},
        ],
    }
    assert records == expected
    assert list(records) == [uid(n) for n in range(1, 10)]  # in Okta's order
    assert server.hits["GET /api/v1/users"] == 5  # nine users, two a page, by `after` cursor
    assert server.hits["GET /api/v1/users/{id}/factors"] == 8  # one per user not deprovisioned
    assert server.authorizations == {f"SSWS {TOKEN}"}


def test_admin_roles_of_users_holding_them_directly_or_through_a_group(server):
    records = collect("okta.admin_roles", org(server))
    assert records == {
        uid(9): {
            "userId": uid(9),
            "roles": [
                {
                    "id": "rasupe00000000001",
                    "type": "SUPER_ADMIN",
                    "label": "Super Administrator",
                    "status": "ACTIVE",
                    "assignmentType": "USER",
                },
                {
                    "id": "raapp_00000000002",
                    "type": "APP_ADMIN",
                    "label": "Application Administrator",
                    "status": "ACTIVE",
                    "assignmentType": "GROUP",
                },
            ],
        },
        uid(3): {
            "userId": uid(3),
            "roles": [
                {
                    "id": "racust00000000003",
                    "type": "CUSTOM",
                    "label": "Helpdesk (custom)",
                    "status": "ACTIVE",
                    "assignmentType": "USER",
                }
            ],
        },
        uid(5): {
            "userId": uid(5),
            "roles": [
                {
                    "id": "raread00000000004",
                    "type": "READ_ONLY_ADMIN",
                    "label": "Read-only Administrator",
                    "status": "ACTIVE",
                    "assignmentType": "USER",
                }
            ],
        },
    }
    assert server.hits["GET /api/v1/iam/assignees/users"] == 2  # three holders, two a page (_links.next)
    assert server.hits["GET /api/v1/users/{id}/roles"] == 3


def rule(rule_id: str, name: str, **fields: Any) -> dict[str, Any]:
    base = {
        "id": rule_id,
        "name": name,
        "status": "ACTIVE",
        "priority": 1,
        "system": False,
        "groupsIncluded": [],
        "groupsExcluded": [],
        "usersExcluded": [],
        "access": "ALLOW",
        "requireFactor": None,
        "factorMode": None,
    }
    return base | fields


def test_sign_on_and_authentication_policies_with_their_rules(server):
    records = collect("okta.policies", org(server))
    policy = {"status": "ACTIVE", "priority": 1, "system": False, "groupsIncluded": []}
    assert records == {
        "00pSignOnDefault": policy
        | {
            "id": "00pSignOnDefault",
            "name": "Default Policy",
            "type": "OKTA_SIGN_ON",
            "priority": 2,
            "system": True,
            "groupsIncluded": ["00gEveryone"],
            "rules": [rule("0prDefault", "Default Rule", system=True, requireFactor=False)],
        },
        "00pSignOnAdmins": policy
        | {
            "id": "00pSignOnAdmins",
            "name": "Admins",
            "type": "OKTA_SIGN_ON",
            "groupsIncluded": ["00gAdmins", "00gOps"],
            "rules": [
                rule("0prMfa", "MFA", requireFactor=True, usersExcluded=["00uBreakGlass"]),
                rule("0prOffsite", "Deny offsite", priority=2, access="DENY", groupsExcluded=["00gVpn"]),
                rule("0prLegacy", "Legacy", priority=3, status="INACTIVE", requireFactor=False),
            ],
        },
        "rstApps": policy
        | {
            "id": "rstApps",
            "name": "Apps",
            "type": "ACCESS_POLICY",
            "rules": [
                rule("rul1fa", "Password only", factorMode="1FA", groupsIncluded=["00gContractors"]),
                rule("rulCatchAll", "Catch-all Rule", priority=99, system=True, factorMode="2FA"),
            ],
        },
    }  # the PASSWORD policy is not asked for
    assert server.hits["GET /api/v1/policies"] == 2  # one listing per type
    assert server.hits["GET /api/v1/policies/{id}/rules"] == 4  # the admins' three rules: two pages


def rsa_key(tmp_path: Path, name: str = "okta-service-app.pem") -> tuple[rsa.RSAPrivateKey, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = tmp_path / name
    path.write_bytes(pem)
    return key, path


def service_app(server: OktaServer, key_file: Path) -> OktaOrg:
    return org(server, api_token_env="", client_id=CLIENT_ID, private_key_file=str(key_file))


def test_a_service_app_signs_in_with_private_key_jwt_asking_for_exactly_the_declared_scopes(server, tmp_path):
    key, key_file = rsa_key(tmp_path)
    server.world.add_app(CLIENT_ID, key.public_key())
    target = service_app(server, key_file)
    assert len(collect("okta.users", target)) == 9
    assert len(collect("okta.admin_roles", target)) == 3
    assert len(collect("okta.policies", target)) == 3
    assert server.hits["POST /oauth2/v1/token"] == 1  # one token, shared by every collector of the org
    assert server.requested_scopes == [frozenset(declared(REGISTRY, "okta"))]
    [bearer] = server.authorizations - {""}
    assert bearer.startswith("Bearer ") and server.tokens[bearer.removeprefix("Bearer ")] == frozenset(SCOPES)


def test_a_service_app_not_granted_every_scope_fails_naming_them(server, tmp_path, caplog):
    key, key_file = rsa_key(tmp_path)
    server.world.add_app(CLIENT_ID, key.public_key(), scopes=[USERS_READ, POLICIES_READ])
    with caplog.at_level(logging.DEBUG), pytest.raises(CollectorError) as info:
        collect("okta.users", service_app(server, key_file))
    assert str(info.value) == (
        "POST /oauth2/v1/token for scopes okta.users.read okta.roles.read okta.policies.read: "
        "HTTP 400 invalid_scope: The requested scopes are not granted: okta.roles.read"
    )
    assert "BEGIN PRIVATE KEY" not in caplog.text


def test_a_client_assertion_signed_with_another_key_is_refused(server, tmp_path):
    other, _ = rsa_key(tmp_path, "another-app.pem")
    _, key_file = rsa_key(tmp_path)
    server.world.add_app(CLIENT_ID, other.public_key())
    with pytest.raises(CollectorError) as info:
        collect("okta.policies", service_app(server, key_file))
    assert str(info.value) == (
        "access denied: POST /oauth2/v1/token for scopes okta.users.read okta.roles.read "
        "okta.policies.read (HTTP 401 invalid_client)"
    )


def test_a_private_key_file_that_is_no_key_fails_the_target(server, tmp_path):
    (tmp_path / "app.pem").write_text("not a key")
    with pytest.raises(
        CollectorError, match=r"^\[okta\] private_key_file .*app\.pem: not an unencrypted RSA"
    ):
        service_app(server, tmp_path / "app.pem")


def test_a_rate_limit_is_waited_out_until_its_reset_by_the_servers_date(server, waits):
    server.world.now = FROZEN  # Date: FROZEN; X-Rate-Limit-Reset: the end of its minute, 43 s on
    server.world.faults[r"^GET /api/v1/users\?"] = Fault(429, times=1)
    assert len(collect("okta.users", org(server))) == 9
    assert waits.slept == [44]  # reset - Date + 1, as the SDK waits
    assert server.hits["GET /api/v1/users"] == 6  # the refused page, asked again


def test_a_rate_limit_resetting_after_max_retry_wait_fails_saying_so(server, waits, caplog, capsys):
    server.world.now = FROZEN
    server.world.faults[r"^GET /api/v1/policies\?"] = Fault(429)
    with caplog.at_level(logging.DEBUG), pytest.raises(CollectorError) as info:
        collect("okta.policies", org(server, max_retry_wait=30))
    assert str(info.value) == (
        "GET /api/v1/policies: HTTP 429 E0000047: the rate limit resets in 44 s, "
        "more than [okta] max_retry_wait (30 s)"
    )
    assert waits.slept == [] and server.hits["GET /api/v1/policies"] == 1
    assert TOKEN not in caplog.text + "".join(capsys.readouterr())


def test_a_rate_limit_that_lasts_fails_after_max_attempts(server, waits):
    server.world.now = FROZEN
    server.world.faults[r"^GET /api/v1/iam/assignees/users\?"] = Fault(429)
    with pytest.raises(CollectorError) as info:
        collect("okta.admin_roles", org(server, max_attempts=2))
    assert str(info.value) == (
        "GET /api/v1/iam/assignees/users: HTTP 429 E0000047: "
        "API call exceeded rate limit due to too many requests."
    )
    assert waits.slept == [44]


def test_server_errors_are_retried_with_back_off(server, waits):
    server.world.faults[r"^GET /api/v1/policies/rstApps/rules\?"] = Fault(502, times=2)
    assert len(collect("okta.policies", org(server))) == 3
    assert waits.slept == [1, 2]


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            Fault(403),
            "access denied: GET /api/v1/iam/assignees/users needs okta.roles.read (HTTP 403 E0000006)",
        ),
        (
            Fault(503, "Service Unavailable"),
            "GET /api/v1/iam/assignees/users: HTTP 503 E0000009: Service Unavailable after 3 attempts",
        ),
        (
            Fault(502, body="<html>Bad Gateway</html>"),
            "GET /api/v1/iam/assignees/users: HTTP 502: an answer that is not Okta's error document "
            "after 3 attempts",
        ),
    ],
)
def test_a_refused_listing_fails_in_one_line_naming_the_call(server, waits, caplog, fault, message):
    server.world.faults[r"^GET /api/v1/iam/assignees/users\?"] = fault
    with caplog.at_level(logging.DEBUG), pytest.raises(CollectorError) as info:
        collect("okta.admin_roles", org(server))
    assert str(info.value) == message
    assert "\n" not in str(info.value) and TOKEN not in caplog.text


def test_an_org_that_does_not_answer_is_retried_then_fails(server, waits):
    target = org(server, max_attempts=2)
    server.__exit__()  # the port is closed now
    with pytest.raises(
        CollectorError, match=r"^GET /api/v1/users: ClientConnectorError: .* after 2 attempts$"
    ):
        collect("okta.users", target)
    assert waits.slept == [1]


def test_a_wrong_token_is_denied_and_never_echoed(server, monkeypatch, caplog, capsys):
    monkeypatch.setenv("OKTA_TEST_TOKEN", "00wrongOktaTokenThatMustNotLeak000000000000")
    with caplog.at_level(logging.DEBUG), pytest.raises(CollectorError) as info:
        collect("okta.users", org(server))
    assert str(info.value) == "access denied: GET /api/v1/users needs okta.users.read (HTTP 401 E0000011)"
    seen = caplog.text + "".join(capsys.readouterr())
    assert "00wrongOktaToken" not in seen and TOKEN not in seen


def test_a_failed_factor_listing_fails_the_users_never_a_user_without_factors(server):
    server.world.faults[rf"^GET /api/v1/users/{uid(4)}/factors\?"] = Fault(403)
    with pytest.raises(CollectorError) as info:
        list(REGISTRY.collectors["okta.users"].func(org(server)))
    assert str(info.value) == (
        f"access denied: GET /api/v1/users/{uid(4)}/factors needs okta.users.read (HTTP 403 E0000006)"
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("{}", "a page that is not a JSON list"),
        ("null", "a page that is not a JSON list"),
        ("[1]", "an item that is not a JSON object"),
        ("", "an answer that is not JSON"),
        ('[{"id": "00u1", "status": "ACTIVE"}]', "user 00u1 has no profile"),
        (
            '[{"id": "00u1", "status": "GONE", "profile": {"login": "x"}}]',
            "user 00u1 has an unknown status 'GONE'",
        ),
    ],
)
def test_a_page_that_says_nothing_fails_the_listing(server, body, error):
    """An empty, `{}` or `null` page is never read as "no users"."""
    server.world.faults[r"^GET /api/v1/users\?"] = Fault(200, body=body)
    with pytest.raises(InputDataError) as info:
        collect("okta.users", org(server))
    assert str(info.value) == f"GET /api/v1/users: {error}"


def test_a_rule_without_access_fails_the_policies(server):
    server.world.faults[r"^GET /api/v1/policies/rstApps/rules\?"] = Fault(
        200, body=json.dumps([{"id": "rulX", "actions": {"appSignOn": {}}}])
    )
    with pytest.raises(InputDataError, match=r"^GET /api/v1/policies/rstApps/rules: rule rulX has no ALLOW"):
        collect("okta.policies", org(server))


def test_requests_in_flight_per_org_stay_within_max_concurrency(server):
    server.world.gather = 3  # every request waits until three are in flight: the cap is reached
    server.world.max_limit = 200  # one page of users: eight factor listings at once, were there no cap
    server.world.latency = 0.05  # answers take a while: more than three at once would show
    target = org(server, max_concurrency=3)
    done: list[int] = []
    threads = [threading.Thread(target=lambda s=s: done.append(len(collect(s, target)))) for s in SOURCES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(done) == [3, 3, 9] and server.max_inflight == 3  # three collectors, one cap


@pytest.mark.parametrize(
    ("okta", "message"),
    [
        ({"api_token_env": "OKTA_TEST_TOKEN"}, "[okta] org_url: required when [okta] is enabled"),
        ({"org_url": "https://acme.okta.com"}, "[okta] api_token_env: no credentials: set api_token_env, or"),
        (
            {"org_url": "http://acme.okta.com", "api_token_env": "OKTA_TEST_TOKEN"},
            "[okta] org_url: must be https:// (plain http only for a loopback host, not acme.okta.com)",
        ),
        (
            {"org_url": "https://acme-admin.okta.com", "api_token_env": "OKTA_TEST_TOKEN"},
            "[okta] org_url: acme-admin.okta.com is the Admin Console",
        ),
        (
            {"org_url": "https://acme.okta.com/app/UserHome", "api_token_env": "OKTA_TEST_TOKEN"},
            "[okta] org_url: the org's base URL only",
        ),
        (
            {"org_url": "https://acme.okta.com", "api_token_env": "UNSET_OKTA_TOKEN"},
            "[okta] api_token_env: environment variable UNSET_OKTA_TOKEN (the Okta API token) is not set",
        ),
        (
            {"org_url": "https://acme.okta.com", "client_id": "0oa1"},
            "[okta] private_key_file: required with a service app",
        ),
        (
            {"org_url": "https://acme.okta.com", "client_id": "0oa1", "private_key_file": "/nonexistent.pem"},
            "[okta] private_key_file: cannot read service app private key file /nonexistent.pem",
        ),
        (
            {"org_url": "https://acme.okta.com", "api_token_env": "OKTA_TEST_TOKEN", "client_id": "0oa1"},
            "[okta] api_token_env: set either api_token_env or a service app's",
        ),
        (
            {"org_url": "https://acme.okta.com", "api_token_env": "OKTA_TEST_TOKEN", "max_concurrency": 500},
            "max_concurrency",
        ),
    ],
)
def test_settings_errors_are_one_line_naming_the_key(monkeypatch, okta, message):
    monkeypatch.setenv("OKTA_TEST_TOKEN", TOKEN)
    monkeypatch.delenv("UNSET_OKTA_TOKEN", raising=False)
    with pytest.raises(ConfigError) as info:
        build_settings({"okta": {"enabled": True, **okta}})
    assert message in str(info.value) and "\n" not in str(info.value) and TOKEN not in str(info.value)


def test_plain_http_is_accepted_for_loopback_hosts_only(monkeypatch):
    monkeypatch.setenv("OKTA_TEST_TOKEN", TOKEN)
    for url in ("http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:9", "https://acme.okta.com/"):
        settings = build_settings(
            {"okta": {"enabled": True, "org_url": url, "api_token_env": "OKTA_TEST_TOKEN"}}
        )
        assert settings.system("okta").org_url == url.rstrip("/")  # type: ignore[attr-defined]


def test_a_disabled_section_needs_nothing():
    assert not build_settings({"okta": {}}).system_enabled("okta")


def test_the_committed_scopes_document_is_what_the_generator_prints(capsys):
    assert DEPLOY.read_text() == render(REGISTRY, "okta"), (
        f"{DEPLOY} is stale: python -m agent.plugin.permissions okta"
    )
    assert json.loads(DEPLOY.read_text()) == {"scopes": sorted(SCOPES)}
    assert main(["okta"]) == 0 and capsys.readouterr().out == DEPLOY.read_text()


# --- the simulated Okta itself: what the collectors' tests rely on it for ------------------------------
def get(server: OktaServer, path: str, authorization: str) -> tuple[int, Any, Any]:
    request = urllib.request.Request(server.url + path, headers={"Authorization": authorization})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, json.loads(exc.read())


def test_the_simulator_pages_users_as_okta_does(server):
    status, headers, page = get(server, "/api/v1/users?limit=2", f"SSWS {TOKEN}")
    assert status == 200 and [u["id"] for u in page] == [uid(1), uid(2)]
    assert {"id", "status", "created", "profile", "_links"} <= set(page[0])
    links = headers.get_all("Link")
    assert links == [
        f'<{server.url}/api/v1/users?limit=2>; rel="self"',
        f'<{server.url}/api/v1/users?limit=2&after={uid(2)}>; rel="next"',
    ]  # two headers, self first
    assert int(headers["X-Rate-Limit-Limit"]) > int(headers["X-Rate-Limit-Remaining"]) > 0
    _, _, everyone = get(server, "/api/v1/users?limit=200", f"SSWS {TOKEN}")
    assert len(everyone) == 2  # the server's page is at most max_limit
    server.world.max_limit = 200
    _, _, default = get(server, "/api/v1/users", f"SSWS {TOKEN}")
    assert uid(8) not in {u["id"] for u in default} and len(default) == 8  # default omits DEPROVISIONED
    search = urllib.parse.quote('status eq "DEPROVISIONED"')
    _, _, gone = get(server, f"/api/v1/users?search={search}", f"SSWS {TOKEN}")
    assert [u["id"] for u in gone] == [uid(8)]


def test_the_simulators_tokens_carry_only_the_scopes_asked_for(server, tmp_path):
    key, _ = rsa_key(tmp_path)
    server.world.add_app(CLIENT_ID, key.public_key())
    claims = {  # issued in 2023, valid until 2058: whatever this machine's clock says, it is valid
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": f"{server.url}/oauth2/v1/token",
        "iat": 1_700_000_000,
        "exp": 2_800_000_000,
        "jti": str(uuid.uuid4()),
    }
    form = {
        "grant_type": "client_credentials",
        "scope": USERS_READ,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": jwt.encode(claims, key, algorithm="RS256"),
    }
    request = urllib.request.Request(
        f"{server.url}/oauth2/v1/token", data=urllib.parse.urlencode(form).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        token = json.loads(answer.read())
    assert token["token_type"] == "Bearer" and token["scope"] == USERS_READ
    assert get(server, "/api/v1/users", f"Bearer {token['access_token']}")[0] == 200
    status, headers, error = get(
        server, "/api/v1/policies?type=OKTA_SIGN_ON", f"Bearer {token['access_token']}"
    )
    assert status == 403 and error["errorCode"] == "E0000006"
    assert 'error="insufficient_scope"' in headers["WWW-Authenticate"]
    assert set(error) == {"errorCode", "errorSummary", "errorLink", "errorId", "errorCauses"}
    assert get(server, "/api/v1/users", "Bearer forged")[2]["errorCode"] == "E0000011"
