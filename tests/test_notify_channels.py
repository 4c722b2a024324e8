"""Each channel through its real client (httpx, slack_sdk, smtplib) against a local server that
answers as the real service does; the one dispatcher's retries, back-off and counting."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message as Mail
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from structlog.testing import capture_logs

from agent.integrations import retry as retry_module
from agent.integrations.settings import EventKind
from agent.logs import quiet_libraries
from agent.notify.dispatch import dispatch
from agent.notify.message import MAX_ITEMS, Item, Message, message
from integrations.slack.channel import escape as slack_escape
from integrations.webhook.channel import signature
from simulators.localserver import Fault
from tests.clock import FakeTime
from tests.fakeplugin import fake_system_settings
from tests.period_store import frozen
from tests.slack_server import TOKEN, SlackServer
from tests.teams_server import SIGNATURE, TeamsServer
from tests.webhook_receiver import WebhookReceiver

SECRET = "whsec-notifyTestSecret0000"
HOSTILE = "<!channel> & *bold* [x](http://evil.example) <http://evil.example|click>"


def sample(count: int = 3, title: str = "Things are good") -> Message:
    items = [
        Item(f"NC-{i:04d}", title, f"fake:{i}", f"https://annexa.example/ncs/NC-{i:04d}", "minor")
        for i in range(1, count + 1)
    ]
    return message(
        EventKind.NC_OPENED, 7, "run7uid-nc_opened", f"{count} nonconformities opened",
        "Run 7 found checks failing.", "https://annexa.example/ncs?state=draft", items,
    )  # fmt: skip


class Counted:
    def __init__(self) -> None:
        self.outcomes: list[tuple[str, str]] = []

    def __call__(self, integration: str, outcome: str) -> None:
        self.outcomes.append((integration, outcome))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(retry_module, "time", fake)
    return fake


def send(messages: list[Message], **channels: Any) -> Counted:
    """Dispatch with these `[notify.<name>]` tables (enabled), the defaults of `[notify]` otherwise."""
    notify = {name: {"enabled": True, **table} for name, table in channels.items()}
    counted = Counted()
    dispatch(messages, fake_system_settings(notify=notify).notify, counted)
    return counted


def logged(logs: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"] == event]


# -- webhook ------------------------------------------------------------------------------------


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookReceiver]:
    monkeypatch.setenv("ANNEXA_TEST_WEBHOOK_SECRET", SECRET)
    server = WebhookReceiver(SECRET).start()
    yield server
    server.stop()


def webhook(receiver: WebhookReceiver, **more: Any) -> dict[str, Any]:
    return {"webhook": {"url": f"{receiver.url}/annexa", "secret_env": "ANNEXA_TEST_WEBHOOK_SECRET", **more}}


def test_webhook_posts_the_message_signed_and_the_receiver_verifies_it(receiver, clock):
    counted = send([sample()], **webhook(receiver))
    assert counted.outcomes == [("webhook", "sent")]
    (body,) = receiver.accepted
    assert body["event"] == "nc_opened" and body["run"] == 7 and body["total"] == 3
    assert [i["ref"] for i in body["items"]] == ["NC-0001", "NC-0002", "NC-0003"]
    assert body["items"][0]["link"] == "https://annexa.example/ncs/NC-0001"
    headers = {k.lower(): v for k, v in receiver.requests[0].headers.items()}
    assert headers["x-annexa-event"] == "nc_opened" and headers["x-annexa-delivery"] == "run7uid-nc_opened"
    assert headers["x-annexa-signature"] == signature(
        SECRET, headers["x-annexa-timestamp"], receiver.requests[0].body
    )


def test_a_webhook_signed_with_another_secret_is_refused_once_and_counted(receiver, clock, monkeypatch):
    monkeypatch.setenv("ANNEXA_TEST_WEBHOOK_SECRET", "not-the-receivers-secret")
    with capture_logs() as logs:
        counted = send([sample()], **webhook(receiver))
    assert counted.outcomes == [("webhook", "failed")]
    assert len(receiver.requests) == 1 and receiver.accepted == [] and clock.slept == []
    assert logged(logs, "notification_failed")[0]["error"] == "the webhook receiver answered HTTP 401"


def test_rate_limited_then_accepted_waits_as_asked_and_keeps_the_delivery_id(receiver, clock):
    receiver.fail(Fault(429, "slow down", times=1, retry_after="7"))
    counted = send([sample()], **webhook(receiver))
    assert counted.outcomes == [("webhook", "sent")] and clock.slept == [7.0]
    first, second = ({k.lower(): v for k, v in r.headers.items()} for r in receiver.requests)
    assert first["x-annexa-delivery"] == second["x-annexa-delivery"] == "run7uid-nc_opened"
    assert len(receiver.accepted) == 1


@pytest.mark.parametrize(
    ("notify", "waits"),
    [({}, [2.0, 4.0, 8.0]), ({"backoff": "40s", "max_backoff": "1m", "attempts": 3}, [40.0, 60.0])],
)
def test_server_errors_are_retried_until_the_attempts_run_out_then_counted_failed(
    receiver, clock, notify, waits
):
    receiver.fail(Fault(503, times=5))
    notify_settings = fake_system_settings(notify={**notify, **webhook(receiver)}).notify
    notify_settings.webhook.enabled = True
    counted = Counted()
    with capture_logs() as logs:
        dispatch([sample()], notify_settings, counted)
    assert counted.outcomes == [("webhook", "failed")]
    assert clock.slept == waits and len(receiver.requests) == len(waits) + 1
    assert receiver.url not in str(logs) and SECRET not in str(logs)
    (failure,) = logged(logs, "notification_failed")
    assert (
        failure["error"] == "the webhook receiver answered HTTP 503" and failure["attempts"] == len(waits) + 1
    )


def test_a_retry_after_longer_than_max_backoff_is_not_waited(receiver, clock):
    receiver.fail(Fault(429, times=1, retry_after="3600"))
    with capture_logs() as logs:
        assert send([sample()], **webhook(receiver)).outcomes == [("webhook", "failed")]
    assert clock.slept == [] and len(receiver.requests) == 1
    assert logged(logs, "notification_failed")[0]["error"] == "the webhook receiver answered HTTP 429"


def test_a_retry_after_within_max_backoff_is_waited(receiver, clock):
    receiver.fail(Fault(429, times=1, retry_after="30"))
    assert send([sample()], **webhook(receiver)).outcomes == [("webhook", "sent")]
    assert clock.slept == [30.0]


def test_an_unreachable_receiver_is_retried_and_never_named(clock, monkeypatch):
    monkeypatch.setenv("ANNEXA_TEST_WEBHOOK_SECRET", SECRET)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/hook"  # bound, not listening: refused
        with capture_logs() as logs:
            counted = send([sample()], webhook={"url": closed, "secret_env": "ANNEXA_TEST_WEBHOOK_SECRET"})
    assert counted.outcomes == [("webhook", "failed")] and clock.slept == [2.0, 4.0, 8.0]
    assert "127.0.0.1" not in str(logs)
    assert (
        logged(logs, "notification_failed")[0]["error"] == "the webhook receiver unreachable (ConnectError)"
    )


def test_a_webhook_without_its_secret_fails_closed_without_posting(receiver, clock, monkeypatch):
    monkeypatch.delenv("ANNEXA_TEST_WEBHOOK_SECRET")
    with capture_logs() as logs:
        counted = send([sample()], **webhook(receiver))
    assert counted.outcomes == [("webhook", "failed")] and receiver.requests == []
    assert "ANNEXA_TEST_WEBHOOK_SECRET" in logged(logs, "notification_failed")[0]["error"]


def test_a_channel_gets_only_the_kinds_it_asked_for(receiver, clock):
    closed = message(EventKind.NC_CLOSED, 7, "run7uid-nc_closed", "1 nonconformity closed", "s", "l", [])
    counted = send([sample(), closed], **webhook(receiver, events=["nc_closed"]))
    assert counted.outcomes == [("webhook", "sent")]
    assert [b["event"] for b in receiver.accepted] == ["nc_closed"]


def test_a_long_list_is_capped_and_says_how_many_more(receiver, clock):
    send([sample(MAX_ITEMS + 5)], **webhook(receiver))
    (body,) = receiver.accepted
    assert len(body["items"]) == MAX_ITEMS and body["total"] == MAX_ITEMS + 5 and body["more"] == 5


# -- Slack --------------------------------------------------------------------------------------


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackServer]:
    server = SlackServer().start()
    monkeypatch.setenv("ANNEXA_TEST_SLACK_TOKEN", TOKEN)
    monkeypatch.setenv("ANNEXA_TEST_SLACK_HOOK", server.hook_url)
    yield server
    server.stop()


def bot(slack: SlackServer, channel: str = "#compliance") -> dict[str, Any]:
    return {"slack": {"token_env": "ANNEXA_TEST_SLACK_TOKEN", "channel": channel, "api_url": slack.api_url}}


def test_slack_posts_blocks_with_links_and_escapes_collected_text(slack, clock):
    counted = send([sample(title=HOSTILE)], **bot(slack))
    assert counted.outcomes == [("slack", "sent")]
    (posted,) = slack.posted
    assert posted["channel"] == "#compliance" and posted["unfurl_links"] is False
    assert posted["text"] == "3 nonconformities opened: https://annexa.example/ncs?state=draft"
    first = posted["blocks"][0]["text"]["text"]
    assert (
        first.startswith("*3 nonconformities opened*")
        and "<https://annexa.example/ncs?state=draft|Open in Annexa>" in first
    )
    item = posted["blocks"][2]["text"]["text"]
    assert item.startswith("*<https://annexa.example/ncs/NC-0001|NC-0001>* · minor\n")
    assert slack_escape(HOSTILE) in item and "<!channel>" not in item and "<http://evil" not in item
    assert "&lt;!channel&gt; &amp; *bold*" in item


def test_slack_api_errors_answered_with_200_are_failures_not_retried(slack, clock):
    with capture_logs() as logs:
        counted = send([sample()], **bot(slack, channel="#nowhere"))
    assert counted.outcomes == [("slack", "failed")] and len(slack.requests) == 1 and clock.slept == []
    assert logged(logs, "notification_failed")[0]["error"] == "Slack answered channel_not_found"


def test_slack_rate_limit_is_waited_out_as_its_retry_after_says(slack, clock):
    slack.fail(slack.rate_limited(3))
    assert send([sample()], **bot(slack)).outcomes == [("slack", "sent")]
    assert clock.slept == [3.0] and len(slack.posted) == 1


def test_slack_incoming_webhook_is_posted_and_its_refusal_is_final(slack, clock):
    hook = {"slack": {"webhook_url_env": "ANNEXA_TEST_SLACK_HOOK"}}
    assert send([sample()], **hook).outcomes == [("slack", "sent")]
    assert slack.posted[0]["blocks"][0]["type"] == "section"
    slack.fail(Fault(404, times=1, body="no_service"))
    assert send([sample()], **hook).outcomes == [("slack", "failed")]
    assert len(slack.requests) == 2 and clock.slept == []


def test_slack_secrets_never_reach_logs_when_everything_fails(slack, clock, caplog, capsys):
    slack.fail(Fault(500, "internal_error", times=8))
    with caplog.at_level(logging.DEBUG), capture_logs() as logs:
        counted = send([sample()], slack={"webhook_url_env": "ANNEXA_TEST_SLACK_HOOK"})
        counted2 = send([sample()], **bot(slack))
    assert counted.outcomes == counted2.outcomes == [("slack", "failed")]
    seen = str(logs) + caplog.text + "".join(capsys.readouterr())
    assert "hookSecretPart" not in seen and TOKEN not in seen and slack.url not in seen
    assert len(slack.requests) == 8


# -- Teams --------------------------------------------------------------------------------------


@pytest.fixture
def teams(monkeypatch: pytest.MonkeyPatch) -> Iterator[TeamsServer]:
    server = TeamsServer().start()
    monkeypatch.setenv("ANNEXA_TEST_TEAMS_HOOK", server.hook_url)
    yield server
    server.stop()


TEAMS = {"teams": {"webhook_url_env": "ANNEXA_TEST_TEAMS_HOOK"}}


def test_teams_gets_an_adaptive_card_with_escaped_text_and_a_button(teams, clock):
    assert send([sample(title=HOSTILE)], **TEAMS).outcomes == [("teams", "sent")]
    (card,) = teams.cards
    assert card["body"][0]["text"] == "3 nonconformities opened"
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open in Annexa", "url": "https://annexa.example/ncs?state=draft"}
    ]
    item = card["body"][2]["items"][0]["text"]
    assert item.startswith("**[NC-0001](https://annexa.example/ncs/NC-0001)** · minor ")
    assert r"\*bold\* \[x\]\(http://evil.example\)" in item and "[x](" not in item


def test_teams_rate_limit_then_accepted(teams, clock):
    teams.fail(
        Fault(429, times=1, body={"error": {"code": "TooManyRequests", "message": "slow"}}, retry_after="5")
    )
    assert send([sample()], **TEAMS).outcomes == [("teams", "sent")]
    assert clock.slept == [5.0] and len(teams.cards) == 1


def test_teams_failures_never_show_the_webhook_url(teams, clock, caplog):
    quiet_libraries(logging.DEBUG)  # as the CLI and the daemon configure logging, at its most verbose
    teams.fail(Fault(502, times=4))
    with caplog.at_level(logging.DEBUG), capture_logs() as logs:
        counted = send([sample()], **TEAMS)
    assert counted.outcomes == [("teams", "failed")] and len(teams.requests) == 4
    seen = str(logs) + caplog.text
    assert SIGNATURE not in seen and teams.url not in seen
    assert logged(logs, "notification_failed")[0]["error"] == "the Teams webhook answered HTTP 502"


# -- e-mail -------------------------------------------------------------------------------------


class Relay:
    """aiosmtpd's handler: keeps each message, or refuses DATA with `refuse` while it is set."""

    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], Mail]] = []
        self.refuse = ""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def relay() -> Iterator[tuple[Relay, int]]:
    handler = Relay()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()  # returns once the server answers
    yield handler, controller.port
    controller.stop()


def mail(port: int, **more: Any) -> dict[str, Any]:
    return {"email": {"host": "127.0.0.1", "port": port, "security": "none", "sender": "annexa@example.org",
                      "recipients": ["isms@example.org", "ciso@example.org"], **more}}  # fmt: skip


def test_email_arrives_with_subject_recipients_and_the_plain_text_list(relay, clock):
    handler, port = relay
    assert send([sample()], **mail(port)).outcomes == [("email", "sent")]
    ((sender, recipients, received),) = handler.mails
    assert sender == "annexa@example.org" and recipients == ["isms@example.org", "ciso@example.org"]
    assert received["Subject"] == "[Annexa] 3 nonconformities opened"
    assert (
        received["To"] == "isms@example.org, ciso@example.org" and received["X-Annexa-Event"] == "nc_opened"
    )
    assert received.get_content_type() == "text/plain"
    body = received.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert "- NC-0001 [minor] Things are good (fake:1)\n  https://annexa.example/ncs/NC-0001" in body
    assert "Open in Annexa: https://annexa.example/ncs?state=draft" in body


def test_a_permanent_smtp_refusal_is_counted_failed_without_retrying(relay, clock):
    handler, port = relay
    handler.refuse = "550 5.7.1 Relaying denied"
    with capture_logs() as logs:
        assert send([sample()], **mail(port)).outcomes == [("email", "failed")]
    assert (
        clock.slept == []
        and logged(logs, "notification_failed")[0]["error"] == "the SMTP relay refused (550)"
    )


def test_a_temporary_smtp_refusal_is_retried(relay, clock):
    handler, port = relay
    handler.refuse = "451 4.3.0 Try again later"
    with capture_logs():
        assert send([sample()], **mail(port)).outcomes == [("email", "failed")]
    assert clock.slept == [2.0, 4.0, 8.0]


def test_a_dropped_smtp_connection_is_retried_and_counted(clock):
    """A relay that accepts the connection and closes it at once (a crash, an idle timeout)."""
    accepted = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def drop() -> None:
            for _ in range(4):
                connection, _ = listener.accept()
                accepted.append(1)
                connection.close()

        dropper = threading.Thread(target=drop, daemon=True)
        dropper.start()
        with capture_logs() as logs:
            counted = send([sample()], **mail(listener.getsockname()[1]))
        dropper.join()
    assert counted.outcomes == [("email", "failed")] and len(accepted) == 4
    assert clock.slept == [2.0, 4.0, 8.0]
    assert logged(logs, "notification_failed")[0]["error"] == "the SMTP relay dropped the connection"


def test_starttls_against_a_relay_without_it_fails_closed(relay, clock):
    _, port = relay
    assert send([sample()], **mail(port, security="starttls")).outcomes == [("email", "failed")]
    assert clock.slept == []


def test_a_broken_channel_does_not_stop_the_others(receiver, relay, clock):
    handler, port = relay
    receiver.fail(Fault(400, times=1))
    counted = send([sample()], **webhook(receiver), **mail(port))
    assert sorted(counted.outcomes) == [("email", "sent"), ("webhook", "failed")]
    assert len(handler.mails) == 1


def test_a_retry_after_given_as_an_http_date_is_waited_until_then(receiver, clock):
    receiver.fail(Fault(503, times=1, retry_after="Mon, 02 Mar 2026 06:00:30 GMT"))
    with frozen(datetime(2026, 3, 2, 6, 0, tzinfo=UTC)):
        assert send([sample()], **webhook(receiver)).outcomes == [("webhook", "sent")]
    assert clock.slept == [30.0]
