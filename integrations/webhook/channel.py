"""A message as signed JSON to any HTTPS receiver.

The receiver verifies `X-Annexa-Signature: sha256=<hex>`, an HMAC-SHA256 with the shared secret over
`<X-Annexa-Timestamp>.<raw body>`, and rejects a timestamp far from its own clock (a replay) and a
delivery id it has already processed (a retry it took).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from agent.notify.delivery import post_json, secret
from agent.notify.message import Message
from integrations.webhook.settings import WebhookSettings


def signature(key: str, timestamp: str, body: bytes) -> str:
    """The `X-Annexa-Signature` value of `body` sent at `timestamp` (unix seconds, as text)."""
    digest = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def send(message: Message, section: WebhookSettings, timeout: float) -> None:
    key = secret("webhook signing secret", env=section.secret_env, file=section.secret_file,
                 key="notify.webhook.secret_env")  # fmt: skip
    body = json.dumps(message.document(), ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))  # signed anew for each attempt, so a retry is not a stale replay
    headers = {
        "User-Agent": "Annexa",
        "X-Annexa-Event": message.event.value,
        "X-Annexa-Delivery": message.delivery,
        "X-Annexa-Timestamp": timestamp,
        "X-Annexa-Signature": signature(key, timestamp, body),
    }
    post_json(section.url, body, headers, timeout, "the webhook receiver")
