"""Structured logs: key=value events on stderr, secrets masked, no prints.

structlog is imported on the first event, not at start-up: most commands of the CLI log nothing
unless something goes wrong, and importing it (with the Rich tracebacks it loads) is a noticeable
share of a quick command's time. Modules take their logger from `get_logger()`.
"""

from __future__ import annotations

import logging
import sys
from types import ModuleType
from typing import Any

from agent.redact import redact_event

_applied = [True]  # False between `configure()` and the first event: structlog is set up then


def _structlog() -> ModuleType:
    import structlog

    if not _applied[0]:
        _applied[0] = True
        structlog.configure(
            processors=[
                structlog.stdlib.filter_by_level,
                *_pre_chain(structlog),
                structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
            ],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
            cache_logger_on_first_use=False,
        )
    return structlog


def _pre_chain(structlog: ModuleType) -> list[Any]:
    return [
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_event,
    ]


class _Logger:
    """A structlog logger, bound on first use."""

    def __init__(self) -> None:
        self._real: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._real is None:
            self._real = _structlog().get_logger()
        return getattr(self._real, name)


def get_logger() -> Any:
    return _Logger()


class _Formatter(logging.Formatter):
    """structlog's key=value formatter for every standard-library record, built on the first one."""

    def __init__(self) -> None:
        super().__init__()
        self._inner: logging.Formatter | None = None

    def format(self, record: logging.LogRecord) -> str:
        if self._inner is None:
            structlog = _structlog()
            # Values are rendered with repr() (repr_native_str), so a control character or bidi
            # override from data shows as its escape (`\x1b`, `\u202e`), the notation of
            # `agent.literal`: keep it that way.
            renderer = structlog.processors.KeyValueRenderer(
                key_order=["timestamp", "level", "event"], sort_keys=True, repr_native_str=True
            )
            self._inner = structlog.stdlib.ProcessorFormatter(
                processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
                foreign_pre_chain=[*_pre_chain(structlog), structlog.processors.format_exc_info],
            )
        return self._inner.format(record)


_NOISY = (
    "botocore", "boto3", "urllib3", "werkzeug", "sqlalchemy", "s3transfer", "httpx", "httpcore", "slack_sdk",
    "jira", "authlib",
)  # fmt: skip


def quiet_libraries(level: int) -> None:
    """Libraries that log each request: too much to read, and httpx's and the chat SDK's lines name
    the full URL, which for a chat webhook is its secret. Never below WARNING, even at debug."""
    for name in _NOISY:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def configure(level: str = "info", *, quiet: bool = False) -> None:
    """Route structlog and the standard library (boto3, SQLAlchemy) through one key=value renderer."""
    numeric = logging.WARNING if quiet else getattr(logging, level.upper(), logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    quiet_libraries(numeric)
    _applied[0] = False
    if "structlog" in sys.modules:  # already in use (a library caller, a test): set up now
        _structlog()
