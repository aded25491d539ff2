"""structlog set-up: console lines on a terminal, JSON lines otherwise; secrets never leave the process.

Context (order id, message id) is bound with ``structlog.contextvars`` so every line of a request or
a message carries it.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

SECRET_KEYS = frozenset(
    {"password", "ss-password", "ss_password", "webhook_secret", "secret", "api_key", "token", "authorization"}
)
# A key ending like this is a secret too: access_token, admin_token, client_secret, new_password, …
_SECRET_KEY_ENDINGS = ("password", "secret", "token", "api_key", "authorization")
_SECRET_QUERY = re.compile(r"(?i)(ss-password|password|token|secret)=([^&\s\"']+)")


def redact_text(text: str) -> str:
    """Blank the value of secret-looking query parameters in a URL or message."""
    return _SECRET_QUERY.sub(r"\1=***", text)


def _is_secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    name = key.lower()
    return name in SECRET_KEYS or name.replace("-", "_").endswith(_SECRET_KEY_ENDINGS)


def _redact_value(value: Any) -> Any:
    """Strings lose secret query parameters; dicts, lists and tuples are cleaned all the way down."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: "***" if _is_secret_key(k) else _redact_value(v) for k, v in value.items()}
    if type(value) is list:
        return [_redact_value(v) for v in value]
    if type(value) is tuple:
        return tuple(_redact_value(v) for v in value)
    return value


def _redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key in ("_record", "_from_structlog"):
            continue  # stdlib plumbing for ProcessorFormatter, never rendered
        event_dict[key] = "***" if _is_secret_key(key) else _redact_value(event_dict[key])
    return event_dict


def configure_logging(service: str, log_format: str | None = None, level: str = "INFO") -> None:
    fmt = log_format or ("console" if sys.stderr.isatty() else "json")
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # Tracebacks become text before redaction: an exception's message can hold a URL with a secret.
        structlog.processors.format_exc_info,
        _redact,
    ]
    structlog.configure(
        processors=[*shared_processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries (aio-pika, aiohttp, faststream) log through stdlib logging: route them through the same
    # renderer and redaction so their lines look like ours and cannot leak a secret either.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[*shared_processors, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
