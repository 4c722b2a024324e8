"""SDK exceptions turned into the one-line, redacted errors recorded on observations, for every system.

Each SDK registers an adapter that only reads its exception type into a `Failure` (what kind, the
HTTP status, the service's error code and message); each system's messages read as its `Wording`
says. Classification, masking secrets, one line and a bounded length happen here, once, so a
client only names the call that failed and a new system brings an adapter for its SDK.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Literal

from agent.errors import CollectorError, InputDataError
from agent.logs import get_logger
from agent.redact import redact

log = get_logger()

# denied: the credentials may not do this; refused: any other error status (throttled, not found,
# server error: the status and code say which); malformed: an answer that does not decode;
# unauthenticated: no credentials to call with; other: no answer (network, timeout) or anything else.
Kind = Literal["denied", "refused", "malformed", "unauthenticated", "other"]
Adapter = Callable[[Any], "Failure"]
MAX_LENGTH = 500
HTTP_DENIED = frozenset({401, 403})
_OPTIONAL = re.compile(r"\[([^][]*)\]")
_FIELD = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Failure:
    """What a failed call says, whichever SDK raised it."""

    kind: Kind
    status: int | None = None
    code: str = ""
    detail: str = ""


def by_type(exc: BaseException) -> Failure:
    """An exception no adapter knows better, named by its type (as network and timeout errors read)."""
    return Failure("other", detail=f"{type(exc).__name__}: {exc}")


def malformed(exc: BaseException) -> Failure:
    """An answer that did not decode: the listing it belongs to cannot be trusted."""
    return Failure("malformed", detail=str(exc))


def by_status(
    status: int | None, code: str = "", detail: str = "", denied: Collection[int] = HTTP_DENIED
) -> Failure:
    """An HTTP answer in error: `denied` statuses are access denied, any other a refusal."""
    return Failure("denied" if status in denied else "refused", status, code, detail)


# A ValueError out of an SDK is an answer that did not decode (JSON, a missing field, a bad date).
_ADAPTERS: dict[type[BaseException], Adapter] = {ValueError: malformed}


def adapter(*types: type[BaseException]) -> Callable[[Adapter], Adapter]:
    """Register how exceptions of `types` (and their subclasses) read as a `Failure`."""

    def register(read: Adapter) -> Adapter:
        _ADAPTERS.update(dict.fromkeys(types, read))
        return read

    return register


def failure(exc: BaseException) -> Failure:
    """What the adapter registered for the nearest class of `exc` reads from it."""
    read = next((_ADAPTERS[c] for c in type(exc).__mro__ if c in _ADAPTERS), by_type)
    return read(exc)


@dataclass(frozen=True)
class Wording:
    """How a system's failures read, one template per kind; a `[...]` part is left out when a field
    it names is empty. Fields: `call` (as the system names it), `status`, `code`, `detail`.

    The default suits HTTP APIs (Entra, and any system without a row); AWS, GCP and BambooHR keep
    the wording their stored observations and people's alerts already use.
    """

    denied: str = "access denied: {call} (HTTP {status}[ {code}])"
    refused: str = "{call}: HTTP {status}[ {code}][: {detail}]"
    malformed: str = "{call}: malformed response: {detail}"
    unauthenticated: str = "{call}: authentication failed: {detail}"
    other: str = "{call}: {detail}"
    attempts: str = " after {attempts} attempts"


WORDINGS = {
    # AWS calls are named `service:Operation`, the IAM action, which is all a denial needs to say.
    "aws": Wording(
        denied="access denied: {call}",
        refused="{code}: {detail}",
        malformed="{call}: unreadable response from the endpoint (HTTP error page?)",
        unauthenticated="no AWS credentials found (standard credential chain)",
        other="{detail}",
    ),
    # GCP calls are named `permission resource`.
    "gcp": Wording(
        denied="access denied: {call}",
        refused="{call} failed: HTTP {status}: {detail}",
        other="{call} failed: {detail}",
        attempts=" (after {attempts} attempts)",
    ),
    "hr": Wording(denied="access denied: {call} (HTTP {status}; check the API key)"),
    # GitHub's `message` says what a denial lacks ("Resource not accessible by integration").
    "github": Wording(denied="access denied: {call} (HTTP {status}[: {detail}])"),
}


def _fill(template: str, fields: dict[str, Any]) -> str:
    def part(match: re.Match[str]) -> str:
        names = _FIELD.findall(match.group(1))
        return match.group(1) if all(fields[n] not in (None, "") for n in names) else ""

    return _OPTIONAL.sub(part, template).format_map(fields)


def translate(
    cause: BaseException | Failure, system: str, call: str, attempts: int | None = None
) -> CollectorError:
    """The error to raise for a failed call: one line, secrets masked, `after N attempts` when given.

    A malformed answer is an `InputDataError`: the whole listing is rejected, not one resource.
    """
    found = cause if isinstance(cause, Failure) else failure(cause)
    wording = WORDINGS.get(system, Wording())
    fields = {"call": call, "status": found.status, "code": found.code, "detail": found.detail}
    message = " ".join(redact(_fill(getattr(wording, found.kind), fields)).split())[:MAX_LENGTH]
    if attempts is not None:
        message += wording.attempts.format(attempts=attempts)
    log.warning("collector.call_failed", system=system, call=call, error=message)
    return (InputDataError if found.kind == "malformed" else CollectorError)(message)
