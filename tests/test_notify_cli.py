"""`annexa collect`, the console script, with a webhook that keeps failing: the run ends as it would
without notifications, and the failure is logged without the receiver's address or secret."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators.localserver import Fault
from tests.cli import annexa
from tests.period_store import write_hr_export
from tests.webhook_receiver import WebhookReceiver

SECRET = "whsec-cliTestSecret0000000"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver(SECRET).start()
    yield server
    server.stop()


def config(root: Path, notify: str) -> Path:
    root.mkdir()
    write_hr_export(root / "employees.csv", 8)  # a day some HR checks fail: NCs are opened
    path = root / "annexa.toml"
    path.write_text(
        f'[store]\nurl = "sqlite:///{root / "a.db"}"\n\n'
        f'[hr]\nenabled = true\nprovider = "file"\npath = "{root / "employees.csv"}"\n\n{notify}'
    )
    return path


def test_a_failing_webhook_leaves_the_collect_exit_code_as_it_was(tmp_path, receiver):
    quiet = annexa("collect", "--config", str(config(tmp_path / "quiet", "")))
    receiver.fail(Fault(500, times=4))
    hook = (
        '[notify]\nattempts = 2\nbackoff = "0s"\n\n'
        f'[notify.webhook]\nenabled = true\nurl = "{receiver.url}/in"\nsecret_env = "NOTIFY_CLI_SECRET"\n'
    )
    noisy = annexa(
        "collect", "--config", str(config(tmp_path / "noisy", hook)), env={"NOTIFY_CLI_SECRET": SECRET}
    )
    assert noisy.returncode == quiet.returncode, noisy.stderr
    assert [r.headers["X-Annexa-Event"] for r in receiver.requests] == [
        "nc_opened",
        "nc_opened",
    ]  # 2 attempts
    assert "notification_failed" in noisy.stderr and "the webhook receiver answered HTTP 500" in noisy.stderr
    assert receiver.url not in noisy.stderr and SECRET not in noisy.stderr
