"""Structured logs: key=value events on stderr, secrets masked, no prints."""

from __future__ import annotations

import logging
import sys

import structlog

from agent.redact import redact_event


def configure(level: str = "info", *, quiet: bool = False) -> None:
    """Route structlog and the standard library (boto3, SQLAlchemy) through one key=value renderer."""
    numeric = logging.WARNING if quiet else getattr(logging, level.upper(), logging.INFO)
    # Values are rendered with repr() (repr_native_str), so a control character or bidi override from
    # data shows as its escape (`\x1b`, `\u202e`), the notation of `agent.literal`: keep it that way.
    renderer = structlog.processors.KeyValueRenderer(
        key_order=["timestamp", "level", "event"], sort_keys=True, repr_native_str=True
    )
    pre_chain: list[structlog.types.Processor] = [
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_event,
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *pre_chain,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[*pre_chain, structlog.processors.format_exc_info],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "sqlalchemy", "s3transfer"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
