"""Google Workspace collectors: the real google-api-python-client (and google-auth's service-account
grant) against the simulated Directory API, through the registry's resolver as the runner drives them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from agent.config.settings import build_settings
from agent.errors import CollectorError, ConfigError, InputDataError
from agent.plugin.loader import load_plugins
from agent.plugin.permissions import render
from collectors import google_api
from collectors.google_workspace.targets import WorkspaceCustomer
from collectors.google_workspace.users import FIELDS
from simulators.google_workspace import (
    NEVER,
    READONLY_SCOPES,
    USERS_READONLY,
    Fault,
    WorkspaceServer,
    WorkspaceWorld,
    google_fault,
    rate_limited,
)
from tests.clock import FakeTime

TOKEN = "ya29.a0-local-test-token-never-shown"
ADMIN = "admin@acme.com"
SA_EMAIL = "annexa@acme-admin.iam.gserviceaccount.com"
REGISTRY = load_plugins(systems=["google_workspace"])
USERS = "google_workspace.users"
ASSIGNMENTS = "google_workspace.role_assignments"
USERS_PATH = "GET /admin/directory/v1/users"
ROLES_PATH = "GET /admin/directory/v1/customer/my_customer/roles"
ASSIGNMENTS_PATH = "GET /admin/directory/v1/customer/my_customer/roleassignments"
SECOND_USERS_PAGE = r"^GET /admin/directory/v1/users\?.*pageToken="


def seeded() -> WorkspaceWorld:
    """Seven users over four pages of two (one in a second domain), five roles, four assignments."""
    w = WorkspaceWorld(customer_id="C01acme00", max_page=2)
    org = {"type": "organization", "value": "E1"}
    admin = w.add_user(
        ADMIN,
        isAdmin=True,
        isEnrolledIn2Sv=True,
        isEnforcedIn2Sv=True,
        lastLoginTime="2026-11-20T08:00:00.000Z",
        externalIds=[org],
        aliases=["root@acme.com"],
    )
    alice = w.add_user(
        "alice@acme.com",
        isDelegatedAdmin=True,
        isEnrolledIn2Sv=True,
        lastLoginTime="2026-11-25T10:30:00.000Z",
        externalIds=[
            {"type": "custom", "customType": "badge", "value": "B7"},
            {"type": "organization", "value": "E2"},
            {"type": "organization", "value": "E2-old"},
        ],
    )
    w.add_user("bob@acme.com", creationTime="2026-11-01T09:00:00.000Z")  # never signed in
    w.add_user(
        "carol@acme.com",
        suspended=True,
        suspensionReason="ADMIN",
        lastLoginTime="2025-03-01T12:00:00.000Z",
        externalIds=[{"type": "organization", "value": "E3"}],
    )
    w.add_user("dan@acme.co.uk", archived=True, lastLoginTime="2024-06-01T12:00:00.000Z")
    w.add_user("eve@acme.co.uk", orgUnitPath="/Contractors", lastLoginTime="2026-11-26T09:12:00.000Z")
    w.add_user("frank@acme.com", isEnforcedIn2Sv=True, lastLoginTime="2026-11-26T09:00:00.000Z")
    roles = w.add_system_roles()
    billing = w.add_role("Billing reader", system=False)
    w.assign(roles["_SEED_ADMIN_ROLE"], admin["id"])
    w.assign(roles["_GROUPS_ADMIN_ROLE"], alice["id"], org_unit_id="03ph8a2z1engineer")
    w.assign(roles["_HELP_DESK_ADMIN_ROLE"], "04grp0helpdesk", group=True)
    w.assign(billing, alice["id"])
    w.grant(TOKEN)
    return w  # fmt: skip


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[WorkspaceServer]:
    monkeypatch.setenv("GW_TEST_TOKEN", TOKEN)
    with WorkspaceServer(seeded()) as srv:
        yield srv


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """The shared Google retry loop's waits, recorded instead of slept."""
    fake = FakeTime()
    monkeypatch.setattr(google_api, "time", fake)
    return fake


def section(server: WorkspaceServer, **workspace: Any) -> dict[str, Any]:
    base = {
        "enabled": True,
        "access_token_env": "GW_TEST_TOKEN",
        "api_endpoint": server.url,
        "max_attempts": 3,
        "initial_backoff": 0.5,
    }
    return base | workspace


def customer(server: WorkspaceServer, **workspace: Any) -> WorkspaceCustomer:
    """The one target the registry's resolver gives for `[google_workspace]`."""
    settings = build_settings({"google_workspace": section(server, **workspace)})
    [target] = REGISTRY.targets(REGISTRY.scope_kinds["google_workspace_customer"], settings)
    assert isinstance(target, WorkspaceCustomer)
    return target


def collect(source: str, target: WorkspaceCustomer) -> dict[str, dict[str, Any]]:
    return {r.resource_id: r.data for r in REGISTRY.collectors[source].func(target)}


def by_email(records: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {data["primaryEmail"]: data for data in records.values()}


def user_id(server: WorkspaceServer, email: str) -> str:
    return str(server.world.by_email[email]["id"])


def expected_users(server: WorkspaceServer) -> dict[str, dict[str, Any]]:
    def user(email: str, **data: Any) -> dict[str, Any]:
        base = {
            "id": user_id(server, email),
            "primaryEmail": email,
            "aliases": [],
            "employeeId": None,
            "suspended": False,
            "suspensionReason": None,
            "archived": False,
            "isAdmin": False,
            "isDelegatedAdmin": False,
            "isEnrolledIn2Sv": False,
            "isEnforcedIn2Sv": False,
            "lastLoginTime": None,
            "creationTime": "2024-01-15T09:00:00.000Z",
            "orgUnitPath": "/",
        }
        return base | data  # fmt: skip

    return {
        ADMIN: user(ADMIN, aliases=["root@acme.com"], employeeId="E1", isAdmin=True, isEnrolledIn2Sv=True,
                    isEnforcedIn2Sv=True, lastLoginTime="2026-11-20T08:00:00.000Z"),
        "alice@acme.com": user("alice@acme.com", employeeId="E2", isDelegatedAdmin=True, isEnrolledIn2Sv=True,
                               lastLoginTime="2026-11-25T10:30:00.000Z"),
        "bob@acme.com": user("bob@acme.com", creationTime="2026-11-01T09:00:00.000Z"),
        "carol@acme.com": user("carol@acme.com", employeeId="E3", suspended=True, suspensionReason="ADMIN",
                               lastLoginTime="2025-03-01T12:00:00.000Z"),
        "dan@acme.co.uk": user("dan@acme.co.uk", archived=True, lastLoginTime="2024-06-01T12:00:00.000Z"),
        "eve@acme.co.uk": user("eve@acme.co.uk", orgUnitPath="/Contractors",
                               lastLoginTime="2026-11-26T09:12:00.000Z"),
        "frank@acme.com": user("frank@acme.com", isEnforcedIn2Sv=True, lastLoginTime="2026-11-26T09:00:00.000Z"),
    }  # fmt: skip


def test_both_sources_are_collectors_of_the_customer_scope(server):
    assert sorted(s for s in REGISTRY.collectors if s.startswith("google_workspace.")) == [ASSIGNMENTS, USERS]
    assert {REGISTRY.collectors[s].scope_kind for s in (USERS, ASSIGNMENTS)} == {"google_workspace_customer"}
    assert REGISTRY.collectors[USERS].freshness.total_seconds() == 24 * 3600
    assert customer(server).scope == "google_workspace:my_customer"
    assert customer(server, customer_id="C01acme00").scope == "google_workspace:C01acme00"


def test_users_of_every_page_carry_only_what_the_checks_read(server):
    records = collect(USERS, customer(server))
    assert by_email(records) == expected_users(server)
    assert list(records) == [r["id"] for r in server.world.users]  # keyed by user id, in listing order
    assert server.hits[USERS_PATH] == 4  # seven users, two a page (the server caps the 500 asked for)
    query = server.queries[USERS_PATH]
    assert {k: query[k] for k in ("customer", "maxResults", "projection", "fields")} == {
        "customer": "my_customer",
        "maxResults": "500",
        "projection": "basic",
        "fields": FIELDS,
    }
    assert "domain" not in query
    assert server.authorizations == {f"Bearer {TOKEN}"}


def test_the_simulator_refuses_a_field_the_user_resource_lacks(server):
    """What makes the test above meaningful: a field mask naming a wrong field is refused, as by Google."""
    users = customer(server).api.directory().users()
    with pytest.raises(HttpError) as info:
        users.list(customer="my_customer", fields="nextPageToken,users(id,isSuperAdmin)").execute()
    assert info.value.resp.status == 400 and "Invalid field selection isSuperAdmin" in str(info.value.reason)


def test_never_signed_in_is_null_and_the_first_organization_id_is_the_employee_id(server):
    records = by_email(collect(USERS, customer(server)))
    assert server.world.by_email["bob@acme.com"]["lastLoginTime"] == NEVER
    assert records["bob@acme.com"]["lastLoginTime"] is None
    assert records["alice@acme.com"]["employeeId"] == "E2"  # after a custom id, before a second one


def test_a_domain_lists_that_domains_users_only(server):
    records = by_email(collect(USERS, customer(server, domain="acme.co.uk")))
    assert records == {k: v for k, v in expected_users(server).items() if k.endswith("@acme.co.uk")}
    query = server.queries[USERS_PATH]
    assert query["domain"] == "acme.co.uk" and "customer" not in query
    assert server.hits[USERS_PATH] == 1


def test_an_empty_listing_is_evidence_not_an_error(monkeypatch):
    monkeypatch.setenv("GW_TEST_TOKEN", TOKEN)
    world = WorkspaceWorld()
    world.grant(TOKEN)
    with WorkspaceServer(world) as srv:
        target = customer(srv)
        assert collect(USERS, target) == {} and collect(ASSIGNMENTS, target) == {}
    assert srv.hits[USERS_PATH] == 1


def test_role_assignments_are_joined_to_their_roles(server):
    roles = {r["roleName"]: r["roleId"] for r in server.world.roles}
    alice = user_id(server, "alice@acme.com")
    records = collect(ASSIGNMENTS, customer(server))
    assert list(records) == [r["roleAssignmentId"] for r in server.world.assignments]
    assert all(rid == data.pop("roleAssignmentId") for rid, data in records.items())
    assert list(records.values()) == [
        {"roleId": roles["_SEED_ADMIN_ROLE"], "roleName": "_SEED_ADMIN_ROLE", "isSuperAdminRole": True,
         "assignedTo": user_id(server, ADMIN), "assigneeType": "user", "scopeType": "CUSTOMER", "orgUnitId": None},
        {"roleId": roles["_GROUPS_ADMIN_ROLE"], "roleName": "_GROUPS_ADMIN_ROLE", "isSuperAdminRole": False,
         "assignedTo": alice, "assigneeType": "user", "scopeType": "ORG_UNIT", "orgUnitId": "03ph8a2z1engineer"},
        {"roleId": roles["_HELP_DESK_ADMIN_ROLE"], "roleName": "_HELP_DESK_ADMIN_ROLE", "isSuperAdminRole": False,
         "assignedTo": "04grp0helpdesk", "assigneeType": "group", "scopeType": "CUSTOMER", "orgUnitId": None},
        {"roleId": roles["Billing reader"], "roleName": "Billing reader", "isSuperAdminRole": False,
         "assignedTo": alice, "assigneeType": "user", "scopeType": "CUSTOMER", "orgUnitId": None},
    ]  # fmt: skip
    assert server.hits[ROLES_PATH] == 3 and server.hits[ASSIGNMENTS_PATH] == 2  # five roles, four assignments
    assert server.queries[ASSIGNMENTS_PATH]["maxResults"] == "200"


def test_an_assignment_of_a_role_the_listing_lacks_fails_the_source(server):
    ghost = {"roleId": "777", "roleName": "gone"}
    server.world.assign(ghost, user_id(server, "bob@acme.com"))
    with pytest.raises(InputDataError, match=r"names role 777, which roles.list did not return$"):
        collect(ASSIGNMENTS, customer(server))


def key_file(server: WorkspaceServer, tmp_path: Path) -> str:
    path = tmp_path / "annexa-sa.json"
    path.write_text(json.dumps(server.new_service_account(SA_EMAIL)))
    return str(path)


def test_a_service_account_acts_as_the_admin_through_the_jwt_bearer_grant(server, tmp_path):
    target = customer(
        server, access_token_env="", credentials_file=key_file(server, tmp_path), admin_email=ADMIN
    )
    assert by_email(collect(USERS, target)) == expected_users(server)
    assert len(collect(ASSIGNMENTS, target)) == 4
    assert server.hits["POST /token"] == 1  # one token for both collectors, both scopes
    [(token, grant)] = [(t, g) for t, g in server.world.tokens.items() if t != TOKEN]
    assert grant.subject == ADMIN and grant.scopes == {
        "https://www.googleapis.com/auth/admin.directory.user.readonly",
        "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly",
    }
    assert server.authorizations == {"", f"Bearer {token}"}  # the token request carries none


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no such user", "directory.users.list customer=my_customer: authentication failed: "
                         "invalid_grant: Invalid email or User ID"),
        ("not an admin", "access denied: directory.users.list customer=my_customer (HTTP 403 forbidden)"),
        ("another key", "directory.users.list customer=my_customer: authentication failed: "
                        "invalid_grant: Invalid JWT Signature."),
        ("scope not delegated", "directory.users.list customer=my_customer: authentication failed: "
                                "unauthorized_client: Client is unauthorized to retrieve access tokens"),
    ],
)  # fmt: skip
def test_service_account_refusals_are_one_line_without_the_key(server, tmp_path, caplog, case, message):
    delegated = [USERS_READONLY] if case == "scope not delegated" else READONLY_SCOPES
    doc = server.new_service_account(SA_EMAIL, scopes=delegated)
    if case == "another key":  # signed with a key Google never registered for the account
        doc = server.new_service_account("other@x.iam.gserviceaccount.com") | {"client_email": SA_EMAIL}
    admin = {"no such user": "nobody@acme.com", "not an admin": "bob@acme.com"}.get(case, ADMIN)
    path = tmp_path / "annexa-sa.json"
    path.write_text(json.dumps(doc))
    target = customer(server, access_token_env="", credentials_file=str(path), admin_email=admin)
    with caplog.at_level(logging.DEBUG), pytest.raises(CollectorError) as info:
        collect(USERS, target)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)
    key = doc["private_key"].splitlines()[1]
    assert key not in str(info.value) and key not in caplog.text


def test_a_token_without_the_role_scope_is_denied_insufficient_permissions(server):
    server.world.grant(TOKEN, scopes=[USERS_READONLY])
    target = customer(server)
    assert len(collect(USERS, target)) == 7
    with pytest.raises(CollectorError) as info:
        collect(ASSIGNMENTS, target)
    assert str(info.value) == (
        "access denied: directory.roles.list customer=my_customer (HTTP 403 insufficientPermissions)"
    )
    assert server.hits[ROLES_PATH] == 1  # a denial is not retried


@pytest.mark.parametrize("status", [429, 403])
def test_quota_answers_are_retried_after_retry_after_then_succeed(server, waits, status):
    server.world.faults[SECOND_USERS_PAGE] = rate_limited(status, times=2, retry_after="4")
    assert by_email(collect(USERS, customer(server))) == expected_users(server)
    assert waits.slept == [4.0, 4.0]  # Retry-After outweighs the 0.5 s and 1 s backoff
    assert server.hits[USERS_PATH] == 6  # four pages, the second asked three times: not restarted


def test_quota_that_never_recovers_fails_after_max_attempts(server, waits):
    server.world.faults[r"/roleassignments"] = rate_limited(403, retry_after=None)
    with pytest.raises(CollectorError) as info:
        collect(ASSIGNMENTS, customer(server))
    assert str(info.value) == (
        "directory.roleAssignments.list customer=my_customer: HTTP 403 rateLimitExceeded: "
        "Rate Limit Exceeded after 3 attempts"
    )
    assert server.hits[ASSIGNMENTS_PATH] == 3
    assert 0.25 <= waits.slept[0] <= 0.5 and 0.5 <= waits.slept[1] <= 1.0  # exponential, jittered


def test_server_errors_are_retried_then_fail_with_googles_message(server, waits):
    server.world.faults[r"/roles\?"] = Fault(500, "Internal error encountered.", times=1)
    server.world.faults[r"/roleassignments"] = Fault(503, "The service is currently unavailable.")
    with pytest.raises(CollectorError) as info:
        collect(ASSIGNMENTS, customer(server))
    assert str(info.value) == (
        "directory.roleAssignments.list customer=my_customer: HTTP 503 backendError: "
        "The service is currently unavailable. after 3 attempts"
    )
    assert server.hits[ROLES_PATH] == 4 and len(waits.slept) == 3  # roles: one retry; assignments: two


def test_a_rejected_token_is_401_not_retried_and_never_echoed(server, monkeypatch, caplog, capsys):
    monkeypatch.setenv("GW_TEST_TOKEN", "ya29.wrong-token-that-must-not-leak")
    with caplog.at_level(logging.DEBUG), pytest.raises(CollectorError) as info:
        collect(USERS, customer(server))
    assert str(info.value).startswith(
        "directory.users.list customer=my_customer: HTTP 401 authError: "
        "Request had invalid authentication credentials."
    )
    assert server.hits[USERS_PATH] == 1  # a static token is not refreshed, nor retried
    seen = str(info.value) + caplog.text + "".join(capsys.readouterr())
    assert "wrong-token-that-must-not-leak" not in seen and TOKEN not in seen


def test_a_failed_second_page_fails_the_listing_after_the_first_was_streamed(server, waits):
    server.world.faults[SECOND_USERS_PAGE] = google_fault(
        403, "forbidden", "Not Authorized to access this resource/api"
    )
    listed: list[str] = []
    with pytest.raises(CollectorError) as info:
        for record in REGISTRY.collectors[USERS].func(customer(server)):
            listed.append(record.data["primaryEmail"])
    assert listed == [ADMIN, "alice@acme.com"]  # page one was yielded before page two was asked for
    assert str(info.value) == "access denied: directory.users.list customer=my_customer (HTTP 403 forbidden)"
    assert server.hits[USERS_PATH] == 2 and waits.slept == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        # google-api-python-client hands back a 2xx body that is not JSON as its text
        ('{"users": [', r"^directory.users.list customer=my_customer: a page that is not a JSON object$"),
        ("[]", r": a page that is not a JSON object$"),
        ('{"users": {"id": "1"}}', r": `users` is not a list of objects$"),
        ('{"users": [{"id": "1", "primaryEmail": "a@acme.com"}]}', r": user 1 without a boolean suspended$"),
        ('{"users": [{"primaryEmail": "a@acme.com"}]}', r": an item without id$"),
        ('{"nextPageToken": "same"}', r": the API returned the same page token twice$"),
    ],
)
def test_an_answer_that_cannot_be_trusted_fails_the_listing(server, body, message):
    server.world.faults[r"/users\?"] = Fault(200, body=body)
    with pytest.raises(InputDataError, match=message):
        collect(USERS, customer(server))


def test_a_thousand_users_page_at_five_hundred(monkeypatch):
    monkeypatch.setenv("GW_TEST_TOKEN", TOKEN)
    world = WorkspaceWorld()
    world.add_users(1203, "big.example", isEnrolledIn2Sv=True)
    world.grant(TOKEN)
    with WorkspaceServer(world) as srv:
        records = collect(USERS, customer(srv))
    assert len(records) == 1203 and all(r["isEnrolledIn2Sv"] for r in records.values())
    assert srv.hits[USERS_PATH] == 3


def test_a_key_file_that_is_not_a_service_account_key_is_a_clear_error(server, tmp_path):
    path = tmp_path / "key.json"
    path.write_text('{"type": "service_account"}')
    with pytest.raises(
        CollectorError, match=r"^\[google_workspace\] credentials_file .*key\.json: not a service-account key"
    ):
        customer(server, access_token_env="", credentials_file=str(path), admin_email=ADMIN)


@pytest.mark.parametrize(
    ("workspace", "message"),
    [
        ({}, "[google_workspace] credentials_file: no credentials: set credentials_file and admin_email"),
        ({"credentials_file": "KEY"}, "[google_workspace] admin_email: required with credentials_file"),
        ({"credentials_file": "KEY", "access_token_env": "GW_TEST_TOKEN", "admin_email": ADMIN},
         "[google_workspace] credentials_file: set credentials_file or access_token_env, not both"),
        ({"credentials_file": "/nonexistent/key.json", "admin_email": ADMIN},
         "[google_workspace] credentials_file: /nonexistent/key.json is not a readable file"),
        ({"access_token_env": "UNSET_GW_TOKEN"}, "[google_workspace] access_token_env: environment variable"),
        ({"access_token_env": "GW_TEST_TOKEN", "customer_id": "acme"}, "[google_workspace] customer_id: String"),
        ({"access_token_env": "GW_TEST_TOKEN", "domain": "not a domain"}, "[google_workspace] domain: String"),
        ({"credentials_file": "KEY", "admin_email": "admin"}, "[google_workspace] admin_email: String"),
        ({"access_token_env": "GW_TEST_TOKEN", "max_attempts": 0}, "[google_workspace] max_attempts"),
    ],
)  # fmt: skip
def test_settings_errors_are_one_line_naming_the_key(monkeypatch, tmp_path, workspace, message):
    monkeypatch.setenv("GW_TEST_TOKEN", TOKEN)
    monkeypatch.delenv("UNSET_GW_TOKEN", raising=False)
    (tmp_path / "key.json").write_text("{}")
    if workspace.get("credentials_file") == "KEY":
        workspace = workspace | {"credentials_file": str(tmp_path / "key.json")}
    with pytest.raises(ConfigError) as info:
        build_settings({"google_workspace": {"enabled": True, **workspace}})
    assert message in str(info.value) and "\n" not in str(info.value) and TOKEN not in str(info.value)


def test_a_disabled_section_needs_nothing():
    assert not build_settings({"google_workspace": {}}).system_enabled("google_workspace")


def test_the_delegation_document_in_deploy_is_what_the_generator_prints():
    path = Path(__file__).parents[1] / "deploy" / "google_workspace" / "oauth-scopes.json"
    assert path.read_text() == render(REGISTRY, "google_workspace")
    doc = json.loads(path.read_text())
    assert doc["admin_console"] == ",".join(doc["oauth_scopes"]) and len(doc["oauth_scopes"]) == 2
