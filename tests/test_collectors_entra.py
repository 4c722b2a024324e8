"""Entra collectors: the real msgraph-sdk against a local Graph server (paging, $select, throttling, errors)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from azure.identity import CertificateCredential, ClientSecretCredential, ManagedIdentityCredential
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from agent.errors import CollectorError, InputDataError
from collectors.entra import client
from collectors.entra.auth_methods import auth_methods
from collectors.entra.client import StaticToken, credential, retry_after
from collectors.entra.conditional_access import conditional_access
from collectors.entra.directory_roles import directory_roles
from collectors.entra.settings import EntraSettings
from collectors.entra.targets import EntraTenant
from collectors.entra.users import users
from tests.clock import FakeTime
from tests.graph_server import (
    GLOBAL_ADMIN_TEMPLATE,
    GROUP,
    SERVICE_PRINCIPAL,
    USER,
    GraphData,
    GraphFault,
    GraphServer,
    directory,
    mfa_policy,
    role,
    user,
)

TOKEN = "eyJ0eXAiOiJKV1QifQ.local-test-token"
TENANT_ID = "11111111-2222-3333-4444-555555555555"
USERS_PATH = "/v1.0/users"


def tenant_data() -> GraphData:
    members = [
        user(f"u{i}", f"user{i}@acme.com", employee_id=f"E{i}", last_sign_in="2026-10-30T08:00:00Z")
        for i in range(5)
    ]
    return directory(
        [*members, user("g1", "p_partner.com#EXT#@acme.onmicrosoft.com", user_type="Guest", enabled=False)],
        mfa={f"u{i}": i % 2 == 0 for i in range(5)},
        policy=mfa_policy("p1", exclude_users=["u4"]),
        admin_role="r1",
        admins=[(USER, "u0"), (USER, "u1"), (GROUP, "grp"), (SERVICE_PRINCIPAL, "sp")],
        roles=[role("r2", "Helpdesk Administrator", "729827e3-9c14-49f7-bb1b-9608f156bbb8", [])],
    )


@pytest.fixture
def graph(monkeypatch):
    monkeypatch.setenv("GRAPH_TOKEN", TOKEN)
    with GraphServer(tenant_data(), token=TOKEN, page_size=2) as server:
        yield server


def tenant(server: GraphServer, **extra) -> EntraTenant:
    settings = EntraSettings(
        enabled=True,
        tenant_id=TENANT_ID,
        access_token_env="GRAPH_TOKEN",
        graph_url=server.url,
        **{"max_retry_wait": 2, **extra},
    )
    return EntraTenant(TENANT_ID, settings)


def test_users_are_paged_through_next_links_with_only_selected_fields(graph):
    target = tenant(graph)
    assert target.scope == f"entra:{TENANT_ID}"
    records = list(users(target))
    assert [r.resource_id for r in records] == ["u0", "u1", "u2", "u3", "u4", "g1"]
    assert graph.hits[USERS_PATH] == 3  # pages of 2 (the server's limit), via @odata.nextLink
    assert records[0].data == {
        "id": "u0",
        "displayName": "user0",
        "userPrincipalName": "user0@acme.com",
        "mail": "user0@acme.com",
        "accountEnabled": True,
        "userType": "Member",
        "employeeId": "E0",
        "createdDateTime": "2024-01-01T09:00:00+00:00",
        "externalUserState": None,
        "lastSignInDateTime": "2026-10-30T08:00:00+00:00",
        "lastNonInteractiveSignInDateTime": None,
        "lastSuccessfulSignInDateTime": "2026-10-30T08:00:00+00:00",
    }
    guest = records[-1].data
    assert (guest["userType"], guest["accountEnabled"], guest["lastSignInDateTime"]) == ("Guest", False, None)


def test_registration_policies_and_roles(graph):
    target = tenant(graph)
    regs = {r.resource_id: r.data for r in auth_methods(target)}
    assert len(regs) == 5 and regs["u0"]["isMfaRegistered"] is True and regs["u1"]["methodsRegistered"] == []
    ca = {r.resource_id: r.data for r in conditional_access(target)}
    assert ca["p1"]["state"] == "enabled" and ca["p1"]["builtInControls"] == ["mfa"]
    assert ca["p1"]["includeUsers"] == ["All"] and ca["p1"]["excludeUsers"] == ["u4"]
    assert ca["securityDefaults"] == {"kind": "security_defaults", "isEnabled": False}
    roles = {r.resource_id: r.data for r in directory_roles(target)}
    assert roles["r1"]["roleTemplateId"] == GLOBAL_ADMIN_TEMPLATE
    assert roles["r1"]["members"] == [
        {"id": "grp", "type": "group"},
        {"id": "sp", "type": "servicePrincipal"},
        {"id": "u0", "type": "user"},
        {"id": "u1", "type": "user"},
    ]
    assert graph.hits["/v1.0/directoryRoles/r1/members"] == 2 and roles["r2"]["members"] == []


@pytest.fixture
def clock(monkeypatch) -> FakeTime:
    """The Graph client's waits, recorded instead of slept."""
    fake = FakeTime()
    monkeypatch.setattr(client, "time", fake)
    return fake


def test_throttling_with_retry_after_is_retried_to_success(graph, clock):
    graph.faults.append(GraphFault(USERS_PATH, status=429, retry_after="1", times=1))
    assert len(list(users(tenant(graph)))) == 6
    assert clock.slept == [1.0]  # Retry-After was honoured
    assert graph.hits[USERS_PATH] == 4


def test_retry_after_is_bounded_by_max_retry_wait(graph, clock):
    graph.faults.append(GraphFault(USERS_PATH, status=503, retry_after="3600", times=1))
    assert len(list(users(tenant(graph, max_retry_wait=0.2)))) == 6
    assert clock.slept == [0.2]


def test_a_server_that_keeps_failing_gives_a_collector_error(graph):
    graph.faults.append(GraphFault(USERS_PATH, status=503, retry_after="0", times=None))
    with pytest.raises(CollectorError) as info:
        list(users(tenant(graph, max_attempts=3)))
    assert str(info.value) == (
        "Graph GET /users: HTTP 503 ServiceUnavailable: Too many requests or service unavailable. after 3 attempts"
    )
    assert graph.hits[USERS_PATH] == 3


def test_a_failure_on_a_later_page_fails_the_whole_listing(graph):
    graph.faults.append(GraphFault(USERS_PATH, status=500, retry_after=None, times=None))
    graph.faults[0].times = None
    with pytest.raises(CollectorError, match="HTTP 500 InternalServerError"):
        list(users(tenant(graph)))


def test_a_malformed_value_rejects_the_listing_naming_the_field(monkeypatch):
    """Pages are read as Graph's JSON: a value that is not what Graph writes fails the listing."""
    monkeypatch.setenv("GRAPH_TOKEN", TOKEN)
    bad_time = user("u1", "a@acme.com", last_sign_in="yesterday")
    bad_activity = {**user("u2", "b@acme.com"), "signInActivity": ["2026-10-30T08:00:00Z"]}
    for broken, message in [
        (bad_time, "GET /users: lastSignInDateTime 'yesterday' is not a timestamp"),
        (bad_activity, "GET /users: signInActivity that is not an object"),
    ]:
        served = GraphServer(GraphData(users=[user("u0", "z@acme.com"), broken]), token=TOKEN)
        with served as server, pytest.raises(InputDataError) as info:
            list(users(tenant(server)))
        assert str(info.value) == f"Graph {message}"


def test_a_user_without_account_enabled_is_stored_without_a_guess(monkeypatch):
    """Graph omits fields it has no value for; the evidence says so (None) rather than False."""
    monkeypatch.setenv("GRAPH_TOKEN", TOKEN)
    silent = {k: v for k, v in user("u0", "a@acme.com").items() if k != "accountEnabled"}
    with GraphServer(GraphData(users=[silent]), token=TOKEN) as server:
        (record,) = users(tenant(server))
    assert record.data["accountEnabled"] is None


def test_wrong_token_is_access_denied_and_never_echoed(graph, monkeypatch):
    monkeypatch.setenv("GRAPH_TOKEN", "eyJhbGciOi.wrong-secret-token")
    with pytest.raises(CollectorError) as info:
        list(users(tenant(graph)))
    assert str(info.value) == "access denied: Graph GET /users (HTTP 401 InvalidAuthenticationToken)"


def test_forbidden_and_html_error_pages_read_as_one_line(graph):
    graph.faults.append(GraphFault("/v1.0/identity", status=403, retry_after=None, times=1))
    with pytest.raises(
        CollectorError, match=r"^access denied: Graph GET /identity/conditionalAccess/policies"
    ):
        list(conditional_access(tenant(graph)))
    graph.faults.append(
        GraphFault(
            "/v1.0/directoryRoles",
            status=502,
            retry_after=None,
            times=1,
            body="<html><body>Bad gateway</body></html>",
        )
    )
    with pytest.raises(CollectorError, match=r"^Graph GET /directoryRoles: HTTP 502"):
        list(directory_roles(tenant(graph)))


def test_unreachable_graph_is_a_collector_error(monkeypatch):
    monkeypatch.setenv("GRAPH_TOKEN", TOKEN)
    settings = EntraSettings(
        enabled=True,
        tenant_id=TENANT_ID,
        access_token_env="GRAPH_TOKEN",
        graph_url="http://127.0.0.1:9",
        max_attempts=1,
    )
    with pytest.raises(CollectorError, match=r"^Graph GET /users: ConnectError"):
        list(users(EntraTenant(TENANT_ID, settings)))


def self_signed_pem() -> bytes:
    """A throwaway key and certificate, as `certificate_path` expects them (PEM, key included)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "annexa-test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    private = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return private + cert.public_bytes(pem)


def test_credentials_follow_the_entra_section(tmp_path, monkeypatch):
    monkeypatch.setenv("ENTRA_SECRET", "s3cret")
    base = {"enabled": True, "tenant_id": TENANT_ID, "client_id": "app-id"}
    assert isinstance(
        credential(EntraSettings(**base, client_secret_env="ENTRA_SECRET")), ClientSecretCredential
    )
    secret_file = tmp_path / "secret"
    secret_file.write_text("s3cret\n")
    assert isinstance(
        credential(EntraSettings(**base, client_secret_file=str(secret_file))), ClientSecretCredential
    )
    cert = tmp_path / "cert.pem"
    cert.write_bytes(self_signed_pem())
    assert isinstance(credential(EntraSettings(**base, certificate_path=str(cert))), CertificateCredential)
    cert.write_text("not a certificate")
    with pytest.raises(CollectorError, match=r"certificate_path .*cert\.pem: Failed to deserialize"):
        credential(EntraSettings(**base, certificate_path=str(cert)))
    assert isinstance(credential(EntraSettings(**base, managed_identity=True)), ManagedIdentityCredential)
    monkeypatch.setenv("GRAPH_TOKEN", TOKEN)
    static = credential(EntraSettings(**base, access_token_env="GRAPH_TOKEN"))
    assert isinstance(static, StaticToken) and static.get_token("x").token == TOKEN


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert retry_after({"retry-after": "7"}, now) == 7.0
    assert retry_after({"retry-after": "Sun, 01 Nov 2026 12:00:30 GMT"}, now) == 30.0
    assert retry_after({}, now) is None and retry_after({"retry-after": "soon"}, now) is None
