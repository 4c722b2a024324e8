"""The dashboard over HTTP: sign-in, roles, CSRF, the security headers, escaping and bad input.

Starlette's TestClient drives the real app (httpx in process) over `https://testserver`, so the
Secure session cookie round-trips; the fake system gives a store with NCs the tests can act on.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from agent.run.runner import Runner
from agent.store.schema import NcTransition, Nonconformity
from agent.web.app import create_app
from agent.web.security import CSP
from tests.fakeplugin import fake_system_settings

TOKEN = "bootstrap-token-for-tests-0123456789"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def world_with_markup(fake_world):
    """A failing resource whose name is markup: the pages must show it as text."""
    fake_world.items["fake:b"] = {"x": True, "<script>alert(1)</script>": False}
    return fake_world


@pytest.fixture
def web(tmp_path: Path, world_with_markup, fake_registry, fake_store):
    settings = fake_system_settings(
        store={"url": fake_store.engine.url.render_as_string(hide_password=False)},
        web={
            "session_key_file": str(tmp_path / "web.key"),
            "proxy_user_header": "X-Forwarded-User",
            "proxy_groups_header": "X-Forwarded-Groups",
            "trusted_proxies": ["testclient"],
            "roles": {"vic@example.com": "viewer", "ed@example.com": "editor", "auditors": "auditor"},
        },
    )
    Runner(fake_store, settings, fake_registry).collect([])
    app = create_app(settings, fake_store, fake_registry, TOKEN, clock=lambda: NOW)
    return app, fake_store


def client(app, user: str | None = None, groups: str = "") -> TestClient:
    c = TestClient(app, base_url="https://testserver", follow_redirects=False)
    if user is not None:
        c.headers["X-Forwarded-User"] = user
        c.headers["X-Forwarded-Groups"] = groups
    return c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def signed_in(app) -> TestClient:
    c = client(app)
    token = csrf_of(c.get("/login").text)
    answer = c.post("/login", data={"csrf": token, "token": TOKEN, "next": "/ncs"})
    assert answer.status_code == 303 and answer.headers["location"] == "/ncs"
    return c


def nc_state(store, nc_id: int = 1) -> str:
    with store.read() as s:
        nc = s.get(Nonconformity, nc_id)
        assert nc is not None
        return nc.state


def test_every_page_needs_a_sign_in_and_carries_the_security_headers(web):
    app, _ = web
    c = client(app)
    answer = c.get("/ncs")
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/ncs"
    login = c.get("/login")
    assert login.headers["content-security-policy"] == CSP
    assert "script-src" not in CSP and "default-src 'none'" in CSP
    assert login.headers["x-frame-options"] == "DENY" and login.headers["cache-control"] == "no-store"


def test_a_wrong_token_is_refused_and_the_right_one_signs_the_admin_in(web):
    app, _ = web
    c = client(app)
    token = csrf_of(c.get("/login").text)
    refused = c.post("/login", data={"csrf": token, "token": "guess", "next": "/"})
    assert refused.status_code == 401 and "not the admin token" in refused.text
    assert c.get("/").status_code == 303
    c = signed_in(app)
    for path in ("/", "/controls", "/controls/A.8.9", "/ncs", "/ncs/NC-0001", "/evidence", "/runs", "/runs/1",
                 "/period", "/samples"):  # fmt: skip
        page = c.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert 'id="user">admin (bootstrap token)<' in page.text


def test_the_session_cookie_is_secure_host_only_and_http_only(web):
    app, _ = web
    c = client(app)
    cookie = c.get("/login").headers["set-cookie"]
    assert cookie.startswith("__Host-annexa=") and "secure" in cookie.lower() and "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower() and "path=/" in cookie.lower()


def test_after_sign_in_only_a_path_on_this_site_is_followed(web):
    app, _ = web
    c = client(app)
    token = csrf_of(c.get("/login").text)
    answer = c.post("/login", data={"csrf": token, "token": TOKEN, "next": "https://evil.example/x"})
    assert answer.headers["location"] == "/"


def test_strings_from_collected_systems_are_shown_as_text(web):
    app, _ = web
    page = signed_in(app).get("/ncs/NC-0001")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_a_viewer_reads_but_a_write_is_403_and_changes_nothing(web):
    app, store = web
    viewer = client(app, "vic@example.com")
    page = viewer.get("/ncs/NC-0001")
    assert page.status_code == 200 and 'id="form-accept"' not in page.text
    answer = viewer.post("/ncs/NC-0001/accept", data={"csrf": csrf_of(page.text), "reason": "mine"})
    assert answer.status_code == 403 and "may not do this" in answer.text
    assert nc_state(store) == "draft"
    assert viewer.get("/samples").status_code == 403  # sampling is the auditor's


def test_an_auditor_samples_but_cannot_move_an_nc(web):
    app, store = web
    auditor = client(app, "ann@example.com", groups="staff, auditors")
    assert auditor.get("/samples").status_code == 200
    page = auditor.get("/ncs/NC-0001")
    answer = auditor.post("/ncs/NC-0001/accept", data={"csrf": csrf_of(page.text)})
    assert answer.status_code == 403 and nc_state(store) == "draft"


def test_someone_with_no_role_sees_nothing(web):
    app, _ = web
    assert client(app, "stranger@example.com").get("/").status_code == 403


def test_the_proxy_header_counts_only_from_a_trusted_proxy(web, tmp_path):
    app, _ = web
    app.state.web.settings.web.trusted_proxies = ["10.0.0.1"]
    assert client(app, "ed@example.com").get("/").status_code == 303  # not trusted: sign in first


def test_an_editor_acts_through_the_form_recorded_under_their_name(web):
    app, store = web
    editor = client(app, "ed@example.com")
    page = editor.get("/ncs/NC-0001")
    assert 'id="form-accept"' in page.text
    answer = editor.post("/ncs/NC-0001/accept", data={"csrf": csrf_of(page.text), "reason": "seen it"})
    assert answer.status_code == 303 and answer.headers["location"] == "/ncs/NC-0001"
    assert nc_state(store) == "open"
    with store.read() as s:
        steps = s.query(NcTransition).filter_by(nc_id=1).order_by(NcTransition.id).all()
    assert (steps[-1].actor, steps[-1].to_state, steps[-1].reason) == ("ed@example.com", "open", "seen it")
    shown = editor.get("/ncs/NC-0001").text
    assert "<b>ed@example.com</b>" in shown


def test_a_refused_action_says_why_and_changes_nothing(web):
    app, store = web
    editor = client(app, "ed@example.com")
    token = csrf_of(editor.get("/ncs/NC-0001").text)
    answer = editor.post("/ncs/NC-0001/close", data={"csrf": token, "effectiveness_review": "x"})
    assert answer.status_code == 400 and "cannot close it" in answer.text
    answer = editor.post("/ncs/NC-0001/plan", data={"csrf": token, "due_date": "31/12/2026"})
    assert answer.status_code == 400 and "not valid" in answer.text
    assert nc_state(store) == "draft"


@pytest.mark.parametrize(
    ("csrf", "origin"),
    [(None, None), ("forged-token", None), ("right", "https://evil.example"), ("right", "null")],
)
def test_a_forged_or_cross_site_post_is_403(web, csrf, origin):
    app, store = web
    editor = client(app, "ed@example.com")
    token = csrf_of(editor.get("/ncs/NC-0001").text)
    data = {"reason": "forged"} | ({} if csrf is None else {"csrf": token if csrf == "right" else csrf})
    headers = {} if origin is None else {"Origin": origin}
    answer = editor.post("/ncs/NC-0001/accept", data=data, headers=headers)
    assert answer.status_code == 403 and "CSRF" in answer.text
    assert nc_state(store) == "draft"


def test_bad_input_gets_one_line_not_a_traceback(web):
    app, _ = web
    c = signed_in(app)
    for path, words in [
        ("/ncs/NC-9999", "no nonconformity NC-9999"),
        ("/ncs/NC-99999999999", "not a nonconformity id"),
        ("/controls/A.9.9", "not an Annex A 2022 control"),
        ("/?as_of=yesterday", "ISO 8601"),
        ("/ncs?state=lost", "is not one of"),
        ("/runs/x", "not a run number"),
        ("/period?from=2026-12-01&to=2026-11-01", "from"),
    ]:
        page = c.get(path)
        assert page.status_code == 400, path
        assert words in page.text, (path, re.search(r'id="problem">([^<]*)', page.text))
        assert "Traceback" not in page.text


def test_as_of_shows_the_register_as_it_was_sealed(web):
    app, _ = web
    c = signed_in(app)
    before = c.get("/ncs?as_of=2000-01-01")
    assert before.status_code == 200 and 'id="shown">0<' in before.text
    assert "Showing the store as sealed by 2000-01-01" in before.text
    assert 'id="shown">1<' in c.get("/ncs").text


def test_sign_out_needs_the_csrf_token_and_ends_the_session(web):
    app, _ = web
    c = signed_in(app)
    assert c.post("/logout", data={}).status_code == 403
    assert c.get("/").status_code == 200
    token = csrf_of(c.get("/").text)
    assert c.post("/logout", data={"csrf": token}).status_code == 303
    assert c.get("/").status_code == 303


def test_a_ticket_done_in_the_tracker_shows_on_the_nc_which_stays_as_it_is(web):
    from agent.tickets.links import save_opened, save_statuses
    from agent.tickets.model import Ticket, TicketStatus

    app, store = web
    save_opened(store, "jira", 1, Ticket("SEC-7", "https://jira.example/browse/SEC-7"), step=1)
    save_statuses(store, "jira", {"SEC-7": TicketStatus("Done", done=True)})
    page = signed_in(app).get("/ncs/NC-0001").text
    assert '<a href="https://jira.example/browse/SEC-7" rel="noreferrer">SEC-7</a>: Done' in page
    assert "done in jira" in page and "closes only after verification" in page
    assert nc_state(store) == "draft"


def test_what_a_page_keeps_is_read_again_once_the_chain_moves_on(web, world_with_markup, fake_registry):
    app, store = web
    c = signed_in(app)
    failing = re.compile(r'data-status="failing">(\d+)<')
    assert failing.findall(c.get("/").text) == ["1"]
    assert failing.findall(c.get("/").text) == ["1"]  # kept: the same reading
    world_with_markup.items["fake:b"] = {"x": True, "<script>alert(1)</script>": True}  # fixed, still listed
    Runner(store, app.state.web.settings, fake_registry).collect([])
    assert failing.findall(c.get("/").text) == ["0"]
    assert 'class="chip passing"' in c.get("/controls/A.8.9").text
    closed = c.get("/ncs/NC-0001").text  # the draft closed itself: no reason of a pass shown as a failure
    assert "Resources that were failing (1)" in closed and "is not good" not in closed


def test_the_register_and_a_controls_scopes_come_in_pages(web, world_with_markup, fake_registry, monkeypatch):
    from agent.web.pages import controls, ncs

    app, store = web
    world_with_markup.items["fake:a"] = {"x": False}
    Runner(store, app.state.web.settings, fake_registry).collect([])
    monkeypatch.setattr(ncs, "PAGE", 1)
    monkeypatch.setattr(controls, "SCOPES", 1)
    c = signed_in(app)
    first = c.get("/ncs?severity=minor").text
    assert "page 1 of 2" in first and first.count('<td><a href="/ncs/NC-') == 1
    assert 'href="/ncs?severity=minor&amp;page=2">next</a>' in first
    second = c.get("/ncs?severity=minor&page=2").text
    assert "page 2 of 2" in second and 'rel="prev"' in second and 'rel="next"' not in second
    assert c.get("/ncs?page=0").status_code == 400
    control = c.get("/controls/A.8.9").text
    assert "And 1 more scopes: fail 1." in control and "?scopes=all" in control
    every = c.get("/controls/A.8.9?scopes=all").text
    assert "more scopes" not in every and "<code>fake:a</code>" in every and "<code>fake:b</code>" in every


def test_an_auditor_reviews_a_bundle_through_the_form_sealed_under_their_name(tmp_path, fake_registry):
    from agent.bundle.export import export_bundle
    from agent.bundle.signing import create_key_pair, seal_keys
    from agent.store import Store
    from agent.store.schema import Review

    key = tmp_path / "agent.key"
    create_key_pair(key)
    url = f"sqlite:///{tmp_path / 'signed.db'}"
    settings = fake_system_settings(
        store={"url": url}, export={"signing_key": str(key)},
        web={"session_key_file": str(tmp_path / "web.key"), "proxy_user_header": "X-Forwarded-User",
             "trusted_proxies": ["testclient"], "roles": {"aud@example.com": "auditor", "vic@example.com": "viewer"}},
    )  # fmt: skip
    store = Store(url, keys=seal_keys(str(key)))
    Runner(store, settings, fake_registry).collect([])
    bundle = tmp_path / "bundle.zip"
    export_bundle(store, settings, fake_registry, bundle, exported_by="dana")
    app = create_app(settings, store, fake_registry, TOKEN, clock=lambda: NOW)

    viewer = client(app, "vic@example.com")
    assert viewer.get("/reviews").status_code == 403
    auditor = client(app, "aud@example.com")
    page = auditor.get("/reviews")
    assert page.status_code == 200 and "None yet." in page.text
    form = {"csrf": csrf_of(page.text), "decision": "accept", "note": "sampled 5 leavers, all evidenced"}
    files = {"bundle": ("bundle.zip", bundle.read_bytes(), "application/zip")}
    answer = auditor.post("/reviews", data=form, files=files)
    assert answer.status_code == 303, answer.text[:400]
    with store.read() as s:
        (row,) = s.query(Review).all()
    assert (row.actor, row.decision, row.exporter) == ("aud@example.com", "accept", "dana")
    assert "sampled 5 leavers, all evidenced" in auditor.get("/reviews").text
    cut = bundle.read_bytes()[:-200]
    refused = auditor.post("/reviews", data=form, files={"bundle": ("b.zip", cut, "application/zip")})
    assert refused.status_code == 400 and 'id="problem">' in refused.text
    exporter = client(app, "dana")
    settings.web.roles["dana"] = "auditor"
    own = exporter.post(
        "/reviews", data={**form, "csrf": csrf_of(exporter.get("/reviews").text)}, files=files
    )
    assert own.status_code == 400 and "someone else must review it" in own.text
    with store.read() as s:
        assert s.query(Review).count() == 1
    store.close()
