"""A local Teams Workflows webhook ("Post to a channel when a webhook request is received").

It accepts a message whose one attachment is an Adaptive Card with 202 Accepted and an empty body,
refuses anything else with 400 and a JSON error, and a wrong signature in the URL with 401.
"""

from __future__ import annotations

import json
from typing import Any

from simulators.localserver import Reply, Request
from tests.webhook_receiver import Receiver

SIGNATURE = "sigTeamsSecret0000000000"
TRIGGER = "/workflows/4f2a/triggers/manual/paths/invoke"
PATH = f"{TRIGGER}?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIGNATURE}"
CARD = "application/vnd.microsoft.card.adaptive"


def _card_error(message: Any) -> str | None:
    if not isinstance(message, dict) or message.get("type") != "message":
        return "the body is not a message"
    attachments = message.get("attachments")
    if (
        not isinstance(attachments, list)
        or len(attachments) != 1
        or attachments[0].get("contentType") != CARD
    ):
        return "a message needs one Adaptive Card attachment"
    content = attachments[0].get("content", {})
    if content.get("type") != "AdaptiveCard" or content.get("version") not in {"1.2", "1.3", "1.4", "1.5"}:
        return "the attachment is not an Adaptive Card of a version Teams renders"
    if not all(
        isinstance(e, dict) and "type" in e for e in [*content.get("body", []), *content.get("actions", [])]
    ):
        return "every card element needs a type"
    return None


class TeamsServer(Receiver):
    def __init__(self) -> None:
        super().__init__()
        self.cards: list[dict[str, Any]] = []

    @property
    def hook_url(self) -> str:
        return f"{self.url}{PATH}"

    def error(self, status: int, message: str, code: str = "InvalidRequestContent") -> Reply:
        """The Logic Apps error document."""
        return Reply(status, {"error": {"code": code, "message": message}})

    def route(self, request: Request) -> Reply:
        if request.path != TRIGGER or request.query.get("sig") != SIGNATURE:
            return self.error(401, "bad sig", "DirectApiAuthorizationRequired")
        message = json.loads(request.body)
        error = _card_error(message)
        if error:
            return self.error(400, error)
        self.cards.append(message["attachments"][0]["content"])
        return Reply(202, "")
