# ruff: noqa: F811 (fixtures imported from tests/tickets_env.py)
"""When Jira is slow, down or refuses: the NC action stands, the failure is logged on one line
without secrets or URLs and counted, and the next run does what was left undone."""

from __future__ import annotations

import pytest

from agent.config.sections import SystemSettings
from agent.config.settings import build_settings
from agent.errors import ConfigError
from agent.tickets import sync_run, tickets_of
from integrations.jira.settings import JiraSettings
from simulators.localserver import Fault
from tests.tickets_env import (  # noqa: F401
    TOKEN,
    act,
    count_into,
    counted,
    jira,
    jira_settings,
    nc,
    settings,
    state,
    waits,
)


def events(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> str:
    out, err = capsys.readouterr()
    return out + err + caplog.text


def test_a_rate_limit_is_waited_out_as_jira_asks(jira, fake_store, settings, nc, counted, waits):
    jira.faults.append(Fault(429, "Rate limit exceeded.", times=1, retry_after="3"))
    act(fake_store, settings, nc, "accept", counted)
    assert len(jira.issues) == 1 and counted == [("jira", "sent")]
    assert waits.slept == [3.0]


def test_a_wait_longer_than_the_longest_back_off_is_left_to_the_next_run(
    jira, fake_store, settings, nc, counted, waits
):
    jira.faults.append(Fault(429, "Rate limit exceeded.", times=1, retry_after="600"))
    act(fake_store, settings, nc, "accept", counted)
    assert jira.issues == {} and waits.slept == [] and counted == [("jira", "failed")]
    sync_run(fake_store, settings, None, count_into(counted))  # type: ignore[arg-type]
    assert len(jira.issues) == 1


def test_jira_down_leaves_the_action_standing_and_the_next_run_opens_the_ticket(
    jira, fake_store, settings, nc, counted, waits, capsys, caplog
):
    jira.faults.append(Fault(503, "Service Unavailable", times=None))
    act(fake_store, settings, nc, "accept", counted)

    assert state(fake_store, nc) == "open"
    assert jira.issues == {} and tickets_of(fake_store, [nc.id]) == {}
    assert counted == [("jira", "failed")]
    assert waits.slept == [2.0, 4.0, 8.0]  # [notify] attempts = 4, back-off doubling from 2 s
    logged = events(capsys, caplog)
    line = next(line for line in logged.splitlines() if "ticket_open_failed" in line)
    assert "Jira answered HTTP 503" in line and "nc=NC-0001" in line
    assert TOKEN not in logged and jira.url not in logged

    jira.faults.clear()
    sync_run(fake_store, settings, None, count_into(counted))  # type: ignore[arg-type]
    assert len(jira.issues) == 1 and tickets_of(fake_store, [nc.id])[nc.id][0].key == "SEC-1"
    assert counted[-1] == ("jira", "sent")


def test_a_step_jira_missed_is_told_at_the_next_run(jira, fake_store, settings, nc, counted, waits):
    act(fake_store, settings, nc, "accept", counted)
    jira.faults.append(Fault(503, "Service Unavailable", times=None))
    act(fake_store, settings, nc, "resolve", counted, reason="replaced y")
    assert state(fake_store, nc) == "resolved" and jira.issues["SEC-1"].comments == []
    jira.faults.clear()
    sync_run(fake_store, settings, None, count_into(counted))  # type: ignore[arg-type]
    (comment,) = jira.issues["SEC-1"].comments
    assert "resolved in Annexa by dana" in comment
    assert counted == [("jira", "sent"), ("jira", "failed"), ("jira", "sent")]


def test_a_refused_issue_is_one_line_without_secrets(
    jira, fake_store, nc, counted, store_url, monkeypatch, capsys, caplog
):
    monkeypatch.setenv("JIRA_TOKEN", TOKEN)
    bad = jira_settings(jira, store_url, project="NOPE")
    act(fake_store, bad, nc, "accept", counted)
    logged = events(capsys, caplog)
    line = next(line for line in logged.splitlines() if "ticket_open_failed" in line)
    assert "Jira refused to create an issue: HTTP 400: valid project is required" in line
    assert TOKEN not in logged and jira.url not in logged and "Authorization" not in logged
    assert counted == [("jira", "failed")] and jira.issues == {}
    assert state(fake_store, nc) == "open"


def test_a_wrong_token_is_refused_and_never_echoed(
    jira, fake_store, nc, counted, store_url, monkeypatch, capsys, caplog
):
    monkeypatch.setenv("JIRA_TOKEN", "not-the-token-123")
    act(fake_store, jira_settings(jira, store_url), nc, "accept", counted)
    logged = events(capsys, caplog)
    assert "HTTP 401" in logged and "not-the-token-123" not in logged and jira.url not in logged
    assert counted == [("jira", "failed")]


def test_a_missing_token_fails_closed_in_one_line(
    jira, fake_store, nc, counted, store_url, monkeypatch, capsys, caplog
):
    monkeypatch.delenv("JIRA_TOKEN", raising=False)
    act(fake_store, jira_settings(jira, store_url), nc, "accept", counted)
    assert "environment variable JIRA_TOKEN" in events(capsys, caplog)
    assert counted == [("jira", "failed")] and jira.hits.total() == 0
    assert state(fake_store, nc) == "open"


def test_no_connection_is_retried_then_left_without_naming_the_url(
    fake_store, nc, counted, store_url, monkeypatch, waits, capsys, caplog
):
    from tests.jira_server import JiraServer

    closed = JiraServer("cloud", token=TOKEN, email="x@acme.example")  # bound, never served, then closed
    closed._server.server_close()
    monkeypatch.setenv("JIRA_TOKEN", TOKEN)
    act(fake_store, jira_settings(closed, store_url), nc, "accept", counted)
    logged = events(capsys, caplog)
    assert "cannot reach Jira to search issues (ConnectionError)" in logged
    assert closed.url not in logged and TOKEN not in logged
    assert waits.slept == [2.0, 4.0, 8.0] and counted == [("jira", "failed")]


def test_statuses_are_read_in_one_search_and_a_deleted_issue_keeps_its_last_status(
    jira, fake_store, settings, counted, fake_registry, fake_world
):
    from sqlalchemy import select

    from agent.run.runner import Runner
    from agent.store.schema import Nonconformity

    fake_world.items["fake:a"]["x"] = False
    Runner(fake_store, settings, fake_registry).collect([])
    with fake_store.read() as s:
        ncs = list(s.execute(select(Nonconformity).order_by(Nonconformity.id)).scalars())
    for each in ncs:
        act(fake_store, settings, each, "accept", counted)
    jira.set_status("SEC-2", "Done")
    del jira.issues["SEC-1"]
    jira.requests.clear()

    sync_run(fake_store, settings, None, count_into(counted))  # type: ignore[arg-type]
    links = tickets_of(fake_store, [nc.id for nc in ncs])
    assert [(link.key, link.status, link.done) for nc in ncs for link in links[nc.id]] == [
        ("SEC-1", "", False),
        ("SEC-2", "Done", True),
    ]
    searches = [r for r in jira.requests if "/search" in r.path]
    assert len(searches) == 1 and "SEC-1" in searches[0].query["jql"] and "SEC-2" in searches[0].query["jql"]
    one_by_one = [r.path for r in jira.requests if r.path.startswith("/rest/api/2/issue/")]
    # Cloud refuses a search naming a deleted issue: each issue is then read on its own.
    assert one_by_one == (
        [] if jira.deployment == "datacenter" else ["/rest/api/2/issue/SEC-1", "/rest/api/2/issue/SEC-2"]
    )
    assert [state(fake_store, nc) for nc in ncs] == ["open", "open"]


def test_an_enabled_jira_section_must_be_complete():
    with pytest.raises(ConfigError, match="project"):
        build_settings(
            {
                "jira": {
                    "enabled": True,
                    "url": "https://acme.atlassian.net",
                    "email": "a@b.c",
                    "api_token_env": "T",
                }
            },
            {"fake": SystemSettings},
            integrations={"jira": JiraSettings},
        )
    with pytest.raises(ConfigError, match="token_env"):
        build_settings(
            {
                "jira": {
                    "enabled": True,
                    "url": "https://jira.acme.example",
                    "deployment": "datacenter",
                    "project": "SEC",
                }
            },
            {"fake": SystemSettings},
            integrations={"jira": JiraSettings},
        )


def test_an_issue_created_whose_answer_was_lost_is_taken_not_duplicated(
    jira, fake_store, settings, nc, counted
):
    from tests.jira_server import JiraIssue

    jira.issues["SEC-7"] = JiraIssue(
        "10007", "SEC-7", {"project": {"key": "SEC"}, "labels": ["annexa", "NC-0001"]}
    )
    jira.issues["SEC-8"] = JiraIssue("10008", "SEC-8", {"project": {"key": "SEC"}, "labels": ["NC-0002"]})
    act(fake_store, settings, nc, "accept", counted)
    assert sorted(jira.issues) == ["SEC-7", "SEC-8"]
    assert tickets_of(fake_store, [nc.id])[nc.id][0].key == "SEC-7"
