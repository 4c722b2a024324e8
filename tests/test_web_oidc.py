"""Signing in to the dashboard through OpenID Connect, against a local provider over real HTTP.

The browser's part is played by hand: Starlette's TestClient (over `https://testserver`, so the
Secure session cookie round-trips) talks to the dashboard, httpx follows the redirect to the
provider's /authorize, and the provider's redirect back is fed to the dashboard's callback. Inside
the app authlib fetches discovery, the token and the key set from the provider over real HTTP.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from agent.web.app import create_app
from tests.fakeplugin import fake_system_settings
from tests.oidc_provider import Fault, Person, Provider

CLIENT_ID = "annexa-dashboard"
SECRET = "oidc-client-secret-never-shown-0123456789"
SECRET_ENV = "ANNEXA_TEST_OIDC_SECRET"
CALLBACK = "https://testserver/auth/callback"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
NOT_STARTED_HERE = "this sign-in was not started here or was already used: sign in again"
ANN = Person("u-1001", "ann@example.com", ("staff", "grc-team"))


@pytest.fixture
def provider() -> Iterator[Provider]:
    p = Provider(CLIENT_ID, SECRET, CALLBACK).start()
    yield p
    p.stop()


def dashboard(tmp_path: Path, provider: Provider, store: Any, registry: Any, **web: Any) -> Starlette:
    settings = fake_system_settings(
        store={"url": store.engine.url.render_as_string(hide_password=False)},
        web={
            "session_key_file": str(tmp_path / "web.key"),
            "oidc_issuer": provider.url,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret_env": SECRET_ENV,
            "roles": {"grc-team": "editor"},
            **web,
        },
    )
    return create_app(settings, store, registry, None, clock=lambda: NOW)


@pytest.fixture
def app(tmp_path: Path, provider: Provider, fake_store: Any, fake_registry: Any, monkeypatch) -> Starlette:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return dashboard(tmp_path, provider, fake_store, fake_registry)


def dashboard_like(app: Starlette) -> Starlette:
    """Another dashboard process with the same settings, store and registry (nothing cached)."""
    web = app.state.web
    return create_app(web.settings, web.store, web.registry, None, clock=lambda: NOW)


def browser(app: Starlette) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def to_provider(c: TestClient, next_page: str = "/ncs") -> str:
    """The dashboard's redirect to the provider, followed there: the provider's redirect back."""
    start = c.get("/login/oidc", params={"next": next_page})
    assert start.status_code == 302, start.text
    assert start.headers["location"].startswith(f"{c.app.state.web.settings.web.oidc_issuer}/authorize?")
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302, at_provider.text
    back: str = at_provider.headers["location"]
    assert back.startswith(f"{CALLBACK}?")
    return back


def sign_in(c: TestClient, next_page: str = "/ncs") -> httpx.Response:
    return c.get(to_provider(c, next_page))


def problem_of(html: str) -> str:
    found = re.search(r'<p class="problem" id="problem">([^<]*)</p>', html)
    assert found, "the page says no reason"
    return unescape(found.group(1))


def signed_out(c: TestClient) -> bool:
    answer = c.get("/")
    return answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_a_person_in_a_mapped_group_signs_in_with_the_groups_role_and_lands_on_next(app, provider):
    provider.signs_in(ANN)
    c = browser(app)
    done = sign_in(c)
    assert done.status_code == 303 and done.headers["location"] == "/ncs"
    page = c.get("/ncs")
    assert page.status_code == 200
    assert '<span id="user">ann@example.com</span> <span class="role">editor</span>' in page.text
    # the protocol as the provider saw it: code flow with openid, state and nonce; secret sent by Basic
    (asked,) = provider.requests_to("/authorize")
    assert asked.query["response_type"] == "code" and "openid" in asked.query["scope"].split()
    assert asked.query["state"] and asked.query["nonce"] and asked.query["redirect_uri"] == CALLBACK
    assert asked.query["code_challenge_method"] == "S256" and asked.query["code_challenge"]  # PKCE
    (redeemed,) = provider.requests_to("/token")
    assert redeemed.form["code_verifier"]  # and the provider checked it against the challenge
    assert redeemed.headers["authorization"].startswith("Basic ") and "client_secret" not in redeemed.form
    assert len(provider.requests_to("/jwks")) == 1


def test_an_address_the_provider_has_not_verified_never_names_the_person(app, provider):
    provider.signs_in(Person("u-77", email="ann@example.com", groups=(), email_verified=False))
    c = browser(app)
    sign_in(c)
    page = c.get("/")
    assert page.status_code == 403 and '<span id="user">u-77</span>' in page.text  # not ann's editor role


def test_the_name_falls_back_to_the_subject_and_a_person_without_a_role_is_refused_every_page(app, provider):
    provider.signs_in(Person("u-2002", "", ("staff",)))
    c = browser(app)
    assert sign_in(c).status_code == 303
    for path in ("/", "/ncs", "/controls", "/runs"):
        page = c.get(path)
        assert page.status_code == 403, path
        assert "your role (none) may not do this" in page.text and 'id="user">u-2002<' in page.text


def test_default_role_gives_an_unmapped_person_access(
    tmp_path, provider, fake_store, fake_registry, monkeypatch
):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    app = dashboard(tmp_path, provider, fake_store, fake_registry, default_role="viewer")
    provider.signs_in(Person("u-3003", "vic@example.com", ()))
    c = browser(app)
    sign_in(c)
    page = c.get("/ncs")
    assert page.status_code == 200 and '<span class="role">viewer</span>' in page.text


def test_groups_are_read_from_the_configured_claim(
    tmp_path, provider, fake_store, fake_registry, monkeypatch
):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    app = dashboard(tmp_path, provider, fake_store, fake_registry, oidc_groups_claim="roles")
    provider.signs_in(ANN)
    provider.groups_claim = "groups"  # not where the dashboard looks: no group, no role
    c = browser(app)
    sign_in(c)
    assert c.get("/ncs").status_code == 403
    provider.groups_claim = "roles"
    c = browser(app)
    sign_in(c)
    assert '<span class="role">editor</span>' in c.get("/ncs").text


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault.WRONG_NONCE, "the provider's ID token is not valid: invalid_claim (Invalid claim: 'nonce')"),
        (Fault.WRONG_ISSUER, "the provider's ID token is not valid: invalid_claim (Invalid claim: 'iss')"),
        (Fault.WRONG_AUDIENCE, "the provider's ID token is not valid: invalid_claim (Invalid claim: 'aud')"),
        (Fault.AZP_ONLY, "the provider's ID token is not valid: invalid_claim (Invalid claim: 'aud')"),
        (Fault.EXPIRED, "the provider's ID token is not valid: expired_token (The token is expired)"),
        (Fault.FOREIGN_KEY, "the provider's ID token is not valid: bad_signature"),
        (Fault.ACCESS_DENIED, "the provider refused the sign-in: access_denied"),
        (Fault.TOKEN_500, "the provider answered HTTP 500"),
    ],
)
def test_a_sign_in_the_provider_botches_is_refused_in_one_line_without_a_session(
    app, provider, fault, reason
):
    provider.signs_in(ANN)
    provider.fault = fault
    c = browser(app)
    refused = sign_in(c)
    assert refused.status_code == 401
    assert problem_of(refused.text) == f"sign-in failed: {reason}"
    assert provider.url not in refused.text
    assert signed_out(c)


def test_a_dashboard_holding_the_wrong_secret_is_refused_by_the_provider(
    tmp_path, provider, fake_store, fake_registry, monkeypatch
):
    monkeypatch.setenv(SECRET_ENV, "a-secret-the-provider-never-issued")
    app = dashboard(tmp_path, provider, fake_store, fake_registry)
    provider.signs_in(ANN)
    c = browser(app)
    refused = sign_in(c)
    assert refused.status_code == 401
    assert problem_of(refused.text) == "sign-in failed: the provider refused the sign-in: invalid_client"
    assert signed_out(c)


def test_next_pointing_to_another_origin_is_ignored(app, provider):
    provider.signs_in(ANN)
    for elsewhere in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        c = browser(app)
        assert sign_in(c, elsewhere).headers["location"] == "/"


def test_a_replayed_callback_and_a_callback_from_another_browser_are_refused(app, provider):
    provider.signs_in(ANN)
    victim = browser(app)
    back = to_provider(victim)
    attacker = browser(app)
    attacker.get("/login/oidc")  # a flow of its own: a state, but not this one
    stolen = attacker.get(back)
    assert stolen.status_code == 401 and problem_of(stolen.text) == f"sign-in failed: {NOT_STARTED_HERE}"
    assert signed_out(attacker)
    assert provider.requests_to("/token") == []  # refused before the code was ever redeemed
    assert victim.get(back).status_code == 303
    replayed = victim.get(back)
    assert replayed.status_code == 401 and problem_of(replayed.text) == f"sign-in failed: {NOT_STARTED_HERE}"
    assert len(provider.requests_to("/token")) == 1


def test_a_provider_that_cannot_be_reached_is_told_in_one_line_without_its_url(app, provider, caplog, capsys):
    provider.signs_in(ANN)
    c = browser(app)
    back = to_provider(c)  # discovery done, the person sent back: then the provider goes away
    provider.stop()
    with caplog.at_level(logging.DEBUG):
        refused = c.get(back)
        assert refused.status_code == 401
        assert problem_of(refused.text) == "sign-in failed: the provider could not be reached (ConnectError)"
        fresh = browser(dashboard_like(app))  # a dashboard that never reached it, not even for discovery
        start = fresh.get("/login/oidc")
        assert start.status_code == 502
        assert problem_of(start.text) == "sign-in failed: the provider could not be reached (ConnectError)"
    assert signed_out(c) and signed_out(fresh)
    logged = caplog.text + "".join(capsys.readouterr())
    assert logged.count("web_sign_in_refused") == 2 and "dashboard_error" not in logged
    assert provider.url not in logged + refused.text + start.text


def test_the_client_secret_never_reaches_the_logs_or_a_page(app, provider, caplog, capsys):
    provider.signs_in(ANN)
    bodies: list[str] = []
    with caplog.at_level(logging.DEBUG):
        for fault in (Fault.NONE, Fault.TOKEN_500, Fault.FOREIGN_KEY, Fault.ACCESS_DENIED):
            provider.fault = fault
            c = browser(app)
            start = c.get("/login/oidc")
            back = httpx.get(start.headers["location"]).headers["location"]
            done = c.get(back)
            for answer in (start, done, c.get("/ncs"), c.get("/login")):
                bodies += [answer.text, *answer.headers.values()]
    logged = caplog.text + "".join(capsys.readouterr())
    assert "web_signed_in" in logged and "web_sign_in_refused" in logged  # the logs were captured
    assert SECRET not in logged + "".join(bodies)
    # ... and yet it travelled, to the provider's token endpoint alone (client_secret_basic)
    basic = {s.headers["authorization"] for s in provider.requests_to("/token")}
    assert basic == {"Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()}
    assert all(SECRET not in str(s) for s in provider.seen if s.path != "/token")
