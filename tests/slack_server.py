"""A local Slack: `chat.postMessage` of the Web API and incoming webhooks, answering as Slack does.

The Web API answers HTTP 200 with `{"ok": false, "error": ...}` for API errors and 429 with
Retry-After when rate limited; an incoming webhook answers `ok` as text/html, or an HTTP error
with the error's name as the body (`invalid_payload`, `no_service`, ...).
"""

from __future__ import annotations

import json
from typing import Any

from simulators.localserver import Fault, Reply, Request
from tests.webhook_receiver import Receiver

TOKEN = "xoxb-111-222-notifyTestToken000"
HOOK_PATH = "/services/T0001/B0001/hookSecretPart0000"
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000


def _blocks_error(blocks: Any) -> str | None:
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        return "invalid_blocks"
    for block in blocks:
        if block.get("type") not in {"section", "divider", "context", "header", "actions"}:
            return "invalid_blocks"
        text = block.get("text", {})
        if block["type"] == "section" and (
            text.get("type") != "mrkdwn" or len(text.get("text", "")) > MAX_SECTION_TEXT
        ):
            return "invalid_blocks"
    return None


class SlackServer(Receiver):
    def __init__(self, channels: frozenset[str] = frozenset({"#compliance"})) -> None:
        super().__init__()
        self.channels = channels
        self.posted: list[dict[str, Any]] = []

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    @property
    def hook_url(self) -> str:
        return f"{self.url}{HOOK_PATH}"

    def rate_limited(self, seconds: int) -> Fault:
        """The Web API's answer to the next request when a method's rate limit is reached."""
        return Fault(429, "ratelimited", times=1, retry_after=str(seconds))

    def error(self, status: int, message: str) -> Reply:
        """The Web API's error document; the HTTP status says whether it is an API error (200)."""
        return Reply(status, {"ok": False, "error": message})

    def route(self, request: Request) -> Reply:
        if request.path == HOOK_PATH:
            return self._hook(request)
        if request.path == "/api/chat.postMessage":
            return self._post_message(request)
        return self.error(404, "unknown_method")

    def _post_message(self, request: Request) -> Reply:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.error(200, "invalid_auth")
        if request.headers.get("Content-Type", "").startswith("application/json"):
            args = json.loads(request.body)
        else:
            args = request.form
            args["blocks"] = json.loads(args.get("blocks", "null"))
        if args.get("channel") not in self.channels:
            return self.error(200, "channel_not_found")
        if not args.get("text") and not args.get("blocks"):
            return self.error(200, "no_text")
        error = _blocks_error(args.get("blocks", []))
        if error:
            return self.error(200, error)
        self.posted.append(args)
        ts = f"1700000000.{len(self.posted):06d}"
        return Reply(200, {"ok": True, "channel": "C0COMPLIANCE", "ts": ts, "message": {"ts": ts}})

    def _hook(self, request: Request) -> Reply:
        """An incoming webhook answers in text/html: `ok`, or the error's name."""
        payload = json.loads(request.body)
        if not payload.get("text") and not payload.get("blocks"):
            return Reply(400, "invalid_payload")
        if _blocks_error(payload.get("blocks", [])):
            return Reply(400, "invalid_blocks")
        self.posted.append(payload)
        return Reply(200, "ok")
