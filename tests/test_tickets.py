"""Tickets through the real `jira` package against a local Jira, as Cloud and as Data Center: an
accepted NC opens an issue, its later steps are told there, closing transitions it, and a ticket
done in Jira shows beside the NC without ever moving it."""

# ruff: noqa: F811 (fixtures imported from tests/tickets_env.py)
from __future__ import annotations

from datetime import date

from agent.store.verify import verify_store
from agent.tickets import sync_run, tickets_of
from tests.jira_server import JiraServer
from tests.tickets_env import BASE, act, count_into, counted, jira, nc, settings, state, waits  # noqa: F401

PLAN = {"corrective_action": "Make y good", "owner": "ops@acme.example", "due_date": date(2026, 12, 31)}


def only_issue(jira: JiraServer):
    assert len(jira.issues) == 1
    return next(iter(jira.issues.values()))


def test_accepting_opens_one_issue_with_the_nc_and_a_link_back(jira, fake_store, settings, nc, counted):
    act(fake_store, settings, nc, "accept", counted, reason="confirmed")

    issue = only_issue(jira)
    fields = issue.fields
    assert fields["project"] == {"key": "SEC"} and fields["issuetype"] == {"name": "Task"}
    assert fields["summary"] == "NC-0001: Things are good (fake:b)"
    assert fields["labels"] == ["annexa", "iso27001", "NC-0001"]
    description = fields["description"]
    for part in ("Nonconformity: NC-0001", "Check: fake.things.good", "Annex A controls: A.8.9",
                 "Severity: minor", "Scope: fake:b", "- y", f"[Open NC-0001 in Annexa|{BASE}/ncs/NC-0001]"):  # fmt: skip
        assert part in description
    assert tickets_of(fake_store, [nc.id])[nc.id][0].key == issue.key == "SEC-1"
    assert tickets_of(fake_store, [nc.id])[nc.id][0].url == f"{jira.url}/browse/SEC-1"
    assert counted == [("jira", "sent")]
    expected = "Basic" if jira.deployment == "cloud" else "Bearer"
    assert {a.split()[0] for a in jira.authorizations} == {expected}

    sync_run(fake_store, settings, None, count_into(counted))  # type: ignore[arg-type]
    assert len(jira.issues) == 1, "an NC has one issue per tracker"


def test_each_later_step_is_a_comment_and_closing_transitions_the_issue(
    jira, fake_store, settings, nc, counted, fake_registry, fake_world
):
    from agent.run.runner import Runner

    act(fake_store, settings, nc, "accept", counted)
    act(fake_store, settings, nc, "plan", counted, **PLAN)
    act(fake_store, settings, nc, "resolve", counted, reason="replaced y")
    fake_world.items["fake:b"]["y"] = True
    Runner(fake_store, settings, fake_registry).collect([])
    act(fake_store, settings, nc, "close", counted, effectiveness_review="y checked good for a week")

    issue = only_issue(jira)
    assert issue.status == "Done"
    planned, resolved, closed = issue.comments
    assert "corrective action planned in Annexa by dana" in planned and "Make y good" in planned
    assert "Due: 2026-12-31" in planned
    assert "NC-0001 resolved in Annexa by dana" in resolved and "replaced y" in resolved
    assert "NC-0001 closed in Annexa after verification by dana" in closed
    assert "y checked good for a week" in closed and f"{BASE}/ncs/NC-0001" in closed
    assert counted == [("jira", "sent")] * 4
    sync_run(fake_store, settings, None, count_into(counted))  # type: ignore[arg-type]
    assert len(issue.comments) == 3, "a step is told once"


def test_rejecting_comments(jira, fake_store, settings, nc, counted):
    act(fake_store, settings, nc, "accept", counted)
    act(fake_store, settings, nc, "reject", counted, reason="accepted risk, see the risk register")
    (comment,) = only_issue(jira).comments
    assert "rejected in Annexa by dana" in comment and "accepted risk" in comment
    assert only_issue(jira).status == "To Do"


def test_a_ticket_done_in_jira_never_moves_the_nc_but_shows_beside_it(
    jira, fake_store, settings, nc, counted
):
    act(fake_store, settings, nc, "accept", counted)
    jira.set_status("SEC-1", "Done")
    sync_run(fake_store, settings, None, count_into(counted))  # type: ignore[arg-type]

    assert state(fake_store, nc) == "open"
    (link,) = tickets_of(fake_store, [nc.id])[nc.id]
    assert (link.tracker, link.status, link.done) == ("jira", "Done", True)
    assert link.synced_at is not None

    act(fake_store, settings, nc, "resolve", counted, reason="replaced y")
    sync_run(fake_store, settings, None, count_into(counted))  # type: ignore[arg-type]
    assert state(fake_store, nc) == "resolved", "only verification in Annexa closes an NC"
    assert verify_store(fake_store).ok, "ticket links are outside the sealed chain"


def test_a_status_in_progress_is_not_done(jira, fake_store, settings, nc, counted):
    act(fake_store, settings, nc, "accept", counted)
    jira.set_status("SEC-1", "In Progress")
    sync_run(fake_store, settings, None, count_into(counted))  # type: ignore[arg-type]
    (link,) = tickets_of(fake_store, [nc.id])[nc.id]
    assert (link.status, link.done) == ("In Progress", False)


def test_closing_an_issue_already_done_in_jira_comments_only(jira, fake_store, settings, nc, counted, capsys):
    from agent.run.runner import Runner
    from tests.fakeplugin import World, build_registry

    act(fake_store, settings, nc, "accept", counted)
    act(fake_store, settings, nc, "resolve", counted, reason="replaced y")
    jira.set_status("SEC-1", "Done")
    world = World()
    world.items["fake:b"]["y"] = True
    Runner(fake_store, settings, build_registry(world)).collect([])
    capsys.readouterr()
    act(fake_store, settings, nc, "close", counted, effectiveness_review="verified")
    issue = only_issue(jira)
    assert issue.status == "Done" and "closed in Annexa after verification" in issue.comments[-1]
    assert "jira_transition_unavailable" in capsys.readouterr().out
    assert state(fake_store, nc) == "closed"


def test_hostile_strings_stay_inside_noformat(jira, fake_store, settings, fake_registry, fake_world, counted):
    from sqlalchemy import select

    from agent.run.runner import Runner
    from agent.store.schema import Nonconformity

    hostile = "{noformat}*bold* [click|https://evil.example] {color:red}x{color}"
    fake_world.items["fake:b"][hostile] = False
    Runner(fake_store, settings, fake_registry).collect([])
    with fake_store.read() as s:
        nc = s.execute(select(Nonconformity)).scalar_one()
    act(fake_store, settings, nc, "accept", counted)
    description = only_issue(jira).fields["description"]
    assert hostile not in description  # its block-ending `{noformat}` was broken
    body = description.split("{noformat}\n", 1)[1]
    assert body.count("{noformat}") == 1 and body.endswith("\n{noformat}")
    assert "[click|https://evil.example]" in body.split("\n{noformat}")[0]


def test_without_a_close_transition_closing_only_comments_and_priorities_follow_severity(
    jira, fake_store, nc, counted, store_url, fake_registry, fake_world
):
    from agent.run.runner import Runner
    from tests.tickets_env import jira_settings

    plain = jira_settings(jira, store_url, priorities={"minor": "Low", "major": "Highest"})
    act(fake_store, plain, nc, "accept", counted)
    act(fake_store, plain, nc, "resolve", counted, reason="replaced y")
    fake_world.items["fake:b"]["y"] = True
    Runner(fake_store, plain, fake_registry).collect([])
    act(fake_store, plain, nc, "close", counted, effectiveness_review="verified")
    issue = only_issue(jira)
    assert issue.fields["priority"] == {"name": "Low"}
    assert issue.status == "To Do" and "closed in Annexa after verification" in issue.comments[-1]
    assert not [r for r in jira.requests if r.path.endswith("/transitions")]
