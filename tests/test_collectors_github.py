"""GitHub collectors: the real PyGithub against a local GitHub (paging, rate limits, errors, App auth),
through the registry's resolver as the runner drives them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3.util.retry
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from agent.config.settings import build_settings
from agent.errors import CollectorError, ConfigError, InputDataError
from agent.plugin.loader import load_plugins
from collectors.github.targets import GithubOrg
from tests import github_server
from tests.clock import FakeTime
from tests.github_server import (
    INSTALLATION_TOKEN,
    NO_GHAS,
    SECONDARY_LIMIT,
    Fault,
    GithubServer,
    GithubWorld,
    Org,
    Reply,
    Repo,
    analysis,
    classic,
    code_scanning_alert,
    dependabot_alert,
    deploy_key,
    pull_request_rule,
    ruleset_rule,
    status_checks_rule,
)

TOKEN = "github_pat_11AAAAAAA0localTestTokenNeverShown"
REGISTRY = load_plugins()
SOURCES = [
    "github.org.settings",
    "github.org.members",
    "github.org.outside_collaborators",
    "github.repos.protection",
    "github.repos.security",
    "github.alerts.dependabot",
    "github.alerts.code_scanning",
    "github.repos.deploy_keys",
]


def seeded(**world: Any) -> GithubWorld:
    """Organisation acme: five repositories (one archived) over three pages of two, and a second org."""
    w = GithubWorld(token=TOKEN, max_per_page=2, **world)
    w.add(
        Org(
            "acme",
            members={"alice": "admin", "bob": "member", "carol": "member"},
            saml={"alice": "alice@acme.com", "bob": "bob@acme.com", "gone": "gone@acme.com"},
            outside_collaborators=["ext-writer", "ext-reader"],
            repos=[
                Repo(
                    "web",
                    protection=classic(2, dismiss_stale=True, admins=True, checks=("ci/build", "lint")),
                    security_and_analysis=analysis("enabled", "enabled"),
                    vulnerability_alerts=True,
                    code_scanning="configured",
                    collaborators={"ext-writer": "write"},
                    keys=[deploy_key(101, "deploy-bot", read_only=False)],
                ),
                Repo(
                    "api",
                    private=True,
                    security_and_analysis=analysis("disabled", "disabled"),
                    code_scanning=None,
                    collaborators={"ext-reader": "read", "ext-writer": "maintain"},
                ),
                Repo("docs", default_branch="gh-pages", protection=classic(0)),
                Repo(
                    "ruled",
                    private=True,
                    rules=[
                        pull_request_rule(1, dismiss_stale=True),
                        status_checks_rule("ci/test"),
                        ruleset_rule("deletion"),
                    ],
                ),
                Repo(
                    "old", archived=True, collaborators={"ext-reader": "admin"}, keys=[deploy_key(9, "old")]
                ),
            ],
            alerts=[
                dependabot_alert("acme/web", 1, "critical", "django"),
                dependabot_alert("acme/api", 2, "high", "requests"),
                dependabot_alert("acme/api", 3, "low", "pyyaml"),
            ],
            code_alerts=[
                code_scanning_alert("acme/web", 4, "high"),
                code_scanning_alert("acme/web", 5, None),
                code_scanning_alert("acme/web", 6, "critical", state="fixed"),
                code_scanning_alert("acme/api", 1, "medium", created_at="2026-01-15T08:00:00Z"),
                code_scanning_alert("acme/ruled", 2, "low", state="dismissed"),
            ],
        )
    )
    w.add(Org("other", members={"zed": "admin"}))
    return w


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[GithubServer]:
    monkeypatch.setenv("GITHUB_TEST_TOKEN", TOKEN)
    with GithubServer(seeded()) as srv:
        yield srv


def section(server: GithubServer, **github: Any) -> dict[str, Any]:
    base = {
        "enabled": True,
        "organizations": ["acme"],
        "api_url": server.api_url,
        "token_env": "GITHUB_TEST_TOKEN",
        "max_retry_wait": 0,
        "max_attempts": 3,
    }
    return base | github


def orgs(server: GithubServer, **github: Any) -> dict[str, GithubOrg]:
    """The targets the registry's resolver gives for `[github]`, by scope."""
    settings = build_settings({"github": section(server, **github)})
    targets = REGISTRY.targets(REGISTRY.scope_kinds["github_org"], settings)
    return {t.scope: t for t in targets}  # type: ignore[misc]


def collect(source: str, target: GithubOrg) -> dict[str, dict[str, Any]]:
    return {r.resource_id: r.data for r in REGISTRY.collectors[source].func(target)}


def acme(server: GithubServer, **github: Any) -> GithubOrg:
    return orgs(server, **github)["github:acme"]


def test_every_source_is_a_github_org_collector_of_the_registry():
    assert sorted(s for s in REGISTRY.collectors if s.startswith("github.")) == sorted(SOURCES)
    assert {REGISTRY.collectors[s].scope_kind for s in SOURCES} == {"github_org"}


def test_org_settings_members_and_saml_identities(server):
    found = orgs(server, organizations=["acme", "other"])
    assert list(found) == ["github:acme", "github:other"]
    target = found["github:acme"]
    assert collect("github.org.settings", target) == {
        "acme": {
            "login": "acme",
            "two_factor_requirement_enabled": True,
            "default_repository_permission": "read",
        }
    }
    assert collect("github.org.members", target) == {
        "alice": {"login": "alice", "role": "admin", "email": "alice@acme.com"},
        "bob": {"login": "bob", "role": "member", "email": "bob@acme.com"},
        "carol": {"login": "carol", "role": "member", "email": None},
    }
    assert server.hits["GET /orgs/acme/members"] == 3  # admins (1 page), everyone (2 pages of 2)
    assert server.hits["POST /graphql"] == 2  # three identities, two a page, by cursor
    assert collect("github.org.members", found["github:other"]) == {
        "zed": {"login": "zed", "role": "admin", "email": None}  # no SAML identity provider
    }
    assert server.authorizations == {f"token {TOKEN}"}


def test_settings_a_token_cannot_see_are_unknown_not_off(server):
    org = server.world.orgs["acme"]
    org.two_factor_requirement_enabled = org.default_repository_permission = None
    assert collect("github.org.settings", acme(server))["acme"] == {
        "login": "acme",
        "two_factor_requirement_enabled": None,
        "default_repository_permission": None,
    }


def test_outside_collaborators_with_their_repositories(server):
    assert collect("github.org.outside_collaborators", acme(server)) == {
        "ext-writer": {
            "login": "ext-writer",
            "repositories": [
                {"repository": "acme/web", "permission": "write"},
                {"repository": "acme/api", "permission": "maintain"},
            ],
        },
        "ext-reader": {
            "login": "ext-reader",
            "repositories": [{"repository": "acme/api", "permission": "read"}],
        },
    }  # acme/old is archived: its admin grant is not listed
    assert server.hits["GET /orgs/acme/repos"] == 3  # five repositories, two a page
    assert "GET /repos/acme/old/collaborators" not in server.hits


def test_no_outside_collaborator_means_no_repository_is_asked(server):
    server.world.orgs["acme"].outside_collaborators = []
    assert collect("github.org.outside_collaborators", acme(server)) == {}
    assert not any("/collaborators" in key for key in server.hits)


def test_effective_protection_of_default_branches(server):
    records = collect("github.repos.protection", acme(server))
    assert records == {
        "acme/web": {
            "repository": "acme/web",
            "default_branch": "main",
            "private": False,
            "protected": True,
            "required_approving_review_count": 2,
            "dismiss_stale_reviews": True,
            "enforce_admins": True,
            "required_status_checks": ["ci/build", "lint"],
        },
        "acme/api": {
            "repository": "acme/api",
            "default_branch": "main",
            "private": True,
            "protected": False,
            "required_approving_review_count": 0,
            "dismiss_stale_reviews": False,
            "enforce_admins": False,
            "required_status_checks": [],
        },
        "acme/docs": {
            "repository": "acme/docs",
            "default_branch": "gh-pages",
            "private": False,
            "protected": True,
            "required_approving_review_count": 0,
            "dismiss_stale_reviews": False,
            "enforce_admins": False,
            "required_status_checks": [],
        },
        "acme/ruled": {
            "repository": "acme/ruled",
            "default_branch": "main",
            "private": True,
            "protected": True,
            "required_approving_review_count": 1,
            "dismiss_stale_reviews": True,
            "enforce_admins": True,
            "required_status_checks": ["ci/test"],
        },
    }
    assert server.hits["GET /repos/acme/ruled/rules/branches/main"] == 2  # three rules, two a page


def test_security_features_per_repository(server):
    records = collect("github.repos.security", acme(server))
    assert records["acme/web"] == {
        "repository": "acme/web",
        "private": False,
        "secret_scanning": "enabled",
        "push_protection": "enabled",
        "dependabot_alerts": True,
        "code_scanning": "enabled",
    }
    assert records["acme/api"] == {
        "repository": "acme/api",
        "private": True,
        "secret_scanning": "disabled",
        "push_protection": "disabled",
        "dependabot_alerts": False,
        "code_scanning": "unavailable",  # 403: the plan has no Advanced Security
    }
    unknown = {
        "secret_scanning": None,
        "push_protection": None,
        "dependabot_alerts": False,
        "code_scanning": "disabled",
    }
    assert records["acme/docs"] == {
        "repository": "acme/docs",
        "private": False,
        **unknown,
    }  # not shown: unknown
    assert records["acme/ruled"] == {"repository": "acme/ruled", "private": True, **unknown}
    assert list(records) == ["acme/web", "acme/api", "acme/docs", "acme/ruled"]


def test_open_dependabot_alerts_are_cursor_paged(server):
    assert collect("github.alerts.dependabot", acme(server)) == {
        "acme/web#1": {
            "repository": "acme/web",
            "number": 1,
            "severity": "critical",
            "package": "django",
            "created_at": "2026-09-01T12:00:00Z",
        },
        "acme/api#2": {
            "repository": "acme/api",
            "number": 2,
            "severity": "high",
            "package": "requests",
            "created_at": "2026-09-01T12:00:00Z",
        },
        "acme/api#3": {
            "repository": "acme/api",
            "number": 3,
            "severity": "low",
            "package": "pyyaml",
            "created_at": "2026-09-01T12:00:00Z",
        },
    }
    assert server.hits["GET /orgs/acme/dependabot/alerts"] == 2  # the server refuses `page`: cursors only


def test_open_code_scanning_alerts_are_paged(server):
    assert collect("github.alerts.code_scanning", acme(server)) == {
        "acme/web#4": {
            "repository": "acme/web",
            "number": 4,
            "severity": "high",
            "tool": "CodeQL",
            "created_at": "2026-08-01T09:30:00Z",
        },
        "acme/web#5": {
            "repository": "acme/web",
            "number": 5,
            "severity": None,  # a rule that is not about security has no security severity
            "tool": "CodeQL",
            "created_at": "2026-08-01T09:30:00Z",
        },
        "acme/api#1": {
            "repository": "acme/api",
            "number": 1,
            "severity": "medium",
            "tool": "CodeQL",
            "created_at": "2026-01-15T08:00:00Z",
        },
    }  # fixed and dismissed alerts are not asked for
    assert server.hits["GET /orgs/acme/code-scanning/alerts"] == 2  # three open alerts, two a page


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault(403, NO_GHAS), f"access denied: GET /orgs/acme/code-scanning/alerts (HTTP 403: {NO_GHAS})"),
        (Fault(404, "Not Found"), "GET /orgs/acme/code-scanning/alerts: HTTP 404: Not Found"),
    ],
)
def test_code_scanning_alerts_the_org_will_not_list_fail_the_source(server, fault, message):
    """Refused for the whole organisation says nothing about its alerts: never "no alerts"."""
    server.world.faults[r"^GET /orgs/acme/code-scanning/alerts$"] = fault
    with pytest.raises(CollectorError) as info:
        collect("github.alerts.code_scanning", acme(server))
    assert str(info.value) == message


def test_an_unknown_security_severity_fails_the_source(server):
    server.world.orgs["acme"].code_alerts = [code_scanning_alert("acme/web", 1, "moderate")]
    with pytest.raises(InputDataError, match=r"unknown security severity 'moderate'$"):
        collect("github.alerts.code_scanning", acme(server))


def test_deploy_keys(server):
    assert collect("github.repos.deploy_keys", acme(server)) == {
        "acme/web:101": {
            "repository": "acme/web",
            "title": "deploy-bot",
            "read_only": False,
            "created_at": "2024-03-01T10:00:00Z",
        }
    }


def test_a_denied_repository_fails_the_listing_naming_it_without_the_token(server, caplog):
    server.world.faults[r"^GET /repos/acme/api/branches/main/protection$"] = Fault(
        403, "Resource not accessible by personal access token"
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(CollectorError) as info:
        collect("github.repos.protection", acme(server))
    assert str(info.value) == (
        "access denied: GET /repos/acme/api/branches/main/protection "
        "(HTTP 403: Resource not accessible by personal access token)"
    )
    assert TOKEN not in caplog.text


def test_a_wrong_token_is_denied_and_never_echoed(server, monkeypatch, caplog, capsys):
    monkeypatch.setenv("GITHUB_TEST_TOKEN", "ghp_wrongTokenThatMustNotLeak000000000")
    with caplog.at_level(logging.DEBUG), pytest.raises(CollectorError) as info:
        collect("github.org.settings", acme(server))
    assert str(info.value) == "access denied: GET /orgs/acme (HTTP 401: Bad credentials)"
    seen = caplog.text + "".join(capsys.readouterr())
    assert "ghp_wrongTokenThatMustNotLeak" not in seen and TOKEN not in seen


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """urllib3's retry waits (what GithubRetry asks for), recorded instead of slept."""
    fake = FakeTime()
    monkeypatch.setattr(urllib3.util.retry, "time", fake)
    return fake


def test_a_secondary_rate_limit_is_retried_after_retry_after(server, waits):
    server.world.faults[r"^GET /orgs/acme/repos$"] = Fault(403, SECONDARY_LIMIT, times=1, retry_after="7")
    records = collect("github.repos.deploy_keys", acme(server, max_retry_wait=60))
    assert list(records) == ["acme/web:101"]
    assert waits.slept == [7]  # Retry-After honoured, once
    assert server.hits["GET /orgs/acme/repos"] == 4


def test_retry_after_is_capped_by_max_retry_wait(server, waits):
    server.world.faults[r"^GET /orgs/acme$"] = Fault(429, "slow down", times=1, retry_after="3600")
    assert collect("github.org.settings", acme(server, max_retry_wait=5))["acme"]["login"] == "acme"
    assert waits.slept == [5]


def test_server_errors_are_retried_then_fail_with_githubs_message(server, waits):
    server.world.faults[r"^GET /orgs/acme/dependabot/alerts$"] = Fault(502, "Server Error")
    with pytest.raises(CollectorError) as info:
        collect("github.alerts.dependabot", acme(server, max_attempts=3))
    assert str(info.value) == "GET /orgs/acme/dependabot/alerts: HTTP 502: Server Error"
    assert server.hits["GET /orgs/acme/dependabot/alerts"] == 3


def test_requests_in_flight_per_organisation_stay_within_max_concurrency(server):
    server.world.gather = 3  # every request waits until three are in flight: the cap is reached
    target = acme(server, max_concurrency=3)
    done: list[int] = []
    sources = ["github.repos.protection", "github.repos.security", "github.repos.deploy_keys"]
    threads = [threading.Thread(target=lambda s=s: done.append(len(collect(s, target)))) for s in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(done) == [1, 4, 4] and server.max_inflight == 3  # three collectors, one cap


def test_github_app_installation_and_enterprise_server_layout(tmp_path, monkeypatch):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "app.pem").write_bytes(pem)
    world = seeded(prefix="/api/v3", app=(4242, 77, key.public_key()))
    with GithubServer(world) as srv:
        github = section(srv, token_env="", app_id="4242", installation_id="77")
        github["private_key_file"] = str(tmp_path / "app.pem")
        target = orgs(srv, **github)["github:acme"]
        assert collect("github.org.members", target)["alice"]["email"] == "alice@acme.com"
    assert srv.hits["POST /api/v3/app/installations/77/access_tokens"] == 1
    assert srv.hits["POST /api/graphql"] == 2
    assert f"token {INSTALLATION_TOKEN}" in srv.authorizations


def test_a_private_key_file_that_is_no_key_is_a_clear_error(server, tmp_path):
    (tmp_path / "app.pem").write_text("not a key")
    github = section(
        server, token_env="", app_id="1", installation_id="2", private_key_file=str(tmp_path / "app.pem")
    )
    with pytest.raises(
        CollectorError, match=r"^\[github\] private_key_file .*app\.pem: not an unencrypted PEM"
    ):
        orgs(server, **github)


@pytest.mark.parametrize(
    ("github", "message"),
    [
        ({"token_env": "GITHUB_TEST_TOKEN"}, "[github] organizations: required when [github] is enabled"),
        ({"organizations": ["acme"]}, "[github] token_env: no credentials: set token_env, or a GitHub App's"),
        (
            {"organizations": ["acme"], "app_id": "1", "installation_id": "2"},
            "[github] private_key_file: required",
        ),
        (
            {"organizations": ["acme"], "token_env": "UNSET_GH_TOKEN"},
            "[github] token_env: environment variable",
        ),
        (
            {"organizations": ["not an org"], "token_env": "GITHUB_TEST_TOKEN"},
            "[github] organizations: String",
        ),
        (
            {"organizations": ["acme"], "token_env": "GITHUB_TEST_TOKEN", "max_concurrency": 50},
            "max_concurrency",
        ),
    ],
)
def test_settings_errors_are_one_line_naming_the_key(monkeypatch, github, message):
    monkeypatch.setenv("GITHUB_TEST_TOKEN", TOKEN)
    monkeypatch.delenv("UNSET_GH_TOKEN", raising=False)
    with pytest.raises(ConfigError) as info:
        build_settings({"github": {"enabled": True, **github}})
    assert message in str(info.value) and "\n" not in str(info.value) and TOKEN not in str(info.value)


def test_a_disabled_section_needs_nothing():
    assert not build_settings({"github": {}}).system_enabled("github")


# --- fail-closed: an answer that says nothing is never read as "nothing there" ----------------------
@pytest.mark.parametrize("body", ["", "{}", "null", '{"message": "Moved"}'])
def test_a_listing_page_that_is_not_a_list_fails_the_listing(server, body):
    """PyGithub's own paging reads an empty, `{}` or `null` page as the end: no repository at all."""
    server.world.faults[r"^GET /orgs/acme/repos$"] = Fault(200, body=body)
    with pytest.raises(InputDataError, match=r"^GET /orgs/acme/repos: a page that is not a JSON list$"):
        collect("github.repos.deploy_keys", acme(server))


def test_a_page_failing_mid_listing_fails_the_listing(server):
    server.world.faults[r"^GET /repos/acme/web/keys$"] = Fault(503, "Unavailable")
    with pytest.raises(CollectorError, match=r"GET /repos/acme/web/keys: HTTP 503"):
        collect("github.repos.deploy_keys", acme(server))


def graphql_answer(monkeypatch: pytest.MonkeyPatch, doc: dict[str, Any]) -> None:
    monkeypatch.setattr(GithubServer, "_graphql", lambda self, body: Reply(200, doc))


def test_a_graphql_error_with_http_200_fails_the_members_not_no_saml(server, monkeypatch):
    """GitHub answers a GraphQL permission error with HTTP 200, `errors` and a null provider."""
    error = {"type": "FORBIDDEN", "path": ["organization", "samlIdentityProvider"]}
    graphql_answer(
        monkeypatch,
        {
            "data": {"organization": {"samlIdentityProvider": None}},
            "errors": [error | {"message": "Resource not accessible by integration"}],
        },
    )
    with pytest.raises(CollectorError, match="Resource not accessible by integration"):
        collect("github.org.members", acme(server))


def test_a_graphql_answer_without_the_organization_fails_the_members(server, monkeypatch):
    graphql_answer(monkeypatch, {"data": {"organization": None}})
    with pytest.raises(InputDataError, match="an answer without the organization's provider"):
        collect("github.org.members", acme(server))


def test_a_collaborator_without_permission_flags_is_no_read_grant(server, monkeypatch):
    flags = dict.fromkeys(("admin", "maintain", "push", "triage", "pull"), False)
    monkeypatch.setitem(github_server.PERMISSION_FLAGS, "hidden", flags)
    server.world.orgs["acme"].repos[0].collaborators = {"ext-writer": "hidden"}
    with pytest.raises(InputDataError, match=r"collaborators: a collaborator without any permission flag$"):
        collect("github.org.outside_collaborators", acme(server))


def test_an_outside_collaborator_without_a_login_fails_the_listing(server):
    server.world.faults[r"^GET /orgs/acme/outside_collaborators$"] = Fault(200, body='[{"id": 1}]')
    with pytest.raises(InputDataError, match=r"outside_collaborators: a collaborator without a login$"):
        collect("github.org.outside_collaborators", acme(server))


@pytest.mark.parametrize(
    ("bypass", "binds"),
    [
        ([], True),
        ([{"actor_id": 1, "actor_type": "Integration", "bypass_mode": "always"}], True),
        ([{"actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always"}], False),
        ([{"actor_id": None, "actor_type": "OrganizationAdmin", "bypass_mode": "pull_request"}], False),
        (None, False),  # not shown to the token: unknown, never "binds administrators"
    ],
)
def test_a_ruleset_administrators_may_bypass_does_not_enforce_admins(server, bypass, binds):
    server.world.orgs["acme"].repos[3].bypass = {7: bypass}
    records = collect("github.repos.protection", acme(server))
    assert records["acme/ruled"]["enforce_admins"] is binds
    assert server.hits["GET /repos/acme/ruled/rulesets/7"] == 1
