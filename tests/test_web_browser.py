"""The dashboard in headless Chromium: what a person sees and may do, over the audit-period store.

The app runs on loopback with its clock at the period's last evening; the browser signs in through
the login form with the bootstrap token. A trusted proxy's user header, added to the browser's
requests through DevTools, plays the viewer and the editor. The pages' DOM is checked against
what the product's own functions say of the store, and a form post must come with the session's
CSRF token from the dashboard's origin. `ANNEXA_SCREENSHOTS=docs/screenshots` keeps the README's
screenshots (overview, control, NC, period) there; otherwise they go to a temporary directory.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterator
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from sqlmodel import col

from agent.audit.controls import control_statuses
from agent.audit.nonconformities import history, open_by_severity
from agent.audit.period_read import period_document
from agent.audit.status import evidence_states
from agent.run.evaluate import active_checks
from agent.run.runner import Runner
from agent.store.results import latest_check_runs, results_of
from agent.store.schema import Nonconformity, Run
from agent.web.app import create_app
from agent.web.auth import BOOTSTRAP_USER
from agent.web.pages.controls import HISTORY
from agent.web.pages.overview import SEVERITIES, STATUSES, TREND_DAYS
from tests.period_store import (
    ACTOR,
    ATTESTED_CONTROL,
    ATTESTER,
    DAYS,
    FAILING_CHECK,
    FAILING_CONTROL,
    FIRST_DAY,
    HR_SCOPE,
    NC_REF,
    PeriodStore,
    at,
    build_period_store,
    frozen,
    hr_rows,
)
from tests.webdriver import browser_log, chrome, extra_headers, other_site, requested, served

pytestmark = pytest.mark.slow  # a browser, a server and a 30-day store

TOKEN = "browser-test-bootstrap-token-0123456789"
NOW = at(DAYS, time(18, 0))  # the app's "now": the evening of the period's last day
NOON = at(DAYS, time(12, 0))  # an extra collection that day opens a second NC, a draft to act on
DRAFT = "NC-0002"
DRAFT_CHECK = "hr.people.nda_signed"
PROXY_HEADER = "X-Forwarded-User"
VIEWER, EDITOR = "vic@acme.example", "ed@acme.example"
FIRST, LAST = FIRST_DAY.isoformat(), (FIRST_DAY + timedelta(days=DAYS - 1)).isoformat()
ACTION_FORMS = "form[method=post][action^='/ncs/']"
WAIT = 20  # seconds a page may take to load on a busy machine


def _draft_nc(period: PeriodStore) -> None:
    """Dev's NDA goes missing from the HR export at noon on the last day: the run opens a draft NC."""
    rows = [{**r, "nda_signed": ""} if r["employee_id"] == "E004" else r for r in hr_rows(DAYS)]
    with (period.root / "employees.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with frozen(NOON):
        Runner(period.store, period.settings, period.registry).collect(["hr.*"])


@pytest.fixture(scope="module")
def period(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PeriodStore]:
    built = build_period_store(tmp_path_factory.mktemp("web-browser"))
    _draft_nc(built)
    yield built
    built.store.close()


@pytest.fixture(scope="module")
def site(period: PeriodStore) -> Iterator[str]:
    web = period.settings.web.model_copy(
        update={"proxy_user_header": PROXY_HEADER, "roles": {VIEWER: "viewer", EDITOR: "editor"}}
    )
    settings = period.settings.model_copy(update={"web": web})
    with served(create_app(settings, period.store, period.registry, TOKEN, clock=lambda: NOW)) as origin:
        yield origin


@pytest.fixture(scope="module")
def browser(site: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chrome]:
    """Signed in as a person would: sent to the login form, the token typed in, the form submitted."""
    with chrome(tmp_path_factory.mktemp("profile")) as driver:
        driver.get(f"{site}/controls")
        assert urlsplit(driver.current_url).path == "/login"
        driver.find_element(By.NAME, "token").send_keys(TOKEN)
        driver.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
        WebDriverWait(driver, WAIT).until(ec.url_to_be(f"{site}/controls"))
        yield driver


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = os.environ.get("ANNEXA_SCREENSHOTS")
    path = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def shoot(driver: Chrome, shots: Path, name: str) -> None:
    path = shots / f"{name}.png"
    assert driver.save_screenshot(str(path))
    assert path.read_bytes().startswith(b"\x89PNG")


def texts(driver: Chrome, css: str) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]


def cells(driver: Chrome, css: str) -> list[list[str]]:
    return [
        [td.text for td in row.find_elements(By.TAG_NAME, "td")]
        for row in driver.find_elements(By.CSS_SELECTOR, css)
    ]


def nc_now(period: PeriodStore, ref: str) -> tuple[str, list[dict[str, Any]]]:
    with period.store.read() as s:
        nc = s.get(Nonconformity, int(ref.removeprefix("NC-")))
        assert nc is not None
        return nc.state, history(s, nc)


def problem(driver: Chrome) -> str:
    return str(WebDriverWait(driver, WAIT).until(ec.presence_of_element_located((By.ID, "problem"))).text)


def test_signing_in_with_the_token_lands_where_the_person_was_going(browser: Chrome, site: str) -> None:
    assert browser.current_url == f"{site}/controls"
    assert browser.find_element(By.ID, "user").text == BOOTSTRAP_USER
    assert texts(browser, "header .role") == ["admin"]
    assert len(texts(browser, "#controls tbody tr")) == 93


def test_the_overview_counts_what_the_store_says(
    browser: Chrome, site: str, period: PeriodStore, shots: Path
) -> None:
    browser.get(f"{site}/")
    statuses = control_statuses(period.store, period.settings, period.registry, None)
    by_status = Counter(c.status for c in statuses)
    shown = {s: browser.find_element(By.CSS_SELECTOR, f'b[data-status="{s}"]').text for s in STATUSES}
    assert shown == {s: str(by_status.get(s, 0)) for s in STATUSES}
    assert by_status["failing"] >= 1  # the draft NC's control
    with period.store.read() as s:
        open_ncs = Counter(open_by_severity(s))
    shown = {s: browser.find_element(By.CSS_SELECTOR, f'b[data-severity="{s}"]').text for s in SEVERITIES}
    assert shown == {s: str(open_ncs.get(s, 0)) for s in SEVERITIES}
    assert [row[0] for row in cells(browser, "#failing tbody tr")] == [
        c.id for c in statuses if c.status == "failing"
    ]
    lines = browser.find_elements(By.CSS_SELECTOR, "#trends svg polyline")
    assert [line.get_attribute("class") for line in lines] == ["line-failing", "line-ncs"]
    assert [len((line.get_attribute("points") or "").split()) for line in lines] == [TREND_DAYS, TREND_DAYS]
    assert browser.find_element(By.CSS_SELECTOR, "#trends h2").text.endswith(f"to {LAST})")
    evidence = evidence_states(period.store, period.settings, period.registry, NOW, None)
    scopes = Counter(e["source"] for e in evidence)
    assert [(row[0], row[2]) for row in cells(browser, "#freshness tbody tr")] == [
        (source, str(n)) for source, n in sorted(scopes.items())
    ]
    shoot(browser, shots, "overview")


def test_a_control_page_shows_its_check_scopes_history_and_attestations(
    browser: Chrome, site: str, period: PeriodStore, shots: Path
) -> None:
    browser.get(f"{site}/controls/{FAILING_CONTROL}")
    section = browser.find_element(By.ID, f"check-{FAILING_CHECK}")
    [scope] = [
        [td.text for td in row.find_elements(By.TAG_NAME, "td")]
        for row in section.find_elements(By.CSS_SELECTOR, ":scope > table > tbody > tr.scope")
    ]
    assert scope[:2] == [HR_SCOPE, "pass"]  # it failed on days 8-12 and passes since
    [latest] = [cr for cr in latest_check_runs(period.store, FAILING_CHECK) if cr.scope == HR_SCOPE]
    stored = sorted(results_of(period.store, latest.result_set), key=lambda r: r.resource_id)
    shown_results = cells(browser, f"[id='check-{FAILING_CHECK}'] table.inner tbody tr")
    assert [(r[0], r[1], r[3].split()) for r in shown_results] == [
        (r.resource_id, r.status, list(r.evidence)) for r in stored
    ]  # each result with the hashes of the evidence records it was judged on
    specs = {c.id for c in active_checks(period.registry, period.settings) if FAILING_CONTROL in c.controls}
    with period.store.read() as s:
        runs = len(list(s.execute(select(col(Run.id)).where(col(Run.kind) == "collect")).scalars()))
    rows = cells(browser, "#history tbody tr")
    assert len(rows) == min(HISTORY, runs * len(specs))
    assert {row[1] for row in rows} <= specs and {row[2] for row in rows} == {HR_SCOPE}
    assert cells(browser, "#attestations + table tbody tr") == [["None."]]
    shoot(browser, shots, "control")
    browser.get(f"{site}/controls/{ATTESTED_CONTROL}")
    [attested] = cells(browser, "#attestations + table tbody tr")
    assert (attested[0], attested[2], attested[5]) == ("policy.pdf", ATTESTER, "policy set reviewed")


def test_an_nc_page_shows_its_history_step_by_step(
    browser: Chrome, site: str, period: PeriodStore, shots: Path
) -> None:
    browser.get(f"{site}/ncs/{NC_REF}")
    state, steps = nc_now(period, NC_REF)
    assert texts(browser, "#nc-state .chip")[0] == state == "closed"
    shown = texts(browser, "#timeline li")
    assert len(shown) == len(steps)
    for text, step in zip(shown, steps, strict=True):
        assert step["actor"] in text and step["to_state"].replace("_", " ") in text
    assert [s["to_state"] for s in steps if s["actor"] == ACTOR] == ["open", "resolved", "closed"]
    assert not browser.find_elements(By.CSS_SELECTOR, ACTION_FORMS)  # closed: nothing to do
    shoot(browser, shots, "nc")


def test_the_period_view_judges_the_thirty_days(
    browser: Chrome, site: str, period: PeriodStore, shots: Path
) -> None:
    browser.get(f"{site}/period?from={FIRST}&to={LAST}")
    doc = period_document(period.store, period.settings, period.registry, FIRST_DAY, NOW.date(), NOW)
    assert texts(browser, "#period-summary li") == [f"{k} {n}" for k, n in doc["summary"].items()]
    [row] = [r for r in cells(browser, "#period tbody tr") if r[2:4] == [FAILING_CHECK, HR_SCOPE]]
    [scope] = [s for c in doc["checks"] if c["id"] == FAILING_CHECK for s in c["scopes"]]
    assert len(scope["failures"]) == 1  # the failure of days 8-12, with its NC
    assert row[0] == FAILING_CONTROL and row[5:] == [
        f"{scope['passing_share'] * 100:.0f}%",
        str(scope["windows"]["gaps"]),
        "1",
    ]
    assert row[5] != "100%"
    assert [NC_REF, FAILING_CHECK, HR_SCOPE, "closed"] in [
        r[:3] + r[4:5] for r in cells(browser, "#period-ncs tbody tr")
    ]
    shoot(browser, shots, "period")


def test_no_page_asks_another_origin_for_anything_nor_breaks_the_policy(
    browser: Chrome, site: str, period: PeriodStore
) -> None:
    with period.store.read() as s:
        first_run = s.execute(select(col(Run.id)).order_by(col(Run.id)).limit(1)).scalar_one()
    pages = [
        "/", "/controls", f"/controls/{FAILING_CONTROL}", "/ncs", f"/ncs/{NC_REF}", f"/ncs/{DRAFT}",
        "/evidence", "/runs", f"/runs/{first_run}", f"/period?from={FIRST}&to={LAST}", "/samples", "/login",
    ]  # fmt: skip
    requested(browser)
    browser_log(browser)  # both logs start empty here
    for page in pages:
        browser.get(site + page)
        assert not browser.find_elements(By.ID, "problem"), page
    urls = requested(browser)
    assert {site + page for page in pages} <= set(urls)  # the log saw every page
    assert [u for u in urls if not (u.startswith(f"{site}/") or u.startswith("data:"))] == []
    console = browser_log(browser)
    assert [m for m in console if "Content Security Policy" in m["message"]] == []


def post_from_script(driver: Chrome, action: str, fields: dict[str, str]) -> None:
    """What a person with the browser's console could send: a form made in the page, posting the
    session's CSRF token (from the sign-out form). DevTools runs it whatever the page's CSP says."""
    driver.execute_script(
        """const [action, fields] = arguments;
        const form = document.createElement('form');
        form.method = 'post';
        form.action = action;
        const all = {csrf: document.querySelector('input[name=csrf]').value, ...fields};
        for (const [name, value] of Object.entries(all)) {
            const input = document.createElement('input');
            input.type = 'hidden'; input.name = name; input.value = value;
            form.appendChild(input);
        }
        document.body.appendChild(form);
        form.submit();""",
        action,
        fields,
    )


def test_a_viewer_reads_the_nc_but_its_forms_are_refused(
    browser: Chrome, site: str, period: PeriodStore
) -> None:
    before = nc_now(period, DRAFT)
    with extra_headers(browser, {PROXY_HEADER: VIEWER}):
        browser.get(f"{site}/ncs/{DRAFT}")
        assert browser.find_element(By.ID, "user").text == VIEWER
        assert DRAFT_CHECK in browser.find_element(By.CSS_SELECTOR, "dl.facts").text
        assert not browser.find_elements(By.CSS_SELECTOR, ACTION_FORMS)
        post_from_script(browser, f"/ncs/{DRAFT}/accept", {"reason": "a viewer tries"})
        assert problem(browser) == "your role (viewer) may not do this"
    assert nc_now(period, DRAFT) == before == ("draft", before[1])


def test_a_viewer_post_over_http_is_403(site: str, period: PeriodStore) -> None:
    """The same refusal seen by an HTTP client: the status, with a valid session token sent along."""
    before = nc_now(period, DRAFT)
    with httpx.Client(base_url=site, headers={PROXY_HEADER: VIEWER}) as client:
        page = client.get(f"/ncs/{DRAFT}")
        assert page.status_code == 200
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        # The cookie is Secure: httpx keeps it from plain http, a browser does not on loopback.
        cookie = "; ".join(f"{k}={v}" for k, v in page.cookies.items())
        answer = client.post(
            f"/ncs/{DRAFT}/accept",
            data={"csrf": token, "reason": "a viewer tries"},
            headers={"Origin": site, "Cookie": cookie},
        )
    assert answer.status_code == 403
    assert "your role (viewer) may not do this" in answer.text
    assert nc_now(period, DRAFT) == before


def test_a_form_needs_the_session_token_and_this_origin(
    browser: Chrome, site: str, period: PeriodStore
) -> None:
    before = nc_now(period, DRAFT)
    refused = "the form's CSRF token is missing or wrong: reload the page"
    with extra_headers(browser, {PROXY_HEADER: EDITOR}), other_site() as elsewhere:
        browser.get(f"{site}/ncs/{DRAFT}")
        browser.execute_script("document.querySelector('#form-accept input[name=csrf]').value = 'forged'")
        browser.find_element(By.CSS_SELECTOR, "#form-accept input[name=reason]").send_keys("forged token")
        browser.find_element(By.CSS_SELECTOR, "#form-accept button[type=submit]").click()
        assert problem(browser) == refused
        assert nc_now(period, DRAFT) == before

        browser.get(f"{site}/ncs/{DRAFT}")
        token = browser.find_element(By.CSS_SELECTOR, "#form-accept input[name=csrf]").get_attribute("value")
        browser.get(
            elsewhere.show(
                f'<form method="post" action="{site}/ncs/{DRAFT}/accept">'
                f'<input type="hidden" name="csrf" value="{token}"><input name="reason" value="from elsewhere">'
                '<button type="submit">Accept</button></form>'
            )
        )
        browser.find_element(By.TAG_NAME, "button").click()
        assert problem(browser) == refused  # the right token, from another origin
        assert nc_now(period, DRAFT) == before

        browser.get(f"{site}/ncs/{DRAFT}")
        browser.find_element(By.CSS_SELECTOR, "#form-accept input[name=reason]").send_keys("a joiner's NDA")
        browser.find_element(By.CSS_SELECTOR, "#form-accept button[type=submit]").click()
        WebDriverWait(browser, WAIT).until(ec.text_to_be_present_in_element((By.ID, "nc-state"), "open"))
    state, steps = nc_now(period, DRAFT)
    assert state == "open"
    assert steps[:-1] == before[1]
    assert (steps[-1]["actor"], steps[-1]["to_state"], steps[-1]["reason"]) == (
        EDITOR,
        "open",
        "a joiner's NDA",
    )
